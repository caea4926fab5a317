//! The worker and the gateway as real processes.

use std::future::Future;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Path of a workspace binary built by `cargo build` (the test command builds them first).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace` before the tests (tests/run.sh does)",
        path.display()
    );
    path
}

/// The recognition models folder the workers of the tests use: `FINISHLINE_MODELS_DIR`, or
/// `models/` at the repository root (deploy/local/install-deps.sh fills it).
pub fn models_dir() -> PathBuf {
    std::env::var_os("FINISHLINE_MODELS_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../models"),
        PathBuf::from,
    )
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A key prefix no other test uses.
pub fn unique_prefix(test: &str) -> String {
    format!("fltest-{test}-{}-{}", std::process::id(), free_port())
}

/// Waits for `condition` with a deadline; panics naming `what` when it never holds.
pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if condition().await {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A child process killed on drop, its log kept in a file for post-mortems.
struct Managed {
    child: Child,
    log: PathBuf,
}

impl Managed {
    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill {signal} failed");
    }

    /// Waits for the process to exit and returns its exit code.
    async fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "process did not exit within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn spawn(name: &str, args: &[String], envs: &[(&str, &str)]) -> Self {
        let log =
            std::env::temp_dir().join(format!("{name}-{}-{}.log", std::process::id(), free_port()));
        let file = std::fs::File::create(&log).expect("log file");
        let mut command = Command::new(binary(name));
        command
            .args(args)
            .env("RUST_LOG", "info,finishline=debug")
            .stdout(Stdio::null())
            .stderr(file);
        for (k, v) in envs {
            command.env(k, v);
        }
        let child = command.spawn().expect("spawn binary");
        Self { child, log }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Managed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "---- log of {} ----\n{}",
                self.log.display(),
                self.log_text()
            );
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// A running gateway with auth switched off.
pub struct Gateway {
    process: Managed,
    pub port: u16,
}

impl Gateway {
    pub async fn start(redis_url: &str, prefix: &str) -> Self {
        Self::start_with(redis_url, prefix, &["--auth-disabled"]).await
    }

    /// Starts a gateway with extra flags (e.g. `--jwt-secret …` instead of `--auth-disabled`).
    pub async fn start_with(redis_url: &str, prefix: &str, extra: &[&str]) -> Self {
        Self::start_on(free_port(), redis_url, prefix, extra).await
    }

    /// Starts a gateway on a given port (to restart one where clients expect it).
    pub async fn start_on(port: u16, redis_url: &str, prefix: &str, extra: &[&str]) -> Self {
        let mut args = vec![
            "--listen".into(),
            format!("127.0.0.1:{port}"),
            "--redis-url".into(),
            redis_url.into(),
            "--key-prefix".into(),
            prefix.into(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let process = Managed::spawn("finishline-gateway", &args, &[]);
        let gateway = Self { process, port };
        let url = gateway.url("/readyz");
        wait_until(
            "gateway /readyz answers 200",
            Duration::from_secs(20),
            || {
                let url = url.clone();
                async move {
                    reqwest::get(&url)
                        .await
                        .is_ok_and(|r| r.status().is_success())
                }
            },
        )
        .await;
        gateway
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn log(&self) -> String {
        self.process.log_text()
    }

    /// Kills the gateway with SIGKILL and waits until it is gone.
    pub async fn kill(mut self) {
        self.process.signal("-KILL");
        self.process.wait_exit(Duration::from_secs(10)).await;
    }
}

/// A running worker.
pub struct Worker {
    process: Managed,
    /// Port of its health and metrics server.
    pub http_port: u16,
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
        let http_port = free_port();
        let mut args = vec![
            "--http-listen".into(),
            format!("127.0.0.1:{http_port}"),
            "--redis-url".into(),
            redis_url.into(),
            "--key-prefix".into(),
            prefix.into(),
            "--media-root".into(),
            media_root.display().to_string(),
        ];
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
        let process = Managed::spawn("finishline-worker", &args, &[]);
        let worker = Self { process, http_port };
        wait_until(
            "worker logs that it started",
            Duration::from_secs(20),
            || {
                let started = worker.log().contains("worker started");
                async move { started }
            },
        )
        .await;
        worker
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
        let mut args = vec![
            "--http-listen".into(),
            format!("127.0.0.1:{}", free_port()),
            "--redis-url".into(),
            redis_url.into(),
            "--key-prefix".into(),
            prefix.into(),
            "--media-root".into(),
            media_root.display().to_string(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let mut process = Managed::spawn("finishline-worker", &args, &[]);
        let code = process.wait_exit(Duration::from_secs(20)).await;
        (code, process.log_text())
    }

    /// URL of a route of its health and metrics server.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http_port)
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
