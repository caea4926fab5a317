//! The apalis-redis backend as the worker uses it.
//!
//! Settings chosen against the defects measured on apalis-redis 1.0.0 (see ARCHITECTURE.md):
//! `batch_size(1)` so a busy worker never starves its heartbeat and loses prefetched jobs to
//! another worker; `lock_tasks(false)` to avoid an O(backlog) LREM per job; short heartbeats so
//! a dead worker's jobs are recovered within seconds, not minutes; a poll stream that re-arms
//! a tokio interval, because the built-in interval strategy loses wake-ups.

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
}

impl Default for WorkerTuning {
    fn default() -> Self {
        Self {
            heartbeat_interval: Duration::from_secs(3),
            missed_heartbeats: 5,
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
        .batch_size(1)
        .lock_tasks(false)
        .emit_events(false)
        .heartbeat_interval(tuning.heartbeat_interval)
        .missed_heartbeats(tuning.missed_heartbeats)
        .idempotency_ttl(Some(Duration::from_secs(24 * 3600)));
    RedisStorage::new(conn).with_config(config)
}
