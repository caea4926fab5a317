//! `push.lua`: tasks pushed onto a queue, each once (the queue side of enqueue and re-drive).

use std::sync::LazyLock;

use redis::Script;
use redis::aio::ConnectionLike;

use crate::call::Call;
use crate::{Error, QueueKeys};

static SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("push.lua")));

/// Pushes `tasks` (task id, payload) onto `queue`, skipping any whose payload the queue holds
/// already (waiting, or held by a worker). Returns the waiting list's length after the push
/// and how many were pushed.
///
/// # Errors
/// Fails when Redis cannot be reached.
pub async fn push<C: ConnectionLike + Send>(
    conn: &mut C,
    queue: &QueueKeys,
    tasks: &[(&str, &[u8])],
) -> Result<(u64, u64), Error> {
    if tasks.is_empty() {
        return Ok((0, 0));
    }
    let mut call = Call::new(&SCRIPT);
    call.key(&queue.data);
    call.key(&queue.active);
    for (task_id, payload) in tasks {
        call.arg(*task_id).arg(*payload);
    }
    Ok(call.invoke(conn).await?)
}

/// The length of `queue`'s waiting list.
///
/// # Errors
/// Fails when Redis cannot be reached.
pub async fn waiting<C: ConnectionLike + Send>(
    conn: &mut C,
    queue: &QueueKeys,
) -> Result<u64, Error> {
    Ok(redis::cmd("LLEN")
        .arg(&queue.active)
        .query_async(conn)
        .await?)
}
