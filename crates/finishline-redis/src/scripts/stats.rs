//! `stats.lua`: how deep a queue is.

use std::sync::LazyLock;

use redis::Script;
use redis::aio::ConnectionLike;

use crate::call::Call;
use crate::{Error, QueueKeys};

static SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("stats.lua")));

/// The depth of a queue.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Depth {
    /// Due and waiting for a worker.
    pub waiting: u64,
    /// Waiting for their time (retries with backoff).
    pub scheduled: u64,
    /// Held by registered workers.
    pub inflight: u64,
    /// The id of the oldest waiting task, if any.
    pub oldest: Option<String>,
}

/// The depth of `queue`: one script call, then one pipeline counting the registered
/// workers' in-flight sets.
///
/// # Errors
/// Fails when Redis cannot be reached or answers something else than the script returns.
pub async fn stats<C: ConnectionLike + Send>(
    conn: &mut C,
    queue: &QueueKeys,
) -> Result<Depth, Error> {
    let mut call = Call::new(&SCRIPT);
    call.key(&queue.active);
    call.key(&queue.scheduled);
    call.key(&queue.workers);
    let reply: Vec<redis::Value> = call.invoke(conn).await?;
    let malformed = || Error::Malformed(format!("stats of {} answered {reply:?}", queue.name));
    let number = |v: &redis::Value| redis::from_redis_value_ref::<u64>(v).ok();
    let text = |v: &redis::Value| redis::from_redis_value_ref::<String>(v).ok();
    let (Some(waiting), Some(scheduled), Some(oldest)) = (
        reply.first().and_then(number),
        reply.get(1).and_then(number),
        reply.get(2).and_then(text),
    ) else {
        return Err(malformed());
    };
    let workers = reply[3..]
        .iter()
        .map(|w| text(w).ok_or_else(malformed))
        .collect::<Result<Vec<_>, _>>()?;
    let inflight = if workers.is_empty() {
        0
    } else {
        let mut pipe = redis::pipe();
        for worker in &workers {
            pipe.cmd("SCARD").arg(queue.inflight(worker));
        }
        let counts: Vec<u64> = pipe.query_async(conn).await?;
        counts.iter().sum()
    };
    Ok(Depth {
        waiting,
        scheduled,
        inflight,
        oldest: (!oldest.is_empty()).then_some(oldest),
    })
}
