//! `settle.lua`: deliveries of one queue settled, each only by the worker holding it.

use std::sync::LazyLock;

use redis::Script;
use redis::aio::ConnectionLike;

use crate::call::Call;
use crate::{Error, QueueKeys};

static SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("settle.lua")));

/// A delivery to settle: `worker` no longer holds task `task_id`.
#[derive(Debug, Clone, Copy)]
pub struct Settle<'a> {
    pub worker: &'a str,
    pub task_id: &'a str,
}

/// Settles `deliveries` of `queue`: each task leaves its worker's in-flight set and, when the
/// worker held it, its payload goes. Returns how many were settled.
///
/// # Errors
/// Fails when Redis cannot be reached.
pub async fn settle<C: ConnectionLike + Send>(
    conn: &mut C,
    queue: &QueueKeys,
    deliveries: &[Settle<'_>],
) -> Result<u64, Error> {
    if deliveries.is_empty() {
        return Ok(0);
    }
    let mut call = Call::new(&SCRIPT);
    call.key(&queue.data);
    for delivery in deliveries {
        let kinflight = call.key(&queue.inflight(delivery.worker));
        call.arg(kinflight).arg(delivery.task_id);
    }
    Ok(call.invoke(conn).await?)
}
