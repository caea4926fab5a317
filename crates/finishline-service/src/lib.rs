//! Service support shared by the worker and the gateway: configuration pieces, telemetry,
//! shutdown and the Redis connection.

mod config;
mod metrics;
mod redis_conn;
mod shutdown;
mod telemetry;

pub use config::{LogArgs, LogFormat, RedisArgs, RetentionArgs, parse_duration, redact_url};
pub use metrics::init_metrics;
pub use redis_conn::connect_redis;
pub use shutdown::shutdown_token;
pub use telemetry::init_telemetry;
