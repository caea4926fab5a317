//! The queue: how processors enqueue jobs and how workers are wired to apalis-redis.
//!
//! [`Producer`] is the Rust producer API (the gateway's HTTP API uses it too): idempotent,
//! batched, one Lua call per chunk. [`worker_storage`] builds the apalis-redis backend with the
//! settings that avoid its measured defects, and [`Housekeeper`] does what apalis-redis leaves
//! undone: promoting due retries in bounded chunks and vacuuming finished jobs.

mod codec;
mod housekeeping;
mod producer;
mod retry;
mod storage;

pub use codec::{Delivery, LenientJson};
pub use housekeeping::{Housekeeper, QueueStats};
pub use producer::{Enqueued, NewMedia, Producer, ProducerConfig};
pub use retry::{Backoff, Retrier};
pub use storage::{WorkerTuning, keep_alive, worker_storage};

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
