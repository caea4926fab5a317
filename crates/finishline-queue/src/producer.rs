//! The producer API: enqueue one or many photos (or videos) of an event, idempotently.

use finishline_bus::{BusLimits, Keys};
use finishline_redis::RedisConn;
use finishline_redis::scripts::enqueue::{Enqueue, NewJob};
use finishline_wire::{
    EventId, JobId, JobKind, MediaId, MediaJob, MediaSource, RequestId, UserId, now_rfc3339,
};

use crate::QueueError;

/// Settings of a producer.
#[derive(Debug, Clone, Copy)]
pub struct ProducerConfig {
    /// Jobs written per Lua call; bounded so one call never blocks Redis for long.
    pub chunk_size: usize,
    pub limits: BusLimits,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        Self {
            chunk_size: 500,
            limits: BusLimits::default(),
        }
    }
}

/// A photo or video to enqueue.
#[derive(Debug, Clone)]
pub struct NewMedia {
    pub media_id: MediaId,
    pub source: MediaSource,
}

/// What enqueue did with one photo or video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enqueued {
    pub media_id: MediaId,
    pub job_id: JobId,
    /// False when the same `(eventId, mediaId)` was enqueued before: the existing job is returned
    /// and nothing is added.
    pub created: bool,
}

/// Enqueues jobs. Cheap to clone.
#[derive(Clone)]
pub struct Producer {
    conn: RedisConn,
    keys: Keys,
    config: ProducerConfig,
}

impl Producer {
    pub fn new(conn: RedisConn, keys: Keys, config: ProducerConfig) -> Self {
        Self { conn, keys, config }
    }

    /// Enqueues photos or videos (`kind`) of one event on the queue of their kind and returns
    /// their job ids, in the order given. Idempotent per `(eventId, mediaId)`. With an `owner`,
    /// every message of the new jobs also reaches the room `user:<owner>`; a job enqueued
    /// before keeps its owner.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached; chunks written before the failure stay enqueued, and
    /// calling again with the same media is safe.
    pub async fn enqueue(
        &self,
        event_id: &EventId,
        request_id: &RequestId,
        kind: JobKind,
        owner: Option<&UserId>,
        items: &[NewMedia],
    ) -> Result<Vec<Enqueued>, QueueError> {
        let mut out = Vec::with_capacity(items.len());
        let ts = now_rfc3339();
        let enqueue = Enqueue {
            keys: &self.keys,
            event: &self.keys.event_keys(event_id),
            media_index: &self.keys.media_index(event_id, kind),
            queue: &self.keys.queue_keys(kind),
            kind,
            request_id,
            owner,
            ts: &ts,
            limits: &self.config.limits,
        };
        for chunk in items.chunks(self.config.chunk_size.max(1)) {
            let jobs = chunk
                .iter()
                .map(|item| {
                    // Of the event's group: the job's keys share its event's slot.
                    let job_id = self.keys.new_job_id(event_id);
                    Ok(NewJob {
                        media_id: &item.media_id,
                        payload: payload(kind, &job_id, event_id, request_id, item)?,
                        job: self.keys.job_keys(&job_id),
                    })
                })
                .collect::<Result<Vec<_>, serde_json::Error>>()?;
            let reply = enqueue.run(&mut self.conn.clone(), &jobs).await?;
            for (item, (job_id, created)) in chunk.iter().zip(reply) {
                out.push(Enqueued {
                    media_id: item.media_id.clone(),
                    job_id: JobId::parse(job_id)
                        .map_err(|e| QueueError::Malformed(e.to_string()))?,
                    created,
                });
            }
        }
        Ok(out)
    }
}

/// The queue payload of one job of `kind`.
fn payload(
    kind: JobKind,
    job_id: &JobId,
    event_id: &EventId,
    request_id: &RequestId,
    item: &NewMedia,
) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&MediaJob {
        kind,
        job_id: job_id.clone(),
        event_id: event_id.clone(),
        media_id: item.media_id.clone(),
        request_id: request_id.clone(),
        source: item.source.clone(),
    })
}
