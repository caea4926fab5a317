//! `redrive.lua` then `push.lua`: an operator queues a failed job again, in two calls of one
//! slot each (the event's group, then the queue's).
//!
//! Crash points: before the event side, nothing changed and the operator, not answered,
//! re-drives again. After it, before the push, the job is queued (counted out of the
//! failures, `job:queued` published) with no task; re-driving again finds the re-drive noted
//! on the job and pushes its task, once.

use std::sync::LazyLock;

use redis::Script;
use redis::aio::ConnectionLike;

use super::{push, with_prelude};
use crate::call::Call;
use crate::{BusLimits, Error, EventKeys, JobKeys, QueueKeys};

static SCRIPT: LazyLock<Script> = LazyLock::new(|| with_prelude(include_str!("redrive.lua")));

/// Re-drives failed `job` of `event` as task `task_id` on `queue`: counted out of the
/// failures, queued again with its attempts reset, published as `job:queued` and
/// `event:progress`, then pushed. Also completes an earlier re-drive of the job that stopped
/// before its push. False when the job is not failed (or not of `event`).
///
/// # Errors
/// Fails when Redis cannot be reached; re-driving again is then safe.
pub async fn redrive<C: ConnectionLike + Send>(
    conn: &mut C,
    event: &EventKeys,
    job: &JobKeys,
    queue: &QueueKeys,
    task_id: &str,
    ts: &str,
    limits: &BusLimits,
) -> Result<bool, Error> {
    let position = push::waiting(conn, queue).await?;
    let mut call = Call::new(&SCRIPT);
    for key in [
        &job.job,
        &job.history,
        &event.event,
        &event.history,
        &event.settings,
        &event.stream,
        &event.failed,
    ] {
        call.key(key);
    }
    call.arg(job.id.as_str())
        .arg(event.id.as_str())
        .arg(task_id)
        .arg(ts)
        .arg(limits.history_max)
        .arg(limits.stream_max)
        .arg(limits.ttl_secs())
        .arg(position);
    let (code, task, payload): (i64, String, Vec<u8>) = call.invoke(conn).await?;
    if !matches!(code, 1 | 2) {
        return Ok(false);
    }
    push::push(conn, queue, &[(task.as_str(), payload.as_slice())]).await?;
    Ok(true)
}
