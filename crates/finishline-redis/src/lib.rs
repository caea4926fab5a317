//! finishline's Redis layer: the key layout ([`Keys`]) and the Lua scripts, one module per
//! script in [`scripts`], each building its KEYS and typed ARGV and decoding its reply next to
//! its `.lua` file. Every key a script touches is passed in KEYS: no script builds a key name.
//!
//! `finishline-bus` (progress: publish, replay, tail) and `finishline-queue` (enqueue, fetch,
//! settle, housekeeping) are built on it; nothing else speaks to Redis.

mod call;
pub mod conn;
mod keys;
mod limits;
pub mod repair;
pub mod scripts;
pub mod topology;

pub use call::query_each;
pub use conn::{ConnOptions, Durability, RedisConn, is_not_replicated};
pub use keys::{EVENT_GROUPS, EventKeys, JobKeys, Keys, QueueKeys, group_of};
pub use limits::BusLimits;
pub use topology::{Topology, TopologyError};

/// Errors of the Redis layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("malformed data in redis: {0}")]
    Malformed(String),
}
