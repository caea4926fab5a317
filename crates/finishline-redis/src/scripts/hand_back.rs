//! `hand_back.lua`: a worker's in-flight tasks go back to the queue.

use std::sync::LazyLock;

use redis::Script;
use redis::aio::ConnectionLike;

use crate::call::Call;
use crate::{Error, QueueKeys};

static SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("hand_back.lua")));

/// Puts `worker`'s in-flight tasks back on `queue` and unregisters it. With `silent_since`
/// (Unix milliseconds), only when its last heartbeat is not newer: a worker presumed dead
/// that beat since keeps its tasks. Returns how many tasks went back.
///
/// # Errors
/// Fails when Redis cannot be reached.
pub async fn hand_back<C: ConnectionLike + Send>(
    conn: &mut C,
    queue: &QueueKeys,
    worker: &str,
    silent_since: Option<u64>,
) -> Result<u64, Error> {
    let mut call = Call::new(&SCRIPT);
    call.key(&queue.inflight(worker));
    call.key(&queue.active);
    call.key(&queue.workers);
    call.arg(worker)
        .arg(silent_since.map(|ms| ms.to_string()).unwrap_or_default());
    Ok(call.invoke(conn).await?)
}

/// The workers of `queue` whose last heartbeat is not newer than `cutoff_ms`.
///
/// # Errors
/// Fails when Redis cannot be reached.
pub async fn silent_workers<C: ConnectionLike + Send>(
    conn: &mut C,
    queue: &QueueKeys,
    cutoff_ms: u64,
) -> Result<Vec<String>, Error> {
    Ok(redis::cmd("ZRANGEBYSCORE")
        .arg(&queue.workers)
        .arg(0)
        .arg(cutoff_ms)
        .query_async(conn)
        .await?)
}
