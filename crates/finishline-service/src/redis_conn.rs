//! Connecting to Redis: a clear error at start-up, automatic reconnection with backoff after.

use std::time::Duration;

use anyhow::Context;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::RedisArgs;

/// Connects a multiplexed, self-reconnecting connection.
///
/// `response_timeout` bounds each command; blocking readers (XREAD BLOCK) need one longer than
/// their block time. The redis-rs default of 500 ms kills busy worker pools, so callers choose.
///
/// # Errors
/// Fails with a message naming the (password-masked) URL and what to do when Redis is not
/// reachable at start-up.
pub async fn connect_redis(
    args: &RedisArgs,
    response_timeout: Duration,
) -> anyhow::Result<ConnectionManager> {
    let url = args.redacted_url();
    let client = redis::Client::open(args.redis_url.as_str())
        .with_context(|| format!("invalid Redis URL {url}"))?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(Some(response_timeout))
        .set_number_of_retries(6)
        .set_min_delay(Duration::from_millis(100))
        .set_max_delay(Duration::from_secs(5));
    let conn = ConnectionManager::new_with_config(client, config)
        .await
        .with_context(|| {
            format!(
                "cannot reach Redis at {url}: start redis-server there, or point --redis-url / REDIS_URL at a running one"
            )
        })?;
    Ok(conn)
}
