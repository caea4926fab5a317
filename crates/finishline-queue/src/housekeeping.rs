//! Promotion of due retries in bounded chunks, recovery of dead workers' tasks, the repair of
//! interrupted enqueues, queue depth.

use std::time::{Duration, Instant, SystemTime};

use finishline_bus::Keys;
use finishline_redis::repair::{self, Repaired};
use finishline_redis::scripts::{hand_back, promote, stats};
use finishline_redis::{EVENT_GROUPS, QueueKeys, RedisConn};
use finishline_wire::JobKind;
use tokio_util::sync::CancellationToken;

use crate::{QueueError, heartbeat_score, unix_now};

/// Chunk size of promotion: a bounded Lua call however many retries are due.
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
    /// Age of the oldest waiting job (from its ULID), if any.
    pub oldest_waiting_age: Option<Duration>,
}

/// Runs the housekeeping of one queue.
pub struct Housekeeper {
    conn: RedisConn,
    keys: Keys,
    kind: JobKind,
    queue: QueueKeys,
}

impl Housekeeper {
    pub fn new(conn: RedisConn, keys: &Keys, kind: JobKind) -> Self {
        Self {
            conn,
            keys: keys.clone(),
            kind,
            queue: keys.queue_keys(kind),
        }
    }

    /// Moves due jobs from `:scheduled` to `:active` until none is due; returns how many.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn promote_due(&self) -> Result<u64, QueueError> {
        let now = unix_now().as_secs();
        let mut total = 0;
        loop {
            let moved = promote::promote(&mut self.conn.clone(), &self.queue, now, CHUNK).await?;
            total += moved;
            if moved < CHUNK as u64 {
                return Ok(total);
            }
        }
    }

    /// Puts the tasks of workers silent for longer than `orphan_after` back on the queue;
    /// returns how many.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn recover_orphans(&self, orphan_after: Duration) -> Result<u64, QueueError> {
        // Heartbeats are scored in milliseconds: a sub-second `orphan_after` works, and a
        // worker that beat a moment ago is never rounded down to a stale second.
        let cutoff = heartbeat_score().saturating_sub(orphan_after.as_millis() as u64);
        let mut conn = self.conn.clone();
        let mut moved = 0;
        for worker in hand_back::silent_workers(&mut conn, &self.queue, cutoff).await? {
            moved += hand_back::hand_back(&mut conn, &self.queue, &worker, Some(cutoff)).await?;
        }
        Ok(moved)
    }

    /// Pushes the jobs of this queue's kind that an interrupted enqueue left counted but
    /// without a task, once they are older than `grace` (a producer still between its two
    /// calls must not be overtaken), in every event group; returns what it did. Safe to run
    /// on many workers at once (see `finishline_redis::repair`).
    ///
    /// # Errors
    /// Fails when Redis cannot be reached; the next sweep checks the rest.
    pub async fn repair_unpushed(&self, grace: Duration) -> Result<Repaired, QueueError> {
        let now_ms = u64::try_from(unix_now().as_millis()).unwrap_or(u64::MAX);
        let cutoff_ms = now_ms.saturating_sub(u64::try_from(grace.as_millis()).unwrap_or(0));
        let mut conn = self.conn.clone();
        let mut total = Repaired::default();
        for group in 0..EVENT_GROUPS {
            let done =
                repair::repair_group(&mut conn, &self.keys, self.kind, group, cutoff_ms, CHUNK)
                    .await?;
            total.checked += done.checked;
            total.pushed += done.pushed;
        }
        Ok(total)
    }

    /// The depth of the queue.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn stats(&self) -> Result<QueueStats, QueueError> {
        let depth = stats::stats(&mut self.conn.clone(), &self.queue).await?;
        let oldest = depth.oldest.unwrap_or_default();
        let oldest_waiting_age = ulid::Ulid::from_string(&oldest).ok().map(|id| {
            SystemTime::now()
                .duration_since(id.datetime())
                .unwrap_or_default()
        });
        Ok(QueueStats {
            waiting: depth.waiting,
            scheduled: depth.scheduled,
            inflight: depth.inflight,
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
        Ok(hand_back::hand_back(&mut self.conn.clone(), &self.queue, worker_name, None).await?)
    }

    /// Runs promotion and orphan recovery every `every`, and the repair of interrupted
    /// enqueues older than `repair_after` every quarter of that (at least every `every`), until
    /// `stop` fires. Errors are logged and retried on the next round, never fatal.
    pub async fn run(
        self,
        every: Duration,
        orphan_after: Duration,
        repair_after: Duration,
        stop: CancellationToken,
    ) {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let repair_every = every.max(repair_after / 4);
        let mut last_repair: Option<Instant> = None;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            if last_repair.is_none_or(|at| at.elapsed() >= repair_every) {
                last_repair = Some(Instant::now());
                self.log_repair(repair_after).await;
            }
            match self.promote_due().await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::debug!(queue = %self.queue.name, promoted = n, "promoted due jobs")
                }
                Err(err) => {
                    tracing::warn!(queue = %self.queue.name, error = %err, "promotion failed")
                }
            }
            match self.recover_orphans(orphan_after).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::warn!(queue = %self.queue.name, recovered = n, ?orphan_after, "tasks of a silent worker put back on the queue")
                }
                Err(err) => {
                    tracing::warn!(queue = %self.queue.name, error = %err, "orphan recovery failed")
                }
            }
        }
    }

    async fn log_repair(&self, repair_after: Duration) {
        match self.repair_unpushed(repair_after).await {
            Ok(Repaired { pushed: 0, .. }) => {}
            Ok(done) => {
                tracing::warn!(queue = %self.queue.name, pushed = done.pushed, checked = done.checked, "jobs of an interrupted enqueue pushed onto the queue")
            }
            Err(err) => {
                tracing::warn!(queue = %self.queue.name, error = %err, "repair of interrupted enqueues failed")
            }
        }
    }
}
