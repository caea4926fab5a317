//! `enqueue.lua` then `push.lua`: jobs of one event created, announced and queued,
//! idempotently per media id, in two calls of one slot each.
//!
//! The event side runs first: a job exists, counted and announced, before a worker can take
//! its task. Where a crash between the two calls leaves things:
//! - before the event side: nothing is written; the producer was not answered and enqueues
//!   again.
//! - after it, before the push: the new jobs exist (queued, counted, `job:queued` published)
//!   but no task does, and the producer was not answered (no 202). Enqueuing the same media
//!   again finds the jobs, reads which never started, and pushes their stored payloads: the
//!   push skips tasks the queue holds already, so this is safe whatever happened before. If
//!   the producer never comes back, the repair sweep ([`crate::repair`]) finds the jobs in
//!   their group's enqueued set once they are older than its grace and pushes them the same
//!   way.
//! - after the push: done; a repeated enqueue pushes nothing again.

use std::sync::LazyLock;

use finishline_wire::{JobId, JobKind, MediaId, RequestId, UserId};
use redis::Script;
use redis::aio::ConnectionLike;

use super::{push, with_prelude};
use crate::call::Call;
use crate::{BusLimits, Error, EventKeys, JobKeys, Keys, QueueKeys, repair};

static SCRIPT: LazyLock<Script> = LazyLock::new(|| with_prelude(include_str!("enqueue.lua")));

/// One job to create, unless its media id has a job already.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub media_id: &'a MediaId,
    /// The keys of the job to create (its id is fresh, of the event's group: see
    /// [`Keys::new_job_id`]; unused when the media has a job).
    pub job: JobKeys,
    /// The queue payload (JSON of the job).
    pub payload: Vec<u8>,
}

/// A chunk of jobs of one event to enqueue (the producer sends at most a few hundred per
/// call, so one call never holds Redis long).
pub struct Enqueue<'a> {
    pub keys: &'a Keys,
    pub event: &'a EventKeys,
    /// The event's media index ([`crate::Keys::media_index`]).
    pub media_index: &'a str,
    pub queue: &'a QueueKeys,
    pub kind: JobKind,
    pub request_id: &'a RequestId,
    pub owner: Option<&'a UserId>,
    pub ts: &'a str,
    pub limits: &'a BusLimits,
}

impl Enqueue<'_> {
    /// Enqueues `jobs` and returns, for each in order, its job id and whether this call
    /// created it (false: the media had a job, whose id is returned). A job that existed and
    /// never started is pushed again (once: see the module's crash points).
    ///
    /// # Errors
    /// Fails when Redis cannot be reached or answers malformed data; calling again with the
    /// same media is then safe.
    pub async fn run<C: ConnectionLike + Clone + Send>(
        &self,
        conn: &mut C,
        jobs: &[NewJob<'_>],
    ) -> Result<Vec<(String, bool)>, Error> {
        // The queue's length now: the new jobs' positions in job:queued (exact unless another
        // producer pushes onto the same queue meanwhile).
        let position = push::waiting(conn, self.queue).await?;
        let reply = self.event_side(conn, jobs, position).await?;
        let mut tasks: Vec<(&str, &[u8])> = reply
            .iter()
            .zip(jobs)
            .filter(|((_, created), _)| *created)
            .map(|((job_id, _), job)| (job_id.as_str(), job.payload.as_slice()))
            .collect();
        let existing: Vec<&str> = reply
            .iter()
            .filter(|(_, created)| !created)
            .map(|(job_id, _)| job_id.as_str())
            .collect();
        let existing: Vec<JobId> = existing
            .into_iter()
            .map(|id| JobId::parse(id).map_err(|err| Error::Malformed(err.to_string())))
            .collect::<Result<_, _>>()?;
        let unstarted = repair::unstarted(conn, self.keys, &existing).await?;
        tasks.extend(
            unstarted
                .iter()
                .map(|(job_id, payload)| (job_id.as_str(), payload.as_slice())),
        );
        push::push(conn, self.queue, &tasks).await?;
        Ok(reply)
    }

    /// The event side alone (`enqueue.lua`): creates, counts and announces the new jobs of
    /// `jobs` and notes them in their group's enqueued set, but pushes no task. [`Self::run`]
    /// calls it, then pushes; on its own it is what a producer that stopped half-way leaves
    /// (the repair sweep's tests make that case with it). `position` is the queue's length
    /// before the push.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached or answers malformed data.
    pub async fn event_side<C: ConnectionLike + Send>(
        &self,
        conn: &mut C,
        jobs: &[NewJob<'_>],
        position: u64,
    ) -> Result<Vec<(String, bool)>, Error> {
        let mut call = Call::new(&SCRIPT);
        let enqueued = self.keys.enqueued(self.event.group, self.kind);
        for key in [
            self.media_index,
            &self.event.event,
            &self.event.history,
            &self.event.settings,
            &self.event.stream,
            &enqueued,
        ] {
            call.key(key);
        }
        call.arg(self.event.id.as_str())
            .arg(self.request_id.as_str())
            .arg(self.kind.as_str())
            .arg(self.ts)
            .arg(self.limits.history_max)
            .arg(self.limits.stream_max)
            .arg(self.limits.ttl_secs())
            .arg(self.owner.map_or("", UserId::as_str))
            .arg(position);
        for job in jobs {
            // Two keys per job, in order: the script finds job j's at 7 + 2j.
            call.keys(&[&job.job.job, &job.job.history]);
            call.arg(job.media_id.as_str())
                .arg(job.job.id.as_str())
                .arg(job.payload.as_slice());
        }
        let reply: Vec<(String, u8)> = call.invoke(conn).await?;
        if reply.len() != jobs.len() {
            return Err(Error::Malformed(format!(
                "enqueue answered {} jobs for {}",
                reply.len(),
                jobs.len()
            )));
        }
        Ok(reply
            .into_iter()
            .map(|(job_id, created)| (job_id, created == 1))
            .collect())
    }
}
