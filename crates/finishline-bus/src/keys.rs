//! Redis key names. Every key finishline owns is spelled here and nowhere else (the Lua
//! prelude mirrors these names with `fl_key`).

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

    /// The apalis queue name of a kind of job, e.g. `finishline:photo-processing`.
    pub fn queue(&self, kind: JobKind) -> String {
        match kind {
            JobKind::Photo => format!("{}:photo-processing", self.prefix),
            JobKind::Video => format!("{}:video-processing", self.prefix),
        }
    }

    /// Sorted set of a queue's workers by last heartbeat (Unix milliseconds).
    pub fn queue_workers(&self, kind: JobKind) -> String {
        format!("{}:workers", self.queue(kind))
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

    /// The bib index of an event, in the order `lua/bib_index.lua` takes it: the sightings
    /// (sorted set, lexical), the numbers seen (sorted set, lexical), the counts (hash).
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
}
