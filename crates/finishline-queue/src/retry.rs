//! Retries after transient failures (exponential backoff with full jitter, a limit that is
//! honoured) and operator re-drive of failed jobs.

use std::time::Duration;

use finishline_bus::{BusLimits, Keys};
use finishline_redis::RedisConn;
use finishline_redis::scripts::{redrive, retry};
use finishline_wire::{EventId, JobId, JobKind, now_rfc3339};
use rand::Rng;

use crate::{QueueError, unix_now};

/// Backoff of retries: `base × 2^(attempt-1)`, capped, with full jitter.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The delay before the attempt after `attempt` (1-based), with full jitter: uniform in
    /// [ceiling / 2, ceiling], so retries of many jobs failing together spread out.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(20);
        let ceiling = self.base.saturating_mul(1 << exponent).min(self.max);
        let low = ceiling / 2;
        let spread = (ceiling - low).as_millis() as u64;
        low + Duration::from_millis(rand::rng().random_range(0..=spread))
    }
}

/// Schedules retries and re-drives for one kind of job.
#[derive(Clone)]
pub struct Retrier {
    conn: RedisConn,
    keys: Keys,
    kind: JobKind,
    limits: BusLimits,
}

impl Retrier {
    pub fn new(conn: RedisConn, keys: Keys, kind: JobKind, limits: BusLimits) -> Self {
        Self {
            conn,
            keys,
            kind,
            limits,
        }
    }

    /// The same retrier for another kind of job (re-drive picks the queue of the job's kind).
    #[must_use]
    pub fn for_kind(&self, kind: JobKind) -> Self {
        Self {
            kind,
            ..self.clone()
        }
    }

    /// Queues the next attempt of `job_id` after `delay`. Returns false when the job ended
    /// meanwhile (cancelled), in which case nothing is queued.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn schedule(
        &self,
        job_id: &JobId,
        delay: Duration,
        error: &str,
    ) -> Result<bool, QueueError> {
        let due = unix_now().saturating_add(delay).as_secs_f64().ceil() as u64;
        let task_id = ulid::Ulid::new().to_string();
        let ts = now_rfc3339();
        let retry = retry::Retry {
            task_id: &task_id,
            due_secs: due,
            error,
            ts: &ts,
        };
        Ok(retry::schedule(
            &mut self.conn.clone(),
            &self.keys.job_keys(job_id),
            &self.keys.queue_keys(self.kind),
            &retry,
        )
        .await?)
    }

    /// Re-drives a failed job. Returns false when the job is not failed.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn redrive(&self, job_id: &JobId) -> Result<bool, QueueError> {
        let mut conn = self.conn.clone();
        let event: Option<String> = redis::cmd("HGET")
            .arg(self.keys.job(job_id))
            .arg("eventId")
            .query_async(&mut conn)
            .await?;
        let Some(event_id) = event.and_then(|e| EventId::parse(e).ok()) else {
            return Ok(false);
        };
        Ok(redrive::redrive(
            &mut conn,
            &self.keys.event_keys(&event_id),
            &self.keys.job_keys(job_id),
            &self.keys.queue_keys(self.kind),
            &ulid::Ulid::new().to_string(),
            &now_rfc3339(),
            &self.limits,
        )
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let backoff = Backoff::default();
        for _ in 0..100 {
            let first = backoff.delay(1);
            assert!(first >= Duration::from_millis(500) && first <= Duration::from_secs(1));
            let third = backoff.delay(3);
            assert!(third >= Duration::from_secs(2) && third <= Duration::from_secs(4));
            assert!(backoff.delay(30) <= Duration::from_secs(60));
        }
    }
}
