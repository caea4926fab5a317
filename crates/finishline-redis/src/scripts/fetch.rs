//! `fetch.lua`: a worker takes a batch of tasks from a queue.

use std::sync::LazyLock;

use redis::Script;
use redis::aio::ConnectionLike;

use crate::call::Call;
use crate::{Error, QueueKeys};

static SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("fetch.lua")));

/// One task taken: its id and its payload (`None` when the payload is missing).
pub type Fetched = (String, Option<Vec<u8>>);

/// Takes up to `count` tasks of `queue` for `worker`, marks them in flight for it and
/// registers its heartbeat (`now_ms`, Unix milliseconds). Returns them in queue order.
///
/// # Errors
/// Fails when Redis cannot be reached.
pub async fn fetch<C: ConnectionLike + Send>(
    conn: &mut C,
    queue: &QueueKeys,
    worker: &str,
    count: usize,
    now_ms: u64,
) -> Result<Vec<Fetched>, Error> {
    let mut call = Call::new(&SCRIPT);
    call.key(&queue.workers);
    call.key(&queue.active);
    call.key(&queue.inflight(worker));
    call.key(&queue.data);
    call.arg(worker).arg(count.max(1)).arg(now_ms);
    Ok(call.invoke(conn).await?)
}
