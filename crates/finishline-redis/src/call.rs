//! One invocation of a script: its KEYS, each passed once however often the operations name
//! it, and its ARGV.

use std::collections::HashMap;

use redis::aio::ConnectionLike;
use redis::{FromRedisValue, RedisResult, Script, ScriptInvocation, ToRedisArgs};

/// A script call being built. Operations name keys by their position in KEYS (1-based, as Lua
/// counts), which [`Call::key`] and [`Call::keys`] hand out.
pub(crate) struct Call {
    invocation: ScriptInvocation<'static>,
    positions: HashMap<String, usize>,
    keys: Vec<String>,
}

impl Call {
    pub(crate) fn new(script: &'static Script) -> Self {
        Self {
            invocation: script.prepare_invoke(),
            positions: HashMap::new(),
            keys: Vec::new(),
        }
    }

    /// The position of `key` in KEYS, passing it if this call has not yet.
    pub(crate) fn key(&mut self, key: &str) -> usize {
        if let Some(position) = self.positions.get(key) {
            return *position;
        }
        self.push(key)
    }

    /// The position of the first of `keys`, passed together (the script finds the others
    /// after it). A group is recognised by its first key: pass a group always whole.
    pub(crate) fn keys(&mut self, keys: &[&str]) -> usize {
        let Some(first) = keys.first() else {
            return 0;
        };
        if let Some(position) = self.positions.get(*first) {
            return *position;
        }
        let position = self.push(first);
        for key in &keys[1..] {
            self.keys.push((*key).to_owned());
            self.invocation.key(*key);
        }
        position
    }

    fn push(&mut self, key: &str) -> usize {
        self.keys.push(key.to_owned());
        self.invocation.key(key);
        let position = self.keys.len();
        self.positions.insert(key.to_owned(), position);
        position
    }

    pub(crate) fn arg<T: ToRedisArgs>(&mut self, arg: T) -> &mut Self {
        self.invocation.arg(arg);
        self
    }

    /// The keys passed so far, in KEYS order.
    pub(crate) fn passed_keys(&self) -> &[String] {
        &self.keys
    }

    pub(crate) async fn invoke<T, C>(&self, conn: &mut C) -> RedisResult<T>
    where
        T: FromRedisValue,
        C: ConnectionLike + Send,
    {
        self.invocation.invoke_async(conn).await
    }
}

/// Runs `cmds` concurrently on clones of `conn` and returns their replies in order. Redis
/// Cluster connections refuse a pipeline whose commands hash to different slots; on a
/// multiplexed connection concurrent commands share round trips all the same (one per node).
///
/// # Errors
/// The first command's error, if any fails.
pub async fn query_each<T, C>(conn: &C, cmds: &[redis::Cmd]) -> RedisResult<Vec<T>>
where
    T: FromRedisValue,
    C: ConnectionLike + Clone + Send,
{
    futures::future::try_join_all(cmds.iter().map(|cmd| {
        let mut conn = conn.clone();
        async move { cmd.query_async(&mut conn).await }
    }))
    .await
}
