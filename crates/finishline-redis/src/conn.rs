//! One connection type for every Redis deployment: [`RedisConn`], cloneable and multiplexed,
//! reconnecting on its own, and a `redis::aio::ConnectionLike` so scripts, commands and
//! pipelines take it like any redis-rs connection.
//!
//! - standalone (`redis://`, `rediss://`): redis-rs's `ConnectionManager`;
//! - Sentinel (`redis+sentinel://…/<master>`): a multiplexed connection to the primary the
//!   sentinels name (redis-rs `sentinel`), asked again whenever the connection breaks or the
//!   server answers READONLY, so a failover is followed;
//! - Cluster (`redis+cluster://…`): redis-rs `cluster_async::ClusterConnection`.
//!
//! With [`Durability::Replicated`], every script call (every write finishline makes to a job
//! or a queue is a script) is pipelined with `WAIT 1 <timeout>` on the same connection, and
//! fails with [`is_not_replicated`] when no replica acknowledged it in time.

mod sentinel;

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, RedisResult, Value};

use crate::topology::{Auth, Topology};

/// How long to wait for a connection and for each reply.
#[derive(Debug, Clone, Copy)]
pub struct ConnOptions {
    pub connection_timeout: Duration,
    /// Bounds each command; blocking readers (XREAD BLOCK) need one longer than their block.
    pub response_timeout: Duration,
}

impl ConnOptions {
    pub fn new(response_timeout: Duration) -> Self {
        Self {
            connection_timeout: Duration::from_secs(5),
            response_timeout,
        }
    }
}

/// What a write must reach before it counts as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// The primary's memory (Redis' default): a failover can lose the last writes.
    #[default]
    Single,
    /// The primary and at least one replica, within `timeout` (`WAIT 1 <timeout>`).
    Replicated { timeout: Duration },
}

/// A cloneable, multiplexed, self-reconnecting connection to any supported topology.
#[derive(Clone)]
pub struct RedisConn {
    link: Link,
    durability: Durability,
}

#[derive(Clone)]
enum Link {
    Standalone(ConnectionManager),
    Sentinel(sentinel::SentinelConn),
    Cluster(ClusterConnection),
}

const NOT_REPLICATED: &str = "not replicated";

/// Whether `err` says a write reached the primary but no replica within the timeout (the write
/// may be applied; a retry must be idempotent).
pub fn is_not_replicated(err: &RedisError) -> bool {
    err.kind() == ErrorKind::Client && err.to_string().starts_with(NOT_REPLICATED)
}

impl RedisConn {
    /// Connects to `topology`, failing when it cannot be reached now.
    ///
    /// # Errors
    /// The redis-rs error of the first connection (or of the sentinels' answer).
    pub async fn connect(topology: &Topology, options: ConnOptions) -> RedisResult<Self> {
        let link = match topology {
            Topology::Standalone { url } => {
                let client = redis::Client::open(url.as_str())?;
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(options.connection_timeout))
                    .set_response_timeout(Some(options.response_timeout))
                    .set_number_of_retries(6)
                    .set_min_delay(Duration::from_millis(100))
                    .set_max_delay(Duration::from_secs(5));
                Link::Standalone(ConnectionManager::new_with_config(client, config).await?)
            }
            Topology::Sentinel {
                sentinels,
                master,
                db,
                auth,
            } => Link::Sentinel(
                sentinel::SentinelConn::connect(sentinels, master, *db, auth, options).await?,
            ),
            Topology::Cluster { nodes, auth } => {
                let urls = nodes.iter().map(|n| format!("redis://{n}"));
                let builder = with_auth(ClusterClientBuilder::new(urls), auth)
                    .connection_timeout(options.connection_timeout)
                    .response_timeout(options.response_timeout)
                    .retries(6)
                    .min_retry_wait(100)
                    .max_retry_wait(5_000);
                Link::Cluster(builder.build()?.get_async_connection().await?)
            }
        };
        Ok(Self {
            link,
            durability: Durability::Single,
        })
    }

    /// The same connection, whose script calls wait for `durability`.
    #[must_use]
    pub fn with_durability(&self, durability: Durability) -> Self {
        Self {
            link: self.link.clone(),
            durability,
        }
    }

    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// Whether this is a Redis Cluster connection (every script call must stay in one slot,
    /// and blocking reads need a connection of their own).
    pub fn is_cluster(&self) -> bool {
        matches!(self.link, Link::Cluster(_))
    }
}

fn with_auth(mut builder: ClusterClientBuilder, auth: &Auth) -> ClusterClientBuilder {
    if let Some(user) = &auth.username {
        builder = builder.username(user);
    }
    if let Some(password) = &auth.password {
        builder = builder.password(password);
    }
    builder
}

impl Link {
    async fn command(&mut self, cmd: &Cmd) -> RedisResult<Value> {
        match self {
            Self::Standalone(conn) => conn.req_packed_command(cmd).await,
            Self::Sentinel(conn) => conn.command(cmd).await,
            Self::Cluster(conn) => conn.req_packed_command(cmd).await,
        }
    }

    async fn commands(
        &mut self,
        pipeline: &Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisResult<Vec<Value>> {
        match self {
            Self::Standalone(conn) => conn.req_packed_commands(pipeline, offset, count).await,
            Self::Sentinel(conn) => conn.commands(pipeline, offset, count).await,
            Self::Cluster(conn) => conn.req_packed_commands(pipeline, offset, count).await,
        }
    }
}

/// A script call: the writes finishline makes to jobs and queues.
fn is_script_call(cmd: &Cmd) -> bool {
    match cmd.args_iter().next() {
        Some(redis::Arg::Simple(name)) => ["EVALSHA", "EVAL", "FCALL"]
            .iter()
            .any(|n| name.eq_ignore_ascii_case(n.as_bytes())),
        _ => false,
    }
}

fn wait_cmd(timeout: Duration) -> Cmd {
    let mut wait = redis::cmd("WAIT");
    wait.arg(1).arg(
        u64::try_from(timeout.as_millis())
            .unwrap_or(u64::MAX)
            .max(1),
    );
    wait
}

/// Checks `WAIT`'s reply: at least one replica.
fn replicated(reply: Option<Value>, timeout: Duration) -> RedisResult<()> {
    match reply {
        Some(Value::Int(n)) if n >= 1 => Ok(()),
        Some(Value::Int(_)) => Err(RedisError::from((
            ErrorKind::Client,
            NOT_REPLICATED,
            format!("no replica acknowledged the write within {timeout:?} (WAIT 1 answered 0)"),
        ))),
        Some(Value::ServerError(err)) => Err(err.into()),
        other => Err(RedisError::from((
            ErrorKind::UnexpectedReturnType,
            "WAIT answered",
            format!("{other:?}"),
        ))),
    }
}

/// `cmd` then `WAIT 1 <timeout>`, one pipeline on one connection: the WAIT covers the write
/// even when the connection is replaced between calls.
async fn durable_command(link: &mut Link, cmd: &Cmd, timeout: Duration) -> RedisResult<Value> {
    let mut pipe = redis::pipe();
    pipe.add_command(cmd.clone()).add_command(wait_cmd(timeout));
    let mut replies = link.commands(&pipe, 0, 2).await?;
    let acked = replies.pop();
    let reply = replies.pop().ok_or_else(|| {
        RedisError::from((ErrorKind::UnexpectedReturnType, "empty pipeline reply"))
    })?;
    if let Value::ServerError(err) = reply {
        // Nothing was written (or the script must be loaded first): no WAIT verdict needed.
        return Err(err.into());
    }
    replicated(acked, timeout)?;
    Ok(reply)
}

/// A pipeline of `count` commands followed by `WAIT 1 <timeout>`.
async fn durable_commands(
    link: &mut Link,
    pipeline: &Pipeline,
    count: usize,
    timeout: Duration,
) -> RedisResult<Vec<Value>> {
    let mut pipe = redis::pipe();
    for cmd in pipeline.cmd_iter() {
        pipe.add_command(cmd.clone());
    }
    pipe.add_command(wait_cmd(timeout));
    let mut replies = link.commands(&pipe, 0, count + 1).await?;
    let acked = replies.pop();
    replicated(acked, timeout)?;
    Ok(replies)
}

impl ConnectionLike for RedisConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            match self.durability {
                Durability::Replicated { timeout } if is_script_call(cmd) => {
                    durable_command(&mut self.link, cmd, timeout).await
                }
                _ => self.link.command(cmd).await,
            }
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let durable = match self.durability {
                // A transaction's replies come after EXEC; WAIT inside MULTI would not block.
                Durability::Replicated { timeout }
                    if !pipeline.is_transaction()
                        && offset == 0
                        && pipeline.cmd_iter().any(is_script_call) =>
                {
                    Some(timeout)
                }
                _ => None,
            };
            match durable {
                Some(timeout) => durable_commands(&mut self.link, pipeline, count, timeout).await,
                None => self.link.commands(pipeline, offset, count).await,
            }
        })
    }

    fn get_db(&self) -> i64 {
        match &self.link {
            Link::Standalone(conn) => conn.get_db(),
            Link::Sentinel(conn) => conn.db(),
            Link::Cluster(conn) => conn.get_db(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_script_calls_wait_for_a_replica() {
        assert!(is_script_call(redis::cmd("EVALSHA").arg("abc").arg(0)));
        assert!(is_script_call(redis::cmd("eval").arg("return 1").arg(0)));
        assert!(!is_script_call(redis::cmd("HGET").arg("k").arg("f")));
        assert!(!is_script_call(redis::cmd("XREAD").arg("BLOCK").arg(1)));
    }

    #[test]
    fn wait_verdicts() {
        let timeout = Duration::from_millis(250);
        assert!(replicated(Some(Value::Int(1)), timeout).is_ok());
        let err = replicated(Some(Value::Int(0)), timeout).unwrap_err();
        assert!(is_not_replicated(&err), "{err}");
        assert!(err.to_string().contains("250ms"), "{err}");
        assert!(!is_not_replicated(&replicated(None, timeout).unwrap_err()));
    }
}
