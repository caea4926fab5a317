//! A throw-away `redis-server` per test, on a free loopback port, killed on drop: standalone,
//! or a one-node Redis Cluster owning every slot. A single node still refuses a script or a
//! multi-key command whose keys hash to different slots (CROSSSLOT), so every script run on
//! it proves the key layout slot-safe.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    dir: Option<PathBuf>,
    pub url: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Server {
    pub fn start() -> Self {
        Self::spawn(&[], None)
    }

    /// A one-node cluster: `--cluster-enabled yes`, every slot added to the node, ready once
    /// `CLUSTER INFO` says `cluster_state:ok`.
    pub fn start_cluster() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "fl-redis-cluster-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).expect("cluster dir");
        let config = dir.join("nodes.conf");
        let server = Self::spawn(
            &[
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                config.to_str().expect("utf-8 path"),
                "--dir",
                dir.to_str().expect("utf-8 path"),
            ],
            Some(dir.clone()),
        );
        let mut conn = server.blocking_conn();
        let _: () = redis::cmd("CLUSTER")
            .arg("ADDSLOTSRANGE")
            .arg(0)
            .arg(16383)
            .query(&mut conn)
            .expect("addslotsrange");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let info: String = redis::cmd("CLUSTER")
                .arg("INFO")
                .query(&mut conn)
                .expect("cluster info");
            if info.contains("cluster_state:ok") {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "cluster did not become ok: {info}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn spawn(extra: &[&str], dir: Option<PathBuf>) -> Self {
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (deploy/local/install-deps.sh installs it)");
        let server = Self {
            child,
            dir,
            url: format!("redis://127.0.0.1:{port}"),
        };
        let client = redis::Client::open(server.url.as_str()).expect("url");
        let deadline = Instant::now() + Duration::from_secs(10);
        while client.get_connection().is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
        server
    }

    fn blocking_conn(&self) -> redis::Connection {
        redis::Client::open(self.url.as_str())
            .expect("url")
            .get_connection()
            .expect("connect")
    }

    pub async fn conn(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url.as_str())
            .expect("url")
            .get_multiplexed_async_connection()
            .await
            .expect("connect")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
