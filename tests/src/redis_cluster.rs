//! A throw-away Redis Cluster on loopback: 3 primaries and 3 replicas (`redis-server
//! --cluster-enabled yes`, joined by `redis-cli --cluster create … --cluster-replicas 1`), with
//! a short node timeout so a killed primary's replica takes over within seconds. `start`
//! returns once every replica has synced with its primary. Every node is killed and its folder
//! removed on drop.
//!
//! Each node gets its cluster bus port (`--cluster-port`) from the OS like its client port.
//! By default Redis takes the client port + 10000. That port may be in use by some other
//! socket, and above client port 55535 Redis refuses to start at all. A node that exits at
//! start (a port taken between the OS's answer and the bind) is started again on new ports.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::free_port;
use crate::redis_server::server_pid;

/// How long a node may be silent before its replica takes over.
const NODE_TIMEOUT_MS: u64 = 1_000;

struct Node {
    port: u16,
    bus_port: u16,
    child: Option<Child>,
}

/// How many times a node is started on fresh ports before the cluster gives up.
const START_ATTEMPTS: usize = 3;
/// How long a starting node may take to answer.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running cluster.
pub struct RedisCluster {
    nodes: Vec<Node>,
    dir: PathBuf,
}

impl RedisCluster {
    /// Starts 3 primaries + 3 replicas and waits until every node says `cluster_state:ok`.
    pub async fn start() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "finishline-cluster-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).expect("cluster dir");
        let mut cluster = Self {
            nodes: Vec::new(),
            dir,
        };
        for _ in 0..6 {
            let node = cluster.start_node().await;
            cluster.nodes.push(node);
        }
        let addresses: Vec<String> = cluster
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .expect("redis-cli must be installed");
        assert!(
            created.status.success(),
            "redis-cli --cluster create: {}",
            String::from_utf8_lossy(&created.stderr)
        );
        cluster.wait_ok(Duration::from_secs(30)).await;
        cluster.wait_replicated(Duration::from_secs(30)).await;
        cluster
    }

    /// Waits until every replica's link to its primary is up and every primary has a replica
    /// online. Until then a write that waits for a replica (`--durability replicated`) times
    /// out: a fresh cluster says `cluster_state:ok` before its replicas have synced.
    pub async fn wait_replicated(&self, timeout: Duration) {
        self.wait_every_node(timeout, ["INFO", "replication"], "replicating", |info| {
            if info.contains("role:master") {
                info.contains("state=online")
            } else {
                info.contains("master_link_status:up")
            }
        })
        .await;
    }

    /// Waits until what every live node answers to `command` satisfies `ready`; panics after
    /// `timeout` with the node's last answer, as not `what`.
    async fn wait_every_node(
        &self,
        timeout: Duration,
        command: [&str; 2],
        what: &str,
        ready: impl Fn(&str) -> bool,
    ) {
        let deadline = Instant::now() + timeout;
        for node in self.nodes.iter().filter(|n| n.child.is_some()) {
            loop {
                let answer = info(node.port, command).await.unwrap_or_default();
                if ready(&answer) {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "node {} not {what}: {answer}",
                    node.port
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    /// A new node on ports the OS says are free, answering; tried again on other ports when
    /// it cannot start.
    async fn start_node(&self) -> Node {
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let bus_port = std::iter::repeat_with(free_port)
                .find(|&bus| bus != port)
                .expect("a second free port");
            let mut node = Node {
                port,
                bus_port,
                child: Some(self.spawn(port, bus_port)),
            };
            match self.answers(&mut node).await {
                Ok(()) => return node,
                Err(why) => failures.push(why),
            }
        }
        panic!("no redis-server node would start: {failures:#?}");
    }

    fn spawn(&self, port: u16, bus_port: u16) -> Child {
        let dir = self.node_dir(port);
        std::fs::create_dir_all(&dir).expect("node dir");
        Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--cluster-port", &bus_port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .args(["--cluster-enabled", "yes"])
            .args(["--cluster-node-timeout", &NODE_TIMEOUT_MS.to_string()])
            .arg("--cluster-config-file")
            .arg(dir.join("nodes.conf"))
            .arg("--dir")
            .arg(&dir)
            .arg("--logfile")
            .arg(dir.join("redis.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed")
    }

    fn node_dir(&self, port: u16) -> PathBuf {
        self.dir.join(port.to_string())
    }

    /// Waits until `node` answers: a server on its port reports the node's process id (another
    /// test's Redis may have taken the port first). When it exits first or stays silent, it is
    /// stopped and the error holds the end of its log.
    async fn answers(&self, node: &mut Node) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        let child = node.child.as_mut().expect("a started node");
        let url = format!("redis://127.0.0.1:{}", node.port);
        let why = loop {
            if server_pid(&url).await == Some(child.id()) {
                return Ok(());
            }
            if let Ok(Some(status)) = child.try_wait() {
                break format!("exited ({status})");
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                break format!("silent for {START_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        node.child = None;
        let log =
            std::fs::read_to_string(self.node_dir(node.port).join("redis.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(3).collect();
        Err(format!(
            "redis-server on {} (bus {}) {why}: {}",
            node.port,
            node.bus_port,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        ))
    }

    /// `redis+cluster://` with every node, as REDIS_URL.
    pub fn url(&self) -> String {
        let nodes: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        format!("redis+cluster://{}", nodes.join(","))
    }

    /// A cluster connection for assertions made straight against Redis.
    pub async fn connection(&self) -> finishline_redis::RedisConn {
        let topology = finishline_redis::Topology::parse(&self.url()).expect("cluster url");
        let options = finishline_redis::ConnOptions::new(Duration::from_secs(10));
        finishline_redis::RedisConn::connect(&topology, options)
            .await
            .expect("connect to the test cluster")
    }

    /// Waits until every live node reports `cluster_state:ok`.
    pub async fn wait_ok(&self, timeout: Duration) {
        self.wait_every_node(timeout, ["CLUSTER", "INFO"], "ok", |info| {
            info.contains("cluster_state:ok")
        })
        .await;
    }

    /// Kills (SIGKILL) the primary serving `key`; returns its port.
    pub async fn kill_primary_of(&mut self, key: &str) -> u16 {
        let port = self.primary_of(key).await;
        let node = self
            .nodes
            .iter_mut()
            .find(|n| n.port == port)
            .expect("the primary is ours");
        let mut child = node.child.take().expect("the primary runs");
        let _ = child.kill();
        let _ = child.wait();
        port
    }

    /// Starts a killed node again on its port and folder: with its cluster config it rejoins,
    /// as a replica of the node that took over its slots.
    pub async fn restart(&mut self, port: u16) {
        let at = self
            .nodes
            .iter()
            .position(|n| n.port == port)
            .expect("a node of ours");
        let mut node = Node {
            port,
            bus_port: self.nodes[at].bus_port,
            child: None,
        };
        assert!(self.nodes[at].child.is_none(), "the node runs already");
        node.child = Some(self.spawn(port, node.bus_port));
        if let Err(why) = self.answers(&mut node).await {
            panic!("{why}");
        }
        self.nodes[at] = node;
    }

    /// The port of the primary serving `key`, as a live node sees it.
    pub async fn primary_of(&self, key: &str) -> u16 {
        let live = self
            .nodes
            .iter()
            .find(|n| n.child.is_some())
            .expect("a live node");
        let mut conn = connect(live.port).await.expect("a live node answers");
        let slot: u16 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(key)
            .query_async(&mut conn)
            .await
            .expect("keyslot");
        let shards: Vec<redis::Value> = redis::cmd("CLUSTER")
            .arg("SLOTS")
            .query_async(&mut conn)
            .await
            .expect("cluster slots");
        for shard in shards {
            let redis::Value::Array(parts) = shard else {
                continue;
            };
            let number = |v: &redis::Value| redis::from_redis_value_ref::<u16>(v).ok();
            let (Some(start), Some(end)) = (number(&parts[0]), number(&parts[1])) else {
                continue;
            };
            if (start..=end).contains(&slot)
                && let redis::Value::Array(primary) = &parts[2]
            {
                return number(&primary[1]).expect("primary port");
            }
        }
        panic!("no primary serves slot {slot}");
    }
}

async fn connect(port: u16) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
    redis::Client::open(format!("redis://127.0.0.1:{port}"))?
        .get_multiplexed_async_connection()
        .await
}

/// A node's answer to an info command (`CLUSTER INFO`, `INFO replication`).
async fn info(port: u16, [name, arg]: [&str; 2]) -> Option<String> {
    let mut conn = connect(port).await.ok()?;
    redis::cmd(name).arg(arg).query_async(&mut conn).await.ok()
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
