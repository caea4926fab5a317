//! `retry.lua` then `schedule.lua`: another attempt of a job, scheduled as a fresh task, in
//! two calls of one slot each (the job's group, then the queue's).
//!
//! Crash points: before the event side, nothing changed and the worker, not answered, puts
//! its delivery back (or, dead, has it handed back): the attempt runs again. After the event
//! side, before the schedule, the job is `queued` with no task scheduled, and the failed
//! attempt's delivery is still held (the worker settles it only after both calls): put back
//! or handed back, it runs again, as a new run. Nothing is lost; a job never counts twice
//! (the exactly-once end is fenced by its run).

use std::sync::LazyLock;

use redis::Script;
use redis::aio::ConnectionLike;

use super::with_prelude;
use crate::call::Call;
use crate::{Error, JobKeys, QueueKeys};

static SCRIPT: LazyLock<Script> = LazyLock::new(|| with_prelude(include_str!("retry.lua")));
static SCHEDULE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("schedule.lua")));

/// A retry to schedule.
#[derive(Debug, Clone)]
pub struct Retry<'a> {
    /// The new task's id (a fresh ULID: the task of the attempt that failed is settled apart).
    pub task_id: &'a str,
    /// When it is due, Unix seconds.
    pub due_secs: u64,
    /// Why the attempt failed (kept on the job until it ends).
    pub error: &'a str,
    pub ts: &'a str,
}

/// Schedules another attempt of `job` on `queue` with the job's payload. False when the job
/// has ended meanwhile (cancelled) or is unknown: nothing is scheduled.
///
/// # Errors
/// Fails when Redis cannot be reached.
pub async fn schedule<C: ConnectionLike + Send>(
    conn: &mut C,
    job: &JobKeys,
    queue: &QueueKeys,
    retry: &Retry<'_>,
) -> Result<bool, Error> {
    let mut call = Call::new(&SCRIPT);
    call.key(&job.job);
    call.arg(retry.due_secs).arg(retry.error).arg(retry.ts);
    let payload: Option<Vec<u8>> = call.invoke(conn).await?;
    let Some(payload) = payload else {
        return Ok(false);
    };
    let mut call = Call::new(&SCHEDULE);
    call.key(&queue.data);
    call.key(&queue.scheduled);
    call.arg(retry.task_id).arg(payload).arg(retry.due_secs);
    let _: i64 = call.invoke(conn).await?;
    Ok(true)
}
