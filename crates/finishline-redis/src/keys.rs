//! Redis key names. Every key finishline owns is spelled here and nowhere else: the Lua
//! scripts receive every key they touch in `KEYS`, built from these.

use finishline_wire::{EventId, JobId, JobKind};

/// Key builder for one deployment, under a configurable prefix (default `finishline`).
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The apalis queue name of a kind of job, e.g. `finishline:photo-processing`: the
    /// namespace its keys ([`QueueKeys`]) are named after.
    pub fn queue(&self, kind: JobKind) -> String {
        match kind {
            JobKind::Photo => format!("{}:photo-processing", self.prefix),
            JobKind::Video => format!("{}:video-processing", self.prefix),
        }
    }

    /// The keys of the queue of a kind of job.
    pub fn queue_keys(&self, kind: JobKind) -> QueueKeys {
        QueueKeys::new(self.queue(kind))
    }

    /// Sorted set of a queue's workers by last heartbeat (Unix milliseconds).
    pub fn queue_workers(&self, kind: JobKind) -> String {
        self.queue_keys(kind).workers
    }

    /// Hash of an event's counters and its last `seq`.
    pub fn event(&self, event_id: &EventId) -> String {
        format!("{}:event:{event_id}", self.prefix)
    }

    /// JSON of an event's settings (what the organiser knows: bib range, digits, start list),
    /// kept as long as the event's other keys.
    pub fn event_settings(&self, event_id: &EventId) -> String {
        format!("{}:event:{event_id}:settings", self.prefix)
    }

    /// Stream of an event's messages, with ids `<seq>-0`.
    pub fn history(&self, event_id: &EventId) -> String {
        format!("{}:history:{event_id}", self.prefix)
    }

    /// The stream every gateway tails.
    pub fn progress_stream(&self) -> String {
        format!("{}:progress", self.prefix)
    }

    /// Hash of one job's state.
    pub fn job(&self, job_id: &JobId) -> String {
        format!("{}:job:{job_id}", self.prefix)
    }

    /// Sorted set of failed jobs (score: when they failed, Unix ms), for operators.
    pub fn failed(&self) -> String {
        format!("{}:failed", self.prefix)
    }

    /// List of a job's last 100 messages.
    pub fn job_history(&self, job_id: &JobId) -> String {
        format!("{}:job:{job_id}:history", self.prefix)
    }

    /// The bib index of an event, in the order `scripts/bib_index.lua` takes it: the
    /// sightings (sorted set, lexical), the numbers seen (sorted set, lexical), the counts
    /// (hash).
    pub fn bib_index(&self, event_id: &EventId) -> [String; 3] {
        let base = format!("{}:bibs:{event_id}", self.prefix);
        [
            format!("{base}:sightings"),
            format!("{base}:numbers"),
            format!("{base}:counts"),
        ]
    }

    /// Hash `mediaId → jobId` of an event, which makes enqueue idempotent.
    pub fn media_index(&self, event_id: &EventId, kind: JobKind) -> String {
        format!("{}:index:{event_id}:{}", self.prefix, kind.as_str())
    }

    /// Every key a script that publishes to an event touches for that event.
    pub fn event_keys(&self, event_id: &EventId) -> EventKeys {
        EventKeys {
            id: event_id.clone(),
            event: self.event(event_id),
            history: self.history(event_id),
            settings: self.event_settings(event_id),
            stream: self.progress_stream(),
            failed: self.failed(),
        }
    }

    /// The keys of one job.
    pub fn job_keys(&self, job_id: &JobId) -> JobKeys {
        JobKeys {
            id: job_id.clone(),
            job: self.job(job_id),
            history: self.job_history(job_id),
        }
    }
}

/// The keys a message of an event is written to, and the event's other keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventKeys {
    pub id: EventId,
    /// [`Keys::event`]: counters and seq.
    pub event: String,
    /// [`Keys::history`].
    pub history: String,
    /// [`Keys::event_settings`]: renewed with the event's other keys.
    pub settings: String,
    /// [`Keys::progress_stream`]: the stream its messages are relayed from.
    pub stream: String,
    /// [`Keys::failed`]: where its failed jobs are listed.
    pub failed: String,
}

/// The keys of one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobKeys {
    pub id: JobId,
    /// [`Keys::job`].
    pub job: String,
    /// [`Keys::job_history`].
    pub history: String,
}

/// The keys of one queue, apalis-redis 1.0's layout under the queue's name: `<name>:active`
/// (list of waiting task ids), `:data` (hash task id → payload), `:scheduled` (sorted set of
/// retries by due time, Unix seconds), `:workers` (sorted set of workers by last heartbeat,
/// Unix ms) and `:inflight:<worker>` (set of the tasks a worker holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueKeys {
    pub name: String,
    pub active: String,
    pub data: String,
    pub scheduled: String,
    pub workers: String,
}

impl QueueKeys {
    /// The keys of the queue named `name` (e.g. [`Keys::queue`]).
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        Self {
            active: format!("{name}:active"),
            data: format!("{name}:data"),
            scheduled: format!("{name}:scheduled"),
            workers: format!("{name}:workers"),
            name,
        }
    }

    /// The set of the tasks `worker` holds.
    pub fn inflight(&self, worker: &str) -> String {
        format!("{}:inflight:{worker}", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_keys_follow_apalis_redis_layout() {
        let keys = Keys::new("fl").queue_keys(JobKind::Photo);
        assert_eq!(keys.active, "fl:photo-processing:active");
        assert_eq!(keys.data, "fl:photo-processing:data");
        assert_eq!(keys.scheduled, "fl:photo-processing:scheduled");
        assert_eq!(keys.workers, "fl:photo-processing:workers");
        assert_eq!(keys.inflight("w1"), "fl:photo-processing:inflight:w1");
    }
}
