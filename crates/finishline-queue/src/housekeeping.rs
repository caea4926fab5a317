//! Promotion of due retries and vacuum of finished jobs, in bounded chunks.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use finishline_bus::Keys;
use finishline_wire::JobKind;
use redis::Script;
use redis::aio::ConnectionManager;
use tokio_util::sync::CancellationToken;

use crate::QueueError;

static PROMOTE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/promote.lua")));
static VACUUM: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/vacuum.lua")));
static STATS: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/stats.lua")));
static HAND_BACK: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/hand_back.lua")));

/// Chunk size of promotion and vacuum: far below the ~8,000 where apalis-redis' own
/// promotion fails.
const CHUNK: usize = 1_000;

/// How deep a queue is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Due and waiting for a worker.
    pub waiting: u64,
    /// Waiting for their time (retries with backoff).
    pub scheduled: u64,
    /// Taken by a live or presumed-live worker.
    pub inflight: u64,
    /// Given up by apalis (timeouts, panics).
    pub dead: u64,
    /// Age of the oldest waiting job (from its ULID), if any.
    pub oldest_waiting_age: Option<Duration>,
}

/// Runs the housekeeping of one queue.
pub struct Housekeeper {
    conn: ConnectionManager,
    queue: String,
}

impl Housekeeper {
    pub fn new(conn: ConnectionManager, keys: &Keys, kind: JobKind) -> Self {
        Self {
            conn,
            queue: keys.queue(kind),
        }
    }

    /// Moves due jobs from `:scheduled` to `:active` until none is due; returns how many.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn promote_due(&self) -> Result<u64, QueueError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let mut total = 0;
        loop {
            let moved: u64 = PROMOTE
                .arg(&self.queue)
                .arg(now)
                .arg(CHUNK)
                .invoke_async(&mut self.conn.clone())
                .await?;
            total += moved;
            if moved < CHUNK as u64 {
                return Ok(total);
            }
        }
    }

    /// Forgets finished jobs of the apalis queue; returns how many.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn vacuum(&self) -> Result<u64, QueueError> {
        let mut total = 0;
        loop {
            let removed: u64 = VACUUM
                .arg(&self.queue)
                .arg(CHUNK)
                .invoke_async(&mut self.conn.clone())
                .await?;
            total += removed;
            if removed < CHUNK as u64 {
                return Ok(total);
            }
        }
    }

    /// The depth of the queue.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn stats(&self) -> Result<QueueStats, QueueError> {
        let (waiting, scheduled, inflight, dead, oldest): (u64, u64, u64, u64, String) = STATS
            .arg(&self.queue)
            .invoke_async(&mut self.conn.clone())
            .await?;
        let oldest_waiting_age = ulid::Ulid::from_string(&oldest).ok().map(|id| {
            SystemTime::now()
                .duration_since(id.datetime())
                .unwrap_or_default()
        });
        Ok(QueueStats {
            waiting,
            scheduled,
            inflight,
            dead,
            oldest_waiting_age,
        })
    }

    /// Puts a stopping worker's running jobs back on the queue and unregisters the worker;
    /// returns how many jobs went back. Their runs are fenced, so a late message from the
    /// abandoned run cannot move a job backwards.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached (the jobs are then recovered as orphans).
    pub async fn hand_back(&self, worker_name: &str) -> Result<u64, QueueError> {
        Ok(HAND_BACK
            .arg(&self.queue)
            .arg(worker_name)
            .invoke_async(&mut self.conn.clone())
            .await?)
    }

    /// Runs promotion every `every` and vacuum every tenth round until `stop` fires. Errors are
    /// logged and retried on the next round, never fatal.
    pub async fn run(self, every: Duration, stop: CancellationToken) {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut round: u64 = 0;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            match self.promote_due().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(queue = %self.queue, promoted = n, "promoted due jobs"),
                Err(err) => tracing::warn!(queue = %self.queue, error = %err, "promotion failed"),
            }
            round += 1;
            if round.is_multiple_of(10) {
                match self.vacuum().await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::debug!(queue = %self.queue, removed = n, "vacuumed finished jobs")
                    }
                    Err(err) => tracing::warn!(queue = %self.queue, error = %err, "vacuum failed"),
                }
            }
        }
    }
}
