//! Redis key names. Every key finishline owns is spelled here and nowhere else: the Lua
//! scripts receive every key they touch in `KEYS`, built from these.
//!
//! The layout is Cluster-safe: every key carries a hash tag (`{…}`, the part Redis Cluster
//! hashes to pick a slot), and every script call touches keys of one tag only.
//! - A queue's keys are tagged with the queue's name, `{<prefix>:photo-processing}` (like
//!   BullMQ's `{queue}`).
//! - Event-scoped state lives in one of [`EVENT_GROUPS`] groups, tagged `{<prefix>:g<N>}`:
//!   an event's counters, history, settings, bib and media indexes, its jobs' hashes and
//!   message lists, the group's failed set and the group's progress stream. N is
//!   [`group_of`] the event id; a job's group is [`group_of`] its id, and a job id is
//!   generated in its event's group ([`Keys::new_job_id`]), so a job lookup by id finds the
//!   job's hash with nothing else stored.

use finishline_wire::{EventId, JobId, JobKind};

/// How many event groups (hash tags) event-scoped state is spread over. Part of the layout:
/// changing it moves keys, like any rename (drain the queues first).
pub const EVENT_GROUPS: u16 = 16;

/// The event group of an event id or a job id: FNV-1a (32 bits) of its bytes, modulo
/// [`EVENT_GROUPS`]. Stable across versions and platforms.
pub fn group_of(id: &str) -> u16 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in id.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    (hash % u32::from(EVENT_GROUPS)) as u16
}

/// Key builder for one deployment, under a configurable prefix (default `finishline`). The
/// prefix must not hold `{` or `}`: it is part of every hash tag.
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

    /// The apalis queue name of a kind of job, e.g. `{finishline:photo-processing}`: the
    /// namespace its keys ([`QueueKeys`]) are named after, a hash tag of its own.
    pub fn queue(&self, kind: JobKind) -> String {
        format!("{{{}:{}}}", self.prefix, kind.queue_name())
    }

    /// The keys of the queue of a kind of job.
    pub fn queue_keys(&self, kind: JobKind) -> QueueKeys {
        QueueKeys::new(self.queue(kind))
    }

    /// Sorted set of a queue's workers by last heartbeat (Unix milliseconds).
    pub fn queue_workers(&self, kind: JobKind) -> String {
        self.queue_keys(kind).workers
    }

    /// The hash tag of event group `group`: `{<prefix>:g<group>}`.
    pub fn group_tag(&self, group: u16) -> String {
        format!("{{{}:g{group}}}", self.prefix)
    }

    /// The tag of an event's group.
    fn event_tag(&self, event_id: &EventId) -> String {
        self.group_tag(group_of(event_id.as_str()))
    }

    /// The tag of a job's group (its event's, for ids made by [`Self::new_job_id`]).
    fn job_tag(&self, job_id: &JobId) -> String {
        self.group_tag(group_of(job_id.as_str()))
    }

    /// A fresh job id (a ULID) of `event_id`'s group, so that the job's keys and its event's
    /// share a slot: ULIDs are drawn until one falls in the group (16 draws on average).
    pub fn new_job_id(&self, event_id: &EventId) -> JobId {
        let group = group_of(event_id.as_str());
        loop {
            let id = JobId::generate();
            if group_of(id.as_str()) == group {
                return id;
            }
        }
    }

    /// Hash of an event's counters and its last `seq`.
    pub fn event(&self, event_id: &EventId) -> String {
        format!("{}:event:{event_id}", self.event_tag(event_id))
    }

    /// JSON of an event's settings (what the organiser knows: bib range, digits, start list),
    /// kept as long as the event's other keys.
    pub fn event_settings(&self, event_id: &EventId) -> String {
        format!("{}:event:{event_id}:settings", self.event_tag(event_id))
    }

    /// Stream of an event's messages, with ids `<seq>-0`.
    pub fn history(&self, event_id: &EventId) -> String {
        format!("{}:history:{event_id}", self.event_tag(event_id))
    }

    /// The progress stream of event group `group`; every gateway tails all of them.
    pub fn group_stream(&self, group: u16) -> String {
        format!("{}:progress", self.group_tag(group))
    }

    /// Every group's progress stream, in group order.
    pub fn progress_streams(&self) -> Vec<String> {
        (0..EVENT_GROUPS).map(|g| self.group_stream(g)).collect()
    }

    /// The progress stream an event's messages go to.
    pub fn progress_stream(&self, event_id: &EventId) -> String {
        self.group_stream(group_of(event_id.as_str()))
    }

    /// Hash of one job's state.
    pub fn job(&self, job_id: &JobId) -> String {
        format!("{}:job:{job_id}", self.job_tag(job_id))
    }

    /// Sorted set of the failed jobs of event group `group` (score: when they failed, Unix
    /// ms), for operators.
    pub fn failed(&self, group: u16) -> String {
        format!("{}:failed", self.group_tag(group))
    }

    /// Sorted set of the jobs of `kind` that enqueue created in event group `group` and the
    /// repair sweep has not checked yet (score: when they were created, Unix ms of the Redis
    /// server). The sweep pushes those an interrupted enqueue left without a task
    /// ([`crate::repair`]).
    pub fn enqueued(&self, group: u16, kind: JobKind) -> String {
        format!("{}:enqueued:{}", self.group_tag(group), kind.as_str())
    }

    /// List of a job's last 100 messages.
    pub fn job_history(&self, job_id: &JobId) -> String {
        format!("{}:job:{job_id}:history", self.job_tag(job_id))
    }

    /// The bib index of an event, in the order `scripts/bib_index.lua` takes it: the
    /// sightings (sorted set, lexical), the numbers seen (sorted set, lexical), the counts
    /// (hash).
    pub fn bib_index(&self, event_id: &EventId) -> [String; 3] {
        let base = format!("{}:bibs:{event_id}", self.event_tag(event_id));
        [
            format!("{base}:sightings"),
            format!("{base}:numbers"),
            format!("{base}:counts"),
        ]
    }

    /// Hash `mediaId → jobId` of an event, which makes enqueue idempotent.
    pub fn media_index(&self, event_id: &EventId, kind: JobKind) -> String {
        format!(
            "{}:index:{event_id}:{}",
            self.event_tag(event_id),
            kind.as_str()
        )
    }

    /// Every key a script that publishes to an event touches for that event.
    pub fn event_keys(&self, event_id: &EventId) -> EventKeys {
        let group = group_of(event_id.as_str());
        EventKeys {
            id: event_id.clone(),
            group,
            event: self.event(event_id),
            history: self.history(event_id),
            settings: self.event_settings(event_id),
            stream: self.group_stream(group),
            failed: self.failed(group),
        }
    }

    /// The keys of one job.
    pub fn job_keys(&self, job_id: &JobId) -> JobKeys {
        JobKeys {
            id: job_id.clone(),
            group: group_of(job_id.as_str()),
            job: self.job(job_id),
            history: self.job_history(job_id),
        }
    }
}

/// The keys a message of an event is written to, and the event's other keys; all in the
/// event's group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventKeys {
    pub id: EventId,
    /// The event's group ([`group_of`]).
    pub group: u16,
    /// [`Keys::event`]: counters and seq.
    pub event: String,
    /// [`Keys::history`].
    pub history: String,
    /// [`Keys::event_settings`]: renewed with the event's other keys.
    pub settings: String,
    /// [`Keys::group_stream`] of its group: the stream its messages are relayed from.
    pub stream: String,
    /// [`Keys::failed`] of its group: where its failed jobs are listed.
    pub failed: String,
}

/// The keys of one job, in the job's group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobKeys {
    pub id: JobId,
    /// The job's group ([`group_of`] its id).
    pub group: u16,
    /// [`Keys::job`].
    pub job: String,
    /// [`Keys::job_history`].
    pub history: String,
}

/// The keys of one queue, apalis-redis 1.0's layout under the queue's name: `<name>:active`
/// (list of waiting task ids), `:data` (hash task id → payload), `:scheduled` (sorted set of
/// retries by due time, Unix seconds), `:workers` (sorted set of workers by last heartbeat,
/// Unix ms) and `:inflight:<worker>` (set of the tasks a worker holds). The name is a hash
/// tag ([`Keys::queue`]), so all of them share a slot.
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

    /// The part of a key Redis Cluster hashes: the first `{…}` with something inside.
    fn tag(key: &str) -> &str {
        let open = key.find('{').expect("tagged");
        let close = key[open..].find('}').expect("closed") + open;
        &key[open + 1..close]
    }

    #[test]
    fn queue_keys_follow_apalis_redis_layout_under_one_tag() {
        let keys = Keys::new("fl").queue_keys(JobKind::Photo);
        assert_eq!(keys.active, "{fl:photo-processing}:active");
        assert_eq!(keys.data, "{fl:photo-processing}:data");
        assert_eq!(keys.scheduled, "{fl:photo-processing}:scheduled");
        assert_eq!(keys.workers, "{fl:photo-processing}:workers");
        assert_eq!(keys.inflight("w1"), "{fl:photo-processing}:inflight:w1");
    }

    #[test]
    fn an_events_keys_and_its_jobs_share_the_tag_of_its_group() {
        let keys = Keys::new("fl");
        let event = EventId::parse("race-2026").unwrap();
        let job = keys.new_job_id(&event);
        let group = format!("fl:g{}", group_of(event.as_str()));
        let ev = keys.event_keys(&event);
        let jk = keys.job_keys(&job);
        let [sightings, numbers, counts] = keys.bib_index(&event);
        for key in [
            &ev.event,
            &ev.history,
            &ev.settings,
            &ev.stream,
            &ev.failed,
            &jk.job,
            &jk.history,
            &sightings,
            &numbers,
            &counts,
            &keys.media_index(&event, JobKind::Video),
            &keys.enqueued(ev.group, JobKind::Photo),
        ] {
            assert_eq!(tag(key), group, "{key}");
        }
        assert_eq!(job.as_str().len(), 26, "a ULID");
    }

    #[test]
    fn groups_are_stable_and_spread() {
        assert_eq!(u32::from(group_of("")), 0x811c_9dc5_u32 % 16);
        assert_eq!(group_of("race"), group_of("race"));
        let mut seen = [0u32; EVENT_GROUPS as usize];
        for i in 0..1600 {
            seen[group_of(&format!("event-{i}")) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| n > 50), "{seen:?}");
    }
}
