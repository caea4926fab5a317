//! `requeue.lua`: a delivery goes back to its queue, if its worker still holds it.

use std::sync::LazyLock;

use redis::Script;
use redis::aio::ConnectionLike;

use crate::call::Call;
use crate::{Error, QueueKeys};

static SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("requeue.lua")));

/// Puts task `task_id` that `worker` holds back on `queue`; false when the worker no longer
/// holds it (it was recovered meanwhile).
///
/// # Errors
/// Fails when Redis cannot be reached.
pub async fn requeue<C: ConnectionLike + Send>(
    conn: &mut C,
    queue: &QueueKeys,
    worker: &str,
    task_id: &str,
) -> Result<bool, Error> {
    let mut call = Call::new(&SCRIPT);
    call.key(&queue.inflight(worker));
    call.key(&queue.active);
    call.arg(task_id);
    let moved: i64 = call.invoke(conn).await?;
    Ok(moved == 1)
}
