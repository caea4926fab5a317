//! The Redis progress bus: the one way progress travels from workers to gateways.
//!
//! Workers publish through [`BusWriter`], in batches; every message is stamped with its event's next
//! `seq` inside Redis (a Lua script of `finishline-redis`), stored in the event's history for
//! replay, and appended to the progress stream that every gateway tails with [`StreamTail`].
//! Job state and event counters change in the same scripts, so a job is counted exactly once
//! however often it runs.

mod bib_index;
mod bus;
mod settings;
mod tail;
mod writer;

pub use bib_index::{BibIndex, MAX_BIB_PAGE};
pub use bus::{Finish, ProgressBus, RunOutcome};
pub use finishline_redis::{BusLimits, Keys};
pub use tail::{StreamMessage, StreamTail};
pub use writer::{Ack, BusWriter, Progress, WriterConfig};

/// Errors of the bus. All of them come from Redis or from data in Redis.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("malformed data in redis: {0}")]
    Malformed(String),
    /// A batch of the [`BusWriter`] failed, or the writer has stopped.
    #[error("redis unavailable: {0}")]
    Unavailable(String),
}

impl From<finishline_redis::Error> for BusError {
    fn from(err: finishline_redis::Error) -> Self {
        match err {
            finishline_redis::Error::Redis(err) => Self::Redis(err),
            finishline_redis::Error::Malformed(message) => Self::Malformed(message),
        }
    }
}

impl BusError {
    /// Whether retrying later can help (a connection problem rather than bad data).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Redis(_) | Self::Unavailable(_))
    }
}
