//! `enqueue.lua`: jobs of one event created and queued, idempotently per media id.

use std::sync::LazyLock;

use finishline_wire::{JobKind, MediaId, RequestId, UserId};
use redis::Script;
use redis::aio::ConnectionLike;

use super::with_prelude;
use crate::call::Call;
use crate::{BusLimits, Error, EventKeys, JobKeys, QueueKeys};

static SCRIPT: LazyLock<Script> = LazyLock::new(|| with_prelude(include_str!("enqueue.lua")));

/// One job to create, unless its media id has a job already.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub media_id: &'a MediaId,
    /// The keys of the job to create (its id is fresh; unused when the media has a job).
    pub job: JobKeys,
    /// The queue payload (JSON of the job).
    pub payload: Vec<u8>,
}

/// A chunk of jobs of one event to enqueue (the producer sends at most a few hundred per
/// call, so one call never holds Redis long).
pub struct Enqueue<'a> {
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
    /// created it (false: the media had a job, whose id is returned).
    ///
    /// # Errors
    /// Fails when Redis cannot be reached or answers malformed data.
    pub async fn run<C: ConnectionLike + Send>(
        &self,
        conn: &mut C,
        jobs: &[NewJob<'_>],
    ) -> Result<Vec<(String, bool)>, Error> {
        let mut call = Call::new(&SCRIPT);
        for key in [
            self.media_index,
            &self.event.event,
            &self.event.history,
            &self.event.settings,
            &self.event.stream,
            &self.queue.data,
            &self.queue.active,
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
            .arg(self.owner.map_or("", UserId::as_str));
        for job in jobs {
            // Two keys per job, in order: the script finds job j's at 8 + 2j.
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
