//! `redrive.lua`: an operator queues a failed job again.

use std::sync::LazyLock;

use redis::Script;
use redis::aio::ConnectionLike;

use super::with_prelude;
use crate::call::Call;
use crate::{BusLimits, Error, EventKeys, JobKeys, QueueKeys};

static SCRIPT: LazyLock<Script> = LazyLock::new(|| with_prelude(include_str!("redrive.lua")));

/// Re-drives failed `job` of `event` as task `task_id` on `queue`: counted out of the
/// failures, queued again with its attempts reset, published as `job:queued` and
/// `event:progress`. False when the job is not failed (or not of `event`).
///
/// # Errors
/// Fails when Redis cannot be reached.
pub async fn redrive<C: ConnectionLike + Send>(
    conn: &mut C,
    event: &EventKeys,
    job: &JobKeys,
    queue: &QueueKeys,
    task_id: &str,
    ts: &str,
    limits: &BusLimits,
) -> Result<bool, Error> {
    let mut call = Call::new(&SCRIPT);
    for key in [
        &job.job,
        &job.history,
        &event.event,
        &event.history,
        &event.settings,
        &event.stream,
        &event.failed,
        &queue.data,
        &queue.active,
    ] {
        call.key(key);
    }
    call.arg(job.id.as_str())
        .arg(event.id.as_str())
        .arg(task_id)
        .arg(ts)
        .arg(limits.history_max)
        .arg(limits.stream_max)
        .arg(limits.ttl_secs());
    let redriven: i64 = call.invoke(conn).await?;
    Ok(redriven == 1)
}
