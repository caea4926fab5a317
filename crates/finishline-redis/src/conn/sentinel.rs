//! The Sentinel form of [`super::RedisConn`]: one multiplexed connection to the primary the
//! sentinels name, replaced (asking the sentinels again) when it breaks or the server it
//! reaches is no longer the primary, so a failover is followed.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
use redis::{
    AsyncConnectionConfig, Cmd, ErrorKind, Pipeline, RedisConnectionInfo, RedisError, RedisResult,
    ServerErrorKind, Value,
};

use super::ConnOptions;
use crate::topology::{Auth, Node};

/// Attempts to find and reach a primary before giving up (the next command tries again).
const ATTEMPTS: u32 = 6;

type ConnFuture = Shared<BoxFuture<'static, Result<MultiplexedConnection, RedisError>>>;

#[derive(Clone)]
pub(super) struct SentinelConn(Arc<Inner>);

struct Inner {
    client: Arc<tokio::sync::Mutex<SentinelClient>>,
    config: AsyncConnectionConfig,
    db: i64,
    current: Mutex<Current>,
}

/// The connection in use (or being made), and how many times it was replaced: a failure
/// replaces only the connection it happened on, so many failing callers reconnect once.
#[derive(Clone)]
struct Current {
    generation: u64,
    conn: ConnFuture,
}

impl SentinelConn {
    pub(super) async fn connect(
        sentinels: &[Node],
        master: &str,
        db: i64,
        auth: &Auth,
        options: ConnOptions,
    ) -> RedisResult<Self> {
        let urls: Vec<String> = sentinels.iter().map(|n| format!("redis://{n}")).collect();
        let mut primary = RedisConnectionInfo::default().set_db(db);
        if let Some(user) = &auth.username {
            primary = primary.set_username(user);
        }
        if let Some(password) = &auth.password {
            primary = primary.set_password(password);
        }
        let node_info = SentinelNodeConnectionInfo::default().set_redis_connection_info(primary);
        let client =
            SentinelClient::build(urls, master, Some(node_info), SentinelServerType::Master)?;
        let client = Arc::new(tokio::sync::Mutex::new(client));
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(options.connection_timeout))
            .set_response_timeout(Some(options.response_timeout));
        let conn = resolve(client.clone(), config.clone(), 1);
        let this = Self(Arc::new(Inner {
            client,
            config,
            db,
            current: Mutex::new(Current {
                generation: 0,
                conn: conn.clone(),
            }),
        }));
        conn.await?;
        Ok(this)
    }

    pub(super) fn db(&self) -> i64 {
        self.0.db
    }

    fn current(&self) -> Current {
        self.0
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the connection of `generation` by a new one to the primary the sentinels name
    /// now (started at once, awaited by the next command).
    fn reconnect(&self, generation: u64) {
        let mut current = self
            .0
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if current.generation != generation {
            return;
        }
        let conn = resolve(self.0.client.clone(), self.0.config.clone(), ATTEMPTS);
        tokio::spawn(conn.clone().map(drop));
        *current = Current {
            generation: generation + 1,
            conn,
        };
    }

    async fn connection(&self) -> RedisResult<(u64, MultiplexedConnection)> {
        let current = self.current();
        match current.conn.clone().await {
            Ok(conn) => Ok((current.generation, conn)),
            Err(err) => {
                self.reconnect(current.generation);
                Err(err)
            }
        }
    }

    fn after<T>(&self, generation: u64, result: &RedisResult<T>) {
        if let Err(err) = result
            && primary_lost(err)
        {
            self.reconnect(generation);
        }
    }

    pub(super) async fn command(&self, cmd: &Cmd) -> RedisResult<Value> {
        let (generation, mut conn) = self.connection().await?;
        let result = conn.req_packed_command(cmd).await;
        self.after(generation, &result);
        result
    }

    pub(super) async fn commands(
        &self,
        pipeline: &Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisResult<Vec<Value>> {
        let (generation, mut conn) = self.connection().await?;
        let result = conn.req_packed_commands(pipeline, offset, count).await;
        let demoted = result.as_ref().is_ok_and(|replies| {
            replies
                .iter()
                .any(|v| matches!(v, Value::ServerError(e) if demoted(e.kind())))
        });
        if demoted {
            self.reconnect(generation);
        }
        self.after(generation, &result);
        result
    }
}

/// Whether the connection no longer reaches a usable primary: broken, timed out, or a server
/// that was demoted to a replica.
fn primary_lost(err: &RedisError) -> bool {
    err.is_unrecoverable_error()
        || err.is_io_error()
        || matches!(err.kind(), ErrorKind::Server(kind) if demoted(Some(kind)))
}

/// READONLY (a replica now) or MASTERDOWN.
fn demoted(kind: Option<ServerErrorKind>) -> bool {
    matches!(
        kind,
        Some(ServerErrorKind::ReadOnly | ServerErrorKind::MasterDown)
    )
}

/// Asks the sentinels for the primary and connects to it, up to `attempts` times with backoff
/// (a failover in progress names no valid primary for a moment).
fn resolve(
    client: Arc<tokio::sync::Mutex<SentinelClient>>,
    config: AsyncConnectionConfig,
    attempts: u32,
) -> ConnFuture {
    async move {
        let mut delay = Duration::from_millis(100);
        let mut attempt = 1;
        loop {
            let result = async {
                let primary = client.lock().await.async_get_client().await?;
                primary
                    .get_multiplexed_async_connection_with_config(&config)
                    .await
            }
            .await;
            match result {
                Ok(conn) => return Ok(conn),
                Err(err) if attempt >= attempts => return Err(err),
                Err(_) => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                    attempt += 1;
                }
            }
        }
    }
    .boxed()
    .shared()
}
