//! A throw-away `redis-server` on a free port, or the one named by `REDIS_URL`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::free_port;

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
        Self::start_owned(false).await
    }

    /// Starts a `redis-server` that keeps every write on disk (AOF, fsync always), so it can
    /// be restarted mid-test without losing what it acknowledged. Ignores `REDIS_URL`.
    pub async fn start_persistent() -> Self {
        Self::start_owned(true).await
    }

    /// Redis cannot bind port 0 and report it, so: a port that was free, then a check that
    /// the server answering there is the one just started; another port when it lost the race.
    async fn start_owned(persistent: bool) -> Self {
        for _ in 0..5 {
            let port = free_port();
            let dir = std::env::temp_dir()
                .join(format!("finishline-redis-{port}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("temp dir for redis");
            let mut server = Self {
                child: Some(Self::spawn_with(port, &dir, persistent)),
                port,
                url: format!("redis://127.0.0.1:{port}"),
                dir,
            };
            if server.wait_ready().await {
                return server;
            }
            let _ = std::fs::remove_dir_all(&server.dir);
        }
        panic!("redis-server lost the race for a free port five times");
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
        assert!(
            self.wait_ready().await,
            "redis-server could not bind port {} again",
            self.port
        );
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

    /// Waits until our child answers on its port: true once a server there reports our
    /// child's process id, false when the child exits (it could not bind the port).
    async fn wait_ready(&mut self) -> bool {
        let child = self.child.as_mut().expect("a child to wait for");
        let pid = child.id();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if child.try_wait().expect("try_wait").is_some() {
                self.child = None;
                return false;
            }
            if server_pid(&self.url).await == Some(pid) {
                return true;
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// A connection for assertions made straight against Redis.
    pub async fn connection(&self) -> finishline_redis::RedisConn {
        let topology = finishline_redis::Topology::parse(&self.url).expect("redis url");
        let options = finishline_redis::ConnOptions::new(Duration::from_secs(10));
        finishline_redis::RedisConn::connect(&topology, options)
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

/// The process id of the Redis answering at `url` (`INFO server`), if one answers.
pub(crate) async fn server_pid(url: &str) -> Option<u32> {
    let client = redis::Client::open(url).ok()?;
    let mut conn = client.get_multiplexed_async_connection().await.ok()?;
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(&mut conn)
        .await
        .ok()?;
    info.lines()
        .find_map(|line| line.strip_prefix("process_id:"))
        .and_then(|pid| pid.trim().parse().ok())
}
