//! The apalis-redis backend as the worker uses it.
//!
//! Settings chosen against the defects measured on apalis-redis 1.0.0 (see ARCHITECTURE.md):
//! jobs fetched in batches (one Lua call for several jobs) with [`keep_alive`] beating for the
//! worker on its own timer, because apalis only heartbeats when the worker asks for more work
//! (a busy worker would otherwise miss heartbeats and lose its jobs to others);
//! `lock_tasks(false)` to avoid an O(backlog) LREM per job; short heartbeats so a dead worker's
//! jobs are recovered within seconds, not minutes; a poll stream that re-arms a tokio
//! interval, because the built-in interval strategy loses wake-ups.

use std::time::Duration;

use apalis_redis::{Config, RedisStorage};
use finishline_bus::Keys;
use finishline_wire::JobKind;
use redis::aio::ConnectionManager;

/// Timing of a worker's queue consumption.
#[derive(Debug, Clone, Copy)]
pub struct WorkerTuning {
    /// How often the worker tells Redis it is alive.
    pub heartbeat_interval: Duration,
    /// Heartbeats a worker may miss before its jobs are given to others.
    pub missed_heartbeats: usize,
    /// Jobs taken from the queue in one call. They wait in the worker, counted as its own,
    /// until a slot frees up.
    pub fetch_batch: usize,
}

impl Default for WorkerTuning {
    fn default() -> Self {
        Self {
            heartbeat_interval: Duration::from_secs(3),
            missed_heartbeats: 5,
            fetch_batch: 16,
        }
    }
}

/// The apalis-redis storage of one kind of job.
pub fn worker_storage<Args>(
    conn: ConnectionManager,
    keys: &Keys,
    kind: JobKind,
    tuning: WorkerTuning,
) -> RedisStorage<Args> {
    let config = Config::default()
        .queue(keys.queue(kind))
        .batch_size(tuning.fetch_batch.max(1))
        .lock_tasks(false)
        .emit_events(false)
        .heartbeat_interval(tuning.heartbeat_interval)
        .missed_heartbeats(tuning.missed_heartbeats)
        .idempotency_ttl(Some(Duration::from_secs(24 * 3600)));
    RedisStorage::new(conn).with_config(config)
}

/// Beats for worker `worker_name` of a queue every `interval` until dropped, whether or not
/// the worker is asking for work. Only refreshes a registration apalis made (`ZADD XX`): a worker
/// that apalis has not registered yet, or that others have declared dead, stays so.
pub async fn keep_alive(
    mut conn: ConnectionManager,
    keys: &Keys,
    kind: JobKind,
    worker_name: &str,
    interval: Duration,
) -> std::convert::Infallible {
    let workers = format!("{}:workers", keys.queue(kind));
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let beat: Result<u64, _> = redis::cmd("ZADD")
            .arg(&workers)
            .arg("XX")
            .arg(now)
            .arg(worker_name)
            .query_async(&mut conn)
            .await;
        if let Err(err) = beat {
            tracing::warn!(error = %err, worker = worker_name, "heartbeat failed");
        }
    }
}
