//! The worker as a real process, its health and metrics server on port 0.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use crate::process::{Managed, models_dir};

/// The log line in which the worker names the address of its health and metrics server
/// (bins/worker `http::serve`); it comes after "worker started".
const LISTENING: &str = "health and metrics listening";

/// A running worker, killed on drop.
pub struct Worker {
    process: Managed,
    /// Address of its health and metrics server.
    pub http_addr: SocketAddr,
    pub http_port: u16,
}

/// The flags every test worker gets: its Redis, key prefix and media folder, health server on
/// port 0.
fn base_args(redis_url: &str, prefix: &str, media_root: &Path) -> Vec<String> {
    vec![
        "--http-listen".into(),
        "127.0.0.1:0".into(),
        "--redis-url".into(),
        redis_url.into(),
        "--key-prefix".into(),
        prefix.into(),
        "--media-root".into(),
        media_root.display().to_string(),
    ]
}

impl Worker {
    pub async fn start(redis_url: &str, prefix: &str, media_root: &Path) -> Self {
        Self::start_with(redis_url, prefix, media_root, &[]).await
    }

    /// Starts a worker with extra flags.
    pub async fn start_with(
        redis_url: &str,
        prefix: &str,
        media_root: &Path,
        extra: &[&str],
    ) -> Self {
        Self::start_with_env(redis_url, prefix, media_root, extra, &[]).await
    }

    /// Starts a worker with extra flags and `envs` set in its environment (e.g. the AWS
    /// variables of an S3 artifact store).
    pub async fn start_with_env(
        redis_url: &str,
        prefix: &str,
        media_root: &Path,
        extra: &[&str],
        envs: &[(&str, &str)],
    ) -> Self {
        let mut args = base_args(redis_url, prefix, media_root);
        // Test defaults, each unless `extra` sets it (clap refuses a flag given twice).
        let models = models_dir().display().to_string();
        for (flag, value) in [
            ("--concurrency", "4"),
            ("--heartbeat-interval", "1s"),
            ("--missed-heartbeats", "3"),
            ("--models-dir", models.as_str()),
        ] {
            if !extra.contains(&flag) {
                args.extend([flag.to_owned(), value.to_owned()]);
            }
        }
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let mut process = Managed::spawn("finishline-worker", &args, envs);
        let http_addr = process.wait_logged_addr(LISTENING).await;
        Self {
            process,
            http_addr,
            http_port: http_addr.port(),
        }
    }

    pub fn log(&self) -> String {
        self.process.log_text()
    }

    /// Starts a worker that is expected to refuse to start: returns its exit code and log.
    pub async fn start_expecting_exit(
        redis_url: &str,
        prefix: &str,
        media_root: &Path,
        extra: &[&str],
    ) -> (Option<i32>, String) {
        let mut args = base_args(redis_url, prefix, media_root);
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let mut process = Managed::spawn("finishline-worker", &args, &[]);
        let code = process.wait_exit(Duration::from_secs(20)).await;
        (code, process.log_text())
    }

    /// URL of a route of its health and metrics server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http_addr)
    }

    /// SIGKILL: the worker dies mid-job, as on a crash or an OOM kill.
    pub async fn kill(mut self) {
        self.process.signal("-KILL");
        self.process.wait_exit(Duration::from_secs(10)).await;
    }

    /// SIGTERM, then the exit code once it has stopped.
    pub async fn terminate(mut self, timeout: Duration) -> Option<i32> {
        self.process.signal("-TERM");
        self.process.wait_exit(timeout).await
    }
}
