//! The repair sweep: jobs that enqueue created and counted but never pushed. Enqueue is two
//! script calls per chunk (`enqueue.lua` on the event's group, then `push.lua` on the queue);
//! a producer that stops between them, and never enqueues the same media again, leaves jobs
//! queued, counted and announced with no task, and their event never completes. `enqueue.lua`
//! notes every job it creates in its group's enqueued set ([`Keys::enqueued`]); the sweep
//! takes the entries older than a grace period and pushes the jobs among them that never
//! started, with their stored payloads.
//!
//! Every call is of one slot: the set and the jobs' hashes are of the group's tag, the push of
//! the queue's. Per chunk, in this order: read the oldest ids (`ZRANGEBYSCORE`), read which
//! jobs never started (`HMGET`: `queued`, no run), push those (`push.lua`, whose `HSETNX`
//! skips a task the queue holds already), then drop the ids from the set (`ZREM`). A sweeper
//! that stops before the `ZREM` leaves the ids for the next sweep, which pushes nothing twice;
//! two sweepers at once push each task once. A job whose task a worker settled between the
//! read and the push gets a second task, which the worker's run start finds ended and
//! settles without running it: nothing counts twice.

use finishline_wire::{JobId, JobKind};
use redis::aio::ConnectionLike;

use crate::scripts::push;
use crate::{Error, Keys};

/// A job's state, run and payload, as read to decide whether to push it again.
type JobFields = (Option<String>, Option<String>, Option<Vec<u8>>);

/// What one sweep of a group did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Repaired {
    /// Entries of the enqueued set older than the cutoff, checked and dropped.
    pub checked: u64,
    /// Jobs among them that had no task and were pushed.
    pub pushed: u64,
}

/// Sweeps event group `group` for jobs of `kind`: every job noted in its enqueued set at or
/// before `cutoff_ms` (Unix ms, the Redis server's clock) that never started is pushed onto
/// the queue of `kind`, once; the entries are dropped. Works in chunks of `chunk` ids.
///
/// # Errors
/// Fails when Redis cannot be reached; the entries not yet dropped are checked again by the
/// next sweep, and pushing twice is safe.
pub async fn repair_group<C: ConnectionLike + Clone + Send>(
    conn: &mut C,
    keys: &Keys,
    kind: JobKind,
    group: u16,
    cutoff_ms: u64,
    chunk: usize,
) -> Result<Repaired, Error> {
    let set = keys.enqueued(group, kind);
    let queue = keys.queue_keys(kind);
    let chunk = chunk.max(1);
    let mut done = Repaired::default();
    loop {
        let ids: Vec<String> = redis::cmd("ZRANGEBYSCORE")
            .arg(&set)
            .arg("-inf")
            .arg(cutoff_ms)
            .arg("LIMIT")
            .arg(0)
            .arg(chunk)
            .query_async(conn)
            .await?;
        if ids.is_empty() {
            return Ok(done);
        }
        // An id that does not parse names no job finishline made: dropped unchecked.
        let jobs: Vec<JobId> = ids.iter().filter_map(|id| JobId::parse(id).ok()).collect();
        let unstarted = unstarted(conn, keys, &jobs).await?;
        let tasks: Vec<(&str, &[u8])> = unstarted
            .iter()
            .map(|(id, payload)| (id.as_str(), payload.as_slice()))
            .collect();
        let (_, pushed) = push::push(conn, &queue, &tasks).await?;
        let _: u64 = redis::cmd("ZREM")
            .arg(&set)
            .arg(&ids)
            .query_async(conn)
            .await?;
        done.checked += ids.len() as u64;
        done.pushed += pushed;
        if ids.len() < chunk {
            return Ok(done);
        }
    }
}

/// Of `jobs`, those queued that never started (no run), with their stored payloads: one
/// `HMGET` each, sent together. A job whose hash expired is left out.
///
/// # Errors
/// Fails when Redis cannot be reached.
pub async fn unstarted<C: ConnectionLike + Clone + Send>(
    conn: &C,
    keys: &Keys,
    jobs: &[JobId],
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let reads: Vec<redis::Cmd> = jobs
        .iter()
        .map(|id| {
            let mut cmd = redis::cmd("HMGET");
            cmd.arg(keys.job(id)).arg("state").arg("run").arg("payload");
            cmd
        })
        .collect();
    let fields: Vec<JobFields> = crate::query_each(conn, &reads).await?;
    Ok(jobs
        .iter()
        .zip(fields)
        .filter_map(|(id, (state, run, payload))| {
            (state.as_deref() == Some("queued") && run.is_none())
                .then_some(payload)
                .flatten()
                .map(|payload| (id.as_str().to_owned(), payload))
        })
        .collect())
}
