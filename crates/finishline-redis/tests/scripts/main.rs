//! Every script of finishline-redis against a real redis-server (one per test).

mod batch;
mod enqueue;
mod queue;
mod server;

use finishline_redis::{BusLimits, Keys};
use redis::aio::MultiplexedConnection;

/// The keys of a test, under a prefix of its own.
fn keys() -> Keys {
    Keys::new("t")
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
