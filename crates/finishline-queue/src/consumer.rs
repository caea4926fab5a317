//! The worker's side of the queue: an apalis backend that takes tasks from Redis in batches.
//!
//! One Lua call (`fetch.lua` of finishline-redis) registers the worker's heartbeat, pops up to
//! [`WorkerTuning::fetch_batch`] task ids from the queue, marks them in flight for this worker and
//! returns their payloads. Tasks reach the apalis worker one at a time, as its concurrency
//! allows. Each delivery carries an [`Ack`]: the job runner settles it in the same Lua call that
//! records the job's outcome (see `finishline_bus::BusWriter`), so there is no separate
//! acknowledgement round trip, and a task is never settled without its outcome recorded.
//!
//! A worker that dies leaves its tasks in its in-flight set; [`crate::Housekeeper`] on any
//! live worker puts them back on the queue once the dead worker's heartbeat is older than
//! `heartbeat_interval × missed_heartbeats`. [`keep_alive`] beats on its own timer, so a
//! worker busy with long jobs keeps its tasks.
//!
//! The key layout is apalis-redis 1.0's (`<queue>:active`, `:data`, `:inflight:<worker>`,
//! `:workers`, `:scheduled`), without its per-task metadata hashes and done sets, which cost
//! five Redis calls per job and a vacuum.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use apalis::prelude::{Task, TaskBuilder, TaskId, WorkerContext};
use finishline_bus::{Ack, Keys};
use finishline_redis::QueueKeys;
use finishline_redis::RedisConn;
use finishline_redis::scripts::{fetch, requeue as requeue_script};
use finishline_wire::JobKind;
use futures::StreamExt;
use futures::stream::BoxStream;
use serde::de::DeserializeOwned;

use crate::codec::decode_delivery;
use crate::{Delivery, heartbeat_score};

/// Timing of a worker's queue consumption.
#[derive(Debug, Clone, Copy)]
pub struct WorkerTuning {
    /// How often the worker tells Redis it is alive.
    pub heartbeat_interval: Duration,
    /// Heartbeats a worker may miss before its tasks are given to others.
    pub missed_heartbeats: u32,
    /// Tasks taken from the queue in one call. They wait in the worker, counted as its own,
    /// until a slot frees up.
    pub fetch_batch: usize,
    /// How long an idle worker waits before asking the queue again.
    pub poll_interval: Duration,
}

impl Default for WorkerTuning {
    fn default() -> Self {
        Self {
            heartbeat_interval: Duration::from_secs(3),
            missed_heartbeats: 5,
            fetch_batch: 16,
            poll_interval: Duration::from_millis(50),
        }
    }
}

impl WorkerTuning {
    /// After how long without a heartbeat a worker is presumed dead.
    pub fn orphan_after(&self) -> Duration {
        self.heartbeat_interval * self.missed_heartbeats.max(1)
    }
}

/// What a fetch can fail with; the apalis worker stops on it and is restarted.
pub type FetchError = redis::RedisError;

/// The stream of tasks of one queue for the apalis worker named by its context: fetched in
/// batches, then handed out one at a time. Never ends by itself; an idle queue is polled every
/// `tuning.poll_interval`.
pub fn task_stream<J>(
    conn: RedisConn,
    keys: Keys,
    kind: JobKind,
    worker: &WorkerContext,
    tuning: WorkerTuning,
) -> BoxStream<'static, Result<Option<Task<Delivery<J>>>, FetchError>>
where
    J: DeserializeOwned + Send + Sync + 'static,
{
    let state = Fetcher {
        conn,
        queue: keys.queue_keys(kind),
        worker: worker.name().to_owned(),
        tuning,
        buffer: VecDeque::new(),
    };
    futures::stream::unfold(state, |mut state| async move {
        let next = state.next::<J>().await;
        Some((next.map(Some), state))
    })
    .boxed()
}

struct Fetcher {
    conn: RedisConn,
    queue: QueueKeys,
    worker: String,
    tuning: WorkerTuning,
    buffer: VecDeque<(String, Option<Vec<u8>>)>,
}

impl Fetcher {
    async fn next<J: DeserializeOwned + Send + Sync + 'static>(
        &mut self,
    ) -> Result<Task<Delivery<J>>, FetchError> {
        loop {
            if let Some((task_id, payload)) = self.buffer.pop_front() {
                return Ok(self.task(task_id, payload));
            }
            let now = heartbeat_score();
            let fetched = fetch::fetch(
                &mut self.conn,
                &self.queue,
                &self.worker,
                self.tuning.fetch_batch,
                now,
            )
            .await
            .map_err(into_redis)?;
            if fetched.is_empty() {
                tokio::time::sleep(self.tuning.poll_interval).await;
            }
            self.buffer.extend(fetched);
        }
    }

    fn task<J: DeserializeOwned>(
        &self,
        task_id: String,
        payload: Option<Vec<u8>>,
    ) -> Task<Delivery<J>> {
        let delivery = match payload {
            Some(bytes) => decode_delivery(&bytes),
            None => Delivery::Poison {
                job_id: None,
                error: format!("task {task_id} has no payload"),
            },
        };
        let ack = Ack {
            queue: self.queue.name.clone(),
            worker: self.worker.clone(),
            task_id: task_id.clone(),
        };
        TaskBuilder::new(delivery)
            .task_id(TaskId::from_string(task_id))
            .data(ack)
            .build()
    }
}

/// Beats for worker `worker_name` of a queue every `interval` until dropped, whether or not
/// the worker is asking for work. Only refreshes a registration the worker's first fetch made
/// (`ZADD XX`): a worker that others have declared dead stays so.
pub async fn keep_alive(
    mut conn: RedisConn,
    keys: &Keys,
    kind: JobKind,
    worker_name: &str,
    interval: Duration,
) -> Infallible {
    let workers = keys.queue_workers(kind);
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = heartbeat_score();
        let beat: Result<u64, _> = redis::cmd("ZADD")
            .arg(&workers)
            .arg("XX")
            .arg(now)
            .arg(worker_name)
            .query_async(&mut conn)
            .await;
        if let Err(err) = beat {
            tracing::warn!(error = %err, worker = worker_name, "heartbeat failed");
        }
    }
}

/// Puts a delivery back on its queue, unless its worker no longer holds it (it was recovered
/// meanwhile). Returns whether it went back.
///
/// # Errors
/// Fails when Redis cannot be reached.
pub async fn requeue(conn: &mut RedisConn, ack: &Ack) -> Result<bool, redis::RedisError> {
    requeue_script::requeue(conn, &QueueKeys::new(&ack.queue), &ack.worker, &ack.task_id)
        .await
        .map_err(into_redis)
}

/// The consumer's errors are Redis errors (apalis restarts a worker on them).
fn into_redis(err: finishline_redis::Error) -> redis::RedisError {
    match err {
        finishline_redis::Error::Redis(err) => err,
        finishline_redis::Error::Malformed(message) => {
            redis::RedisError::from((redis::ErrorKind::Client, "malformed reply", message))
        }
    }
}
