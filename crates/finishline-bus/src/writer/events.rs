//! Which event each job belongs to. Every key a script touches is passed in KEYS, and a
//! job's messages go to its event's keys, so the writer names a job's event with each of its
//! operations. The worker's API names jobs only: the writer reads a job's event from its hash
//! the first time it sees the job (one pipelined read for every new job of a batch) and
//! remembers it until the job ends.

use std::collections::HashMap;

use finishline_wire::{EventId, JobId};
use redis::aio::ConnectionLike;

use crate::{BusError, Keys};

/// Jobs remembered at most; beyond, the map is cleared (jobs then cost one read again).
const MAX_JOBS: usize = 100_000;

#[derive(Default)]
pub(super) struct JobEvents {
    events: HashMap<JobId, Option<EventId>>,
}

impl JobEvents {
    /// The event of `job_id`: `Some(None)` for a job Redis does not know, `None` when not
    /// resolved yet.
    pub(super) fn get(&self, job_id: &JobId) -> Option<Option<&EventId>> {
        self.events.get(job_id).map(Option::as_ref)
    }

    pub(super) fn remember(&mut self, job_id: &JobId, event_id: &EventId) {
        if !self.events.contains_key(job_id) {
            self.make_room();
            self.events.insert(job_id.clone(), Some(event_id.clone()));
        }
    }

    /// Forgets a job that ended (or is unknown): its next operation reads it again.
    pub(super) fn forget(&mut self, job_id: &JobId) {
        self.events.remove(job_id);
    }

    fn make_room(&mut self) {
        if self.events.len() >= MAX_JOBS {
            self.events.clear();
        }
    }

    /// Reads the event of each of `jobs` not known yet, the reads sent together (the jobs'
    /// hashes are in several slots: a Cluster refuses one pipeline over them).
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub(super) async fn resolve<'a, C: ConnectionLike + Clone + Send>(
        &mut self,
        conn: &mut C,
        keys: &Keys,
        jobs: impl Iterator<Item = &'a JobId>,
    ) -> Result<(), BusError> {
        let mut missing: Vec<&JobId> = jobs.filter(|j| !self.events.contains_key(*j)).collect();
        missing.sort_unstable();
        missing.dedup();
        if missing.is_empty() {
            return Ok(());
        }
        let reads: Vec<redis::Cmd> = missing
            .iter()
            .map(|job_id| {
                let mut cmd = redis::cmd("HGET");
                cmd.arg(keys.job(job_id)).arg("eventId");
                cmd
            })
            .collect();
        let events: Vec<Option<String>> = finishline_redis::query_each(conn, &reads).await?;
        self.make_room();
        for (job_id, event) in missing.into_iter().zip(events) {
            let event = event.and_then(|e| EventId::parse(e).ok());
            self.events.insert(job_id.clone(), event);
        }
        Ok(())
    }
}
