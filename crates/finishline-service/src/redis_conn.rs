//! Connecting to Redis: the topology named by the URL, a clear error at start-up, automatic
//! reconnection with backoff after (following a Sentinel failover).

use std::time::Duration;

use anyhow::Context;
use finishline_redis::{ConnOptions, RedisConn, Topology};

use crate::RedisArgs;

/// Connects a multiplexed, self-reconnecting connection to the standalone server, Sentinel
/// primary or Cluster that `--redis-url` names. Its writes are not waited on: the handles whose
/// writes are acknowledged to someone (the gateway's enqueue, the worker's bus writer) take
/// `conn.with_durability(args.durability())`.
///
/// `response_timeout` bounds each command; blocking readers (XREAD BLOCK) need one longer than
/// their block time. The redis-rs default of 500 ms kills busy worker pools, so callers choose.
///
/// # Errors
/// Fails with a message naming the (password-masked) URL and what to do when the URL is
/// malformed or Redis is not reachable at start-up.
pub async fn connect_redis(
    args: &RedisArgs,
    response_timeout: Duration,
) -> anyhow::Result<RedisConn> {
    let url = args.redacted_url();
    let topology =
        Topology::parse(&args.redis_url).with_context(|| format!("invalid Redis URL {url}"))?;
    let conn = RedisConn::connect(&topology, ConnOptions::new(response_timeout))
        .await
        .with_context(|| match &topology {
            Topology::Standalone { .. } => format!(
                "cannot reach Redis at {url}: start redis-server there, or point --redis-url / REDIS_URL at a running one"
            ),
            Topology::Sentinel { master, .. } => format!(
                "cannot reach the Redis primary {master:?} through the sentinels of {url}: check that they run and monitor {master:?}"
            ),
            Topology::Cluster { .. } => format!(
                "cannot reach the Redis Cluster at {url}: check that its nodes run and the cluster is formed (CLUSTER INFO says cluster_state:ok)"
            ),
        })?;
    Ok(conn)
}
