//! Every script of finishline-redis against a real redis-server (one per test), twice: on a
//! standalone server and on a one-node Redis Cluster, which refuses any call whose keys hash
//! to different slots (CROSSSLOT) and so proves every call of the layout slot-safe.

/// Runs each named `async fn(Server)` as two tests, `<name>::standalone` and
/// `<name>::one_node_cluster`.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn standalone() {
                super::$name(crate::server::Server::start()).await;
            }

            #[tokio::test]
            async fn one_node_cluster() {
                super::$name(crate::server::Server::start_cluster()).await;
            }
        }
    )*};
}

mod batch;
mod enqueue;
mod queue;
mod server;

use finishline_redis::{BusLimits, Keys, group_of};
use redis::aio::MultiplexedConnection;

/// The keys of a test, under a prefix of its own.
fn keys() -> Keys {
    Keys::new("t")
}

/// A job id of `event`'s group made from `name` (`<name>.<n>`, the first that falls in it),
/// as the producer makes job ids of an event's group.
fn jid(event: &str, name: &str) -> String {
    (0..)
        .map(|n| format!("{name}.{n}"))
        .find(|id| group_of(id) == group_of(event))
        .expect("some suffix falls in the group")
}

fn limits() -> BusLimits {
    BusLimits::default()
}

async fn cmd<T: redis::FromRedisValue>(conn: &mut MultiplexedConnection, args: &[&str]) -> T {
    let mut cmd = redis::cmd(args[0]);
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    cmd.query_async(conn)
        .await
        .unwrap_or_else(|err| panic!("{args:?}: {err}"))
}

/// The (name, data) of every entry of a stream.
async fn stream(conn: &mut MultiplexedConnection, key: &str) -> Vec<(String, serde_json::Value)> {
    let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(key)
        .arg("-")
        .arg("+")
        .query_async(conn)
        .await
        .unwrap();
    reply
        .ids
        .iter()
        .map(|e| {
            let name: String = e.get("n").unwrap();
            let data: String = e.get("d").unwrap();
            (name, serde_json::from_str(&data).unwrap())
        })
        .collect()
}
