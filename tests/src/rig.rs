//! One rig for the end-to-end tests (after zero2prod's `spawn_app`): a builder starts what a
//! test needs — a fresh Redis, gateways, workers, a media folder and a key prefix of its own
//! — every server on port 0, and the rig stops it all on drop.
//!
//! ```ignore
//! let rig = Rig::builder("retry").workers(1).start().await;
//! let client = rig.subscribed_client("race-1").await;
//! rig.post_photos("race-1", json!({ "photos": [...] })).await;
//! ```

use std::time::Duration;

use finishline_bus::{BusLimits, Keys, ProgressBus, StreamMessage};
use finishline_queue::{Producer, ProducerConfig};
use finishline_wire::{EventCounts, EventId};
use serde_json::Value;

use crate::{
    Gateway, JWT_SECRET, MediaDir, RedisServer, Worker, media_dir, unique_prefix, wait_until,
};

mod http;

/// What a [`Rig`] starts; `Rig::builder` gives one gateway with auth off and no worker.
#[must_use = "call .start() to start the rig"]
pub struct RigBuilder {
    test: String,
    persistent_redis: bool,
    gateways: usize,
    gateway_flags: Vec<String>,
    workers: usize,
    worker_flags: Vec<String>,
    envs: Vec<(String, String)>,
}

impl RigBuilder {
    /// A Redis that keeps every write on disk, for tests that restart it.
    pub fn persistent_redis(mut self) -> Self {
        self.persistent_redis = true;
        self
    }

    /// How many gateways to start (0 for tests that drive the bus alone).
    pub fn gateways(mut self, n: usize) -> Self {
        self.gateways = n;
        self
    }

    /// The gateways' flags instead of `--auth-disabled` (e.g. `--jwt-secret …`).
    pub fn gateway_flags(mut self, flags: &[&str]) -> Self {
        self.gateway_flags = flags.iter().map(|f| (*f).to_owned()).collect();
        self
    }

    /// Gateways with JWT auth on, keyed by [`JWT_SECRET`] (sign with [`crate::token`]),
    /// plus `extra` flags.
    pub fn jwt(mut self, extra: &[&str]) -> Self {
        self.gateway_flags = ["--jwt-secret", JWT_SECRET]
            .iter()
            .chain(extra)
            .map(|f| (*f).to_owned())
            .collect();
        self
    }

    /// Environment variables of every gateway and worker (e.g. the AWS ones of an S3 store).
    pub fn env(mut self, envs: &[(&str, String)]) -> Self {
        self.envs = envs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        self
    }

    /// How many workers to start.
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n;
        self
    }

    /// Extra flags of the workers the builder starts (see [`Worker::start_with`]).
    pub fn worker_flags(mut self, flags: &[&str]) -> Self {
        self.worker_flags = flags.iter().map(|f| (*f).to_owned()).collect();
        self
    }

    /// Starts Redis, then the gateways, then the workers, each once it is ready.
    pub async fn start(self) -> Rig {
        let redis = if self.persistent_redis {
            RedisServer::start_persistent().await
        } else {
            RedisServer::start().await
        };
        let prefix = unique_prefix(&self.test);
        let bus = ProgressBus::new(
            redis.connection().await,
            Keys::new(&prefix),
            BusLimits::default(),
        );
        let mut rig = Rig {
            workers: Vec::new(),
            gateways: Vec::new(),
            media: media_dir(&format!("{}-media", self.test)),
            prefix,
            bus,
            gateway_flags: self.gateway_flags,
            envs: self.envs,
            redis,
        };
        for _ in 0..self.gateways {
            let gateway = rig.start_gateway().await;
            rig.gateways.push(gateway);
        }
        let flags: Vec<&str> = self.worker_flags.iter().map(String::as_str).collect();
        for _ in 0..self.workers {
            let worker = rig.start_worker(&flags).await;
            rig.workers.push(worker);
        }
        rig
    }
}

/// A running set of real processes for one test. Fields drop in order: workers and
/// gateways stop before their media folder goes and before Redis.
pub struct Rig {
    pub workers: Vec<Worker>,
    pub gateways: Vec<Gateway>,
    /// The workers' `--media-root`.
    pub media: MediaDir,
    /// The Redis key prefix of every process of this rig.
    pub prefix: String,
    /// The progress bus of this rig, as a worker sees it, for assertions against Redis.
    pub bus: ProgressBus,
    gateway_flags: Vec<String>,
    envs: Vec<(String, String)>,
    pub redis: RedisServer,
}

impl Rig {
    /// A builder named after the test (the name goes into the prefix and folder names).
    pub fn builder(test: &str) -> RigBuilder {
        RigBuilder {
            test: test.to_owned(),
            persistent_redis: false,
            gateways: 1,
            gateway_flags: vec!["--auth-disabled".to_owned()],
            workers: 0,
            worker_flags: Vec::new(),
            envs: Vec::new(),
        }
    }

    /// The first gateway.
    pub fn gateway(&self) -> &Gateway {
        self.gateways.first().expect("the rig runs a gateway")
    }

    /// The first worker.
    pub fn worker(&self) -> &Worker {
        self.workers.first().expect("the rig runs a worker")
    }

    /// Starts one more gateway with the rig's flags; the caller owns it.
    pub async fn start_gateway(&self) -> Gateway {
        self.start_gateway_on(0).await
    }

    /// Starts a gateway on `port` (the port of one that was killed, so its clients find it
    /// again) with the rig's flags; the caller owns it.
    pub async fn start_gateway_on(&self, port: u16) -> Gateway {
        let flags: Vec<&str> = self.gateway_flags.iter().map(String::as_str).collect();
        Gateway::start_with_env(port, self.redis.url(), &self.prefix, &flags, &self.envs()).await
    }

    fn envs(&self) -> Vec<(&str, &str)> {
        self.envs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    /// A producer on the rig's Redis and prefix, as a Rust processor enqueues.
    pub async fn producer(&self) -> Producer {
        let keys = Keys::new(&self.prefix);
        Producer::new(
            self.redis.connection().await,
            keys,
            ProducerConfig::default(),
        )
    }

    /// Starts one more worker with `extra` flags; the caller owns it (to kill it, say).
    pub async fn start_worker(&self, extra: &[&str]) -> Worker {
        let (redis, media, envs) = (self.redis.url(), &self.media, self.envs());
        Worker::start_with_env(redis, &self.prefix, media, extra, &envs).await
    }
}

/// Waits on the progress bus: what Redis holds, whatever a client saw.
impl Rig {
    /// The whole history of `event`, in seq order.
    pub async fn history(&self, event: &str) -> Vec<StreamMessage> {
        let event = EventId::parse(event).expect("event id");
        self.bus
            .history_range(&event, 0, u64::MAX, 100_000)
            .await
            .expect("read the history")
    }

    /// The bodies of the messages named `name` in the history of `event`, in seq order.
    pub async fn message_bodies(&self, event: &str, name: &str) -> Vec<Value> {
        self.history(event)
            .await
            .iter()
            .filter(|m| m.name.as_str() == name)
            .map(|m| serde_json::from_str(m.data.get()).expect("a JSON body"))
            .collect()
    }

    /// Waits (60 s at most) until the counts of `event` satisfy `condition`.
    pub async fn wait_snapshot(
        &self,
        event: &str,
        what: &str,
        condition: impl Fn(&EventCounts) -> bool,
    ) {
        self.wait_snapshot_for(event, what, Duration::from_secs(60), condition)
            .await;
    }

    /// Waits until every photo of `event` was processed (at least one was enqueued).
    pub async fn wait_completed(&self, event: &str, timeout: Duration) {
        self.wait_snapshot_for(event, &format!("event {event} completes"), timeout, |c| {
            c.total_photos > 0 && c.processed_photos == c.total_photos
        })
        .await;
    }

    /// Waits until `total` jobs of `event`, photos and videos, have ended.
    pub async fn wait_jobs_ended(&self, event: &str, total: u64, timeout: Duration) {
        let what = format!("{total} jobs of {event} end");
        self.wait_snapshot_for(event, &what, timeout, |c| {
            c.processed_photos + c.processed_videos >= total
        })
        .await;
    }

    /// Waits until the counts of `event` satisfy `condition`, `timeout` at most.
    pub async fn wait_snapshot_for(
        &self,
        event: &str,
        what: &str,
        timeout: Duration,
        condition: impl Fn(&EventCounts) -> bool,
    ) {
        let event_id = EventId::parse(event).expect("event id");
        wait_until(what, timeout, || {
            let snapshot = self.bus.snapshot(&event_id);
            let condition = &condition;
            async move { snapshot.await.is_ok_and(|s| condition(&s.counts)) }
        })
        .await;
    }

    /// Waits (30 s at most) until the history of `event` holds a message named `name`.
    pub async fn wait_message(&self, event: &str, name: &str) {
        let event_id = EventId::parse(event).expect("event id");
        wait_until(
            &format!("a {name} of {event}"),
            Duration::from_secs(30),
            || {
                let history = self.bus.history_range(&event_id, 0, u64::MAX, 100_000);
                async move {
                    history
                        .await
                        .is_ok_and(|h| h.iter().any(|m| m.name.as_str() == name))
                }
            },
        )
        .await;
    }
}
