//! `promote.lua`: due retries move to the waiting list, in bounded chunks.

use std::sync::LazyLock;

use redis::Script;
use redis::aio::ConnectionLike;

use crate::call::Call;
use crate::{Error, QueueKeys};

static SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("promote.lua")));

/// Moves at most `limit` tasks of `queue` due at `now_secs` (Unix seconds) from its scheduled
/// set to its waiting list; returns how many moved.
///
/// # Errors
/// Fails when Redis cannot be reached.
pub async fn promote<C: ConnectionLike + Send>(
    conn: &mut C,
    queue: &QueueKeys,
    now_secs: u64,
    limit: usize,
) -> Result<u64, Error> {
    let mut call = Call::new(&SCRIPT);
    call.key(&queue.scheduled);
    call.key(&queue.active);
    call.arg(now_secs).arg(limit.max(1));
    Ok(call.invoke(conn).await?)
}
