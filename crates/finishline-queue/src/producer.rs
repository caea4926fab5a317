//! The producer API: enqueue one or many photos (or videos) of an event, idempotently.

use std::sync::LazyLock;

use finishline_bus::{BusLimits, Keys, with_prelude};
use finishline_wire::{
    EventId, JobId, JobKind, MediaId, MediaSource, PhotoJob, RequestId, now_rfc3339,
};
use redis::Script;
use redis::aio::ConnectionManager;

use crate::QueueError;

static ENQUEUE: LazyLock<Script> = LazyLock::new(|| with_prelude(include_str!("lua/enqueue.lua")));

/// Settings of a producer.
#[derive(Debug, Clone, Copy)]
pub struct ProducerConfig {
    /// Jobs written per Lua call; bounded so one call never blocks Redis for long.
    pub chunk_size: usize,
    /// Attempts a job gets before it fails for good (transient errors only).
    pub max_attempts: u32,
    pub limits: BusLimits,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        Self {
            chunk_size: 500,
            max_attempts: 3,
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
    conn: ConnectionManager,
    keys: Keys,
    config: ProducerConfig,
}

impl Producer {
    pub fn new(conn: ConnectionManager, keys: Keys, config: ProducerConfig) -> Self {
        Self { conn, keys, config }
    }

    /// Enqueues photos of one event and returns their job ids, in the order given.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached; chunks written before the failure stay enqueued, and
    /// calling again with the same photos is safe (enqueue is idempotent).
    pub async fn enqueue_photos(
        &self,
        event_id: &EventId,
        request_id: &RequestId,
        photos: &[NewMedia],
    ) -> Result<Vec<Enqueued>, QueueError> {
        let mut out = Vec::with_capacity(photos.len());
        for chunk in photos.chunks(self.config.chunk_size.max(1)) {
            let mut call = ENQUEUE.prepare_invoke();
            call.arg(self.keys.prefix())
                .arg(self.keys.queue(JobKind::Photo))
                .arg(event_id.as_str())
                .arg(request_id.as_str())
                .arg(JobKind::Photo.as_str())
                .arg(self.config.max_attempts)
                .arg(now_rfc3339())
                .arg(self.config.limits.history_max)
                .arg(self.config.limits.stream_max)
                .arg(self.config.limits.retention.as_secs());
            for photo in chunk {
                let job = PhotoJob {
                    job_id: JobId::generate(),
                    event_id: event_id.clone(),
                    photo_id: photo.media_id.clone(),
                    request_id: request_id.clone(),
                    source: photo.source.clone(),
                };
                call.arg(photo.media_id.as_str())
                    .arg(job.job_id.as_str())
                    .arg(serde_json::to_vec(&job)?);
            }
            let reply: Vec<(String, u8)> = call.invoke_async(&mut self.conn.clone()).await?;
            if reply.len() != chunk.len() {
                return Err(QueueError::Malformed(format!(
                    "enqueue answered {} jobs for {}",
                    reply.len(),
                    chunk.len()
                )));
            }
            for (photo, (job_id, created)) in chunk.iter().zip(reply) {
                out.push(Enqueued {
                    media_id: photo.media_id.clone(),
                    job_id: JobId::parse(job_id)
                        .map_err(|e| QueueError::Malformed(e.to_string()))?,
                    created: created == 1,
                });
            }
        }
        Ok(out)
    }
}
