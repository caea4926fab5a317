//! A throw-away `redis-server` on a free port, or the one named by `REDIS_URL`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::process::{free_port, wait_until};

/// A Redis the test owns (killed on drop), or a shared one from `REDIS_URL`.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    url: String,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts a fresh `redis-server` (or uses `REDIS_URL` when set).
    pub async fn start() -> Self {
        if let Ok(url) = std::env::var("REDIS_URL") {
            return Self {
                child: None,
                port: 0,
                url,
                dir: std::env::temp_dir(),
            };
        }
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("finishline-redis-{port}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir for redis");
        let child = Self::spawn(port, &dir);
        let server = Self {
            child: Some(child),
            port,
            url: format!("redis://127.0.0.1:{port}"),
            dir,
        };
        server.wait_ready().await;
        server
    }

    /// Starts a `redis-server` that keeps every write on disk (AOF, fsync always), so it can
    /// be restarted mid-test without losing what it acknowledged. Ignores `REDIS_URL`.
    pub async fn start_persistent() -> Self {
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("finishline-redis-{port}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir for redis");
        let child = Self::spawn_with(port, &dir, true);
        let server = Self {
            child: Some(child),
            port,
            url: format!("redis://127.0.0.1:{port}"),
            dir,
        };
        server.wait_ready().await;
        server
    }

    /// Stops the server (SIGTERM: it syncs its AOF and exits) and returns once it is down.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and data folder.
    pub async fn start_again(&mut self) {
        assert!(self.child.is_none(), "stop() first");
        self.child = Some(Self::spawn_with(self.port, &self.dir, true));
        self.wait_ready().await;
    }

    fn spawn(port: u16, dir: &std::path::Path) -> Child {
        Self::spawn_with(port, dir, false)
    }

    fn spawn_with(port: u16, dir: &std::path::Path, persistent: bool) -> Child {
        let persistence: &[&str] = if persistent {
            &["--appendonly", "yes", "--appendfsync", "always"]
        } else {
            &["--appendonly", "no"]
        };
        Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(persistence)
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (the test command installs it): apt-get install redis-server")
    }

    async fn wait_ready(&self) {
        let url = self.url.clone();
        wait_until("redis-server answers PING", Duration::from_secs(10), || {
            let url = url.clone();
            async move {
                let Ok(client) = redis::Client::open(url.as_str()) else {
                    return false;
                };
                let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
                    return false;
                };
                redis::cmd("PING")
                    .query_async::<String>(&mut conn)
                    .await
                    .is_ok()
            }
        })
        .await;
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// A connection for assertions made straight against Redis.
    pub async fn connection(&self) -> redis::aio::ConnectionManager {
        redis::Client::open(self.url.as_str())
            .expect("redis url")
            .get_connection_manager()
            .await
            .expect("connect to test redis")
    }

    /// Port of a server this test owns (0 when `REDIS_URL` is used).
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
