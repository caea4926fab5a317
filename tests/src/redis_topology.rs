//! Redis topologies started by a test: a primary, its replica and three sentinels on loopback
//! ([`SentinelTopology`]), with quick failure detection, a primary to `kill -9` and a way to
//! bring the killed server back as a replica.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::{free_port, wait_until};

/// The name the sentinels monitor the primary under.
pub const MASTER_NAME: &str = "flmaster";

/// A `redis-server` (data node or sentinel) the test owns, killed on drop.
pub struct RedisProcess {
    child: Option<Child>,
    pub port: u16,
}

impl RedisProcess {
    fn spawn(args: &[String]) -> Self {
        let port_at = args.iter().position(|a| a == "--port").expect("--port");
        let port = args[port_at + 1].parse().expect("port number");
        let child = Command::new("redis-server")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (deploy/local/install-deps.sh)");
        Self {
            child: Some(child),
            port,
        }
    }

    /// `kill -9`: no shutdown, no last replication, like a crashed machine.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-KILL", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One primary, one replica, three sentinels (quorum 2), on loopback, in a folder of their own.
pub struct SentinelTopology {
    /// The data nodes, in start order: first the initial primary, then its replica.
    pub nodes: Vec<RedisProcess>,
    pub sentinels: Vec<RedisProcess>,
    dir: PathBuf,
}

/// A data node's flags; `replica_of` makes it a replica of that port.
fn data_node_args(port: u16, dir: &Path, replica_of: Option<u16>) -> Vec<String> {
    let mut args: Vec<String> = [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--repl-diskless-sync",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
        "--dir",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.push(dir.display().to_string());
    if let Some(primary) = replica_of {
        args.extend([
            "--replicaof".into(),
            "127.0.0.1".into(),
            primary.to_string(),
        ]);
    }
    args
}

/// A sentinel's config file (sentinels rewrite theirs, so each gets its own) and flags.
fn sentinel_args(port: u16, dir: &Path, primary: u16) -> Vec<String> {
    let conf = dir.join(format!("sentinel-{port}.conf"));
    let text = format!(
        "port {port}\nbind 127.0.0.1\ndir {dir}\n\
         sentinel monitor {MASTER_NAME} 127.0.0.1 {primary} 2\n\
         sentinel down-after-milliseconds {MASTER_NAME} 1000\n\
         sentinel failover-timeout {MASTER_NAME} 4000\n\
         sentinel parallel-syncs {MASTER_NAME} 1\n",
        dir = dir.display()
    );
    std::fs::write(&conf, text).expect("write the sentinel config");
    vec![
        conf.display().to_string(),
        "--sentinel".into(),
        "--port".into(),
        port.to_string(),
    ]
}

impl SentinelTopology {
    /// Starts the primary, its replica and three sentinels, and returns once the replica is in
    /// sync and every sentinel sees the replica and the two other sentinels (a failover needs
    /// a majority that knows each other).
    pub async fn start(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "finishline-sentinel-{test}-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).expect("topology folder");
        let primary = free_port();
        let replica = free_port();
        let nodes = vec![
            RedisProcess::spawn(&data_node_args(primary, &dir, None)),
            RedisProcess::spawn(&data_node_args(replica, &dir, Some(primary))),
        ];
        let topology = Self {
            nodes,
            sentinels: (0..3)
                .map(|_| RedisProcess::spawn(&sentinel_args(free_port(), &dir, primary)))
                .collect(),
            dir,
        };
        topology.wait_replicated(primary).await;
        for sentinel in &topology.sentinels {
            let port = sentinel.port;
            wait_until(
                &format!("sentinel {port} knows the replica and two other sentinels"),
                Duration::from_secs(30),
                || async move {
                    let master = sentinel_master(port).await.unwrap_or_default();
                    field(&master, "num-slaves") == Some("1")
                        && field(&master, "num-other-sentinels") == Some("2")
                },
            )
            .await;
        }
        topology
    }

    /// `redis+sentinel://` URL of this topology, for `--redis-url`.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .sentinels
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.port))
            .collect();
        format!("redis+sentinel://{}/{MASTER_NAME}", hosts.join(","))
    }

    /// The port of the primary the sentinels name now.
    pub async fn primary_port(&self) -> Option<u16> {
        for sentinel in &self.sentinels {
            let reply: Option<(String, String)> = query(
                sentinel.port,
                redis::cmd("SENTINEL")
                    .arg("get-master-addr-by-name")
                    .arg(MASTER_NAME),
            )
            .await;
            if let Some(port) = reply.and_then(|(_, port)| port.parse().ok()) {
                return Some(port);
            }
        }
        None
    }

    /// `kill -9` of the current primary; returns its port.
    pub async fn kill_primary(&mut self) -> u16 {
        let port = self
            .primary_port()
            .await
            .expect("the sentinels name a primary");
        self.nodes
            .iter_mut()
            .find(|n| n.port == port && n.is_running())
            .expect("the primary is one of ours")
            .kill9();
        port
    }

    /// Waits until the sentinels name a primary other than `old` that answers as one; returns
    /// its port and when it was first seen.
    pub async fn wait_promoted(&self, old: u16, timeout: Duration) -> (u16, Instant) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(port) = self.primary_port().await
                && port != old
                && role(port).await.as_deref() == Some("master")
            {
                return (port, Instant::now());
            }
            assert!(
                Instant::now() < deadline,
                "no replica was promoted within {timeout:?} of killing the primary on {old}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Starts the killed server on `port` again, as a replica of `primary` (what sentinel
    /// would make it), and waits until it is in sync: `WAIT 1` can then succeed again.
    pub async fn restart_as_replica(&mut self, port: u16, primary: u16) {
        let node = RedisProcess::spawn(&data_node_args(port, &self.dir, Some(primary)));
        if let Some(slot) = self.nodes.iter_mut().find(|n| n.port == port) {
            *slot = node;
        }
        self.wait_replicated(primary).await;
    }

    /// Waits until `primary` has a replica online.
    async fn wait_replicated(&self, primary: u16) {
        wait_until(
            &format!("the primary on {primary} has a replica online"),
            Duration::from_secs(30),
            || async move {
                let info: Option<String> =
                    query(primary, redis::cmd("INFO").arg("replication")).await;
                info.is_some_and(|i| {
                    i.lines()
                        .any(|l| l.starts_with("slave0:") && l.contains("state=online"))
                })
            },
        )
        .await;
    }
}

impl Drop for SentinelTopology {
    fn drop(&mut self) {
        self.sentinels.clear();
        self.nodes.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One command to the server on `port`, on a fresh connection; `None` when it does not answer.
async fn query<T: redis::FromRedisValue>(port: u16, cmd: &redis::Cmd) -> Option<T> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).ok()?;
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(500)))
        .set_response_timeout(Some(Duration::from_millis(500)));
    let mut conn = client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .ok()?;
    cmd.query_async(&mut conn).await.ok()
}

/// `ROLE` of the server on `port`: `master`, `slave`, or `None`.
async fn role(port: u16) -> Option<String> {
    let reply: Option<Vec<redis::Value>> = query(port, &redis::cmd("ROLE")).await;
    match reply?.first()? {
        redis::Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        redis::Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

/// `SENTINEL MASTER <name>` of the sentinel on `port`, as field/value pairs.
async fn sentinel_master(port: u16) -> Option<Vec<(String, String)>> {
    let flat: Vec<String> =
        query(port, redis::cmd("SENTINEL").arg("master").arg(MASTER_NAME)).await?;
    Some(
        flat.chunks(2)
            .filter_map(|pair| Some((pair.first()?.clone(), pair.get(1)?.clone())))
            .collect(),
    )
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
