//! The queue: how processors enqueue jobs and how workers take them.
//!
//! [`Producer`] is the Rust producer API (the gateway's HTTP API uses it too): idempotent,
//! batched, one Lua call per chunk. [`task_stream`] is the workers' apalis backend: tasks
//! fetched in batches, each delivery settled together with its job's outcome. [`Housekeeper`]
//! promotes due retries in bounded chunks and recovers the tasks of dead workers.

mod codec;
mod consumer;
mod housekeeping;
mod producer;
mod retry;

pub use codec::{Delivery, decode_delivery};
pub use consumer::{FetchError, WorkerTuning, keep_alive, requeue, task_stream};
pub use housekeeping::{Housekeeper, QueueStats};
pub use producer::{Enqueued, NewMedia, Producer, ProducerConfig};
pub use retry::{Backoff, Retrier};

/// Errors of the queue API.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("malformed reply from redis: {0}")]
    Malformed(String),
    #[error("could not encode job: {0}")]
    Encode(#[from] serde_json::Error),
}

impl From<finishline_redis::Error> for QueueError {
    fn from(err: finishline_redis::Error) -> Self {
        match err {
            finishline_redis::Error::Redis(err) => Self::Redis(err),
            finishline_redis::Error::Malformed(message) => Self::Malformed(message),
        }
    }
}

/// Time since the Unix epoch (due retries are scored in Unix seconds).
pub(crate) fn unix_now() -> std::time::Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

/// A heartbeat's score in a queue's `:workers` set: Unix milliseconds.
pub(crate) fn heartbeat_score() -> u64 {
    u64::try_from(unix_now().as_millis()).unwrap_or(u64::MAX)
}
