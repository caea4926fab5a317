//! The worker's batched side of the bus: run starts, progress messages and job ends of every
//! job of a worker process go through one task that sends them to Redis in batches, one Lua
//! call per batch (`batch.lua` of finishline-redis).
//!
//! While a batch is in flight, newer operations queue up and leave together in the next one, so
//! batches grow with load and one round trip carries many jobs. Under load, a progress message
//! that nobody waits for is conflated: when it was queued while the writer was under load (its
//! last batch carried at least [`LOADED_BATCH`] operations) and a newer operation of the same
//! job is in the same batch (a later progress message, or its end), the older message is
//! dropped — latest wins. Without load every message goes out.
//! Run starts and job ends are never dropped, and every operation of a job reaches Redis in
//! the order it was sent. The queue in front of the task is bounded: when Redis falls behind,
//! senders wait (backpressure) instead of piling up memory.

mod conflate;
mod events;
mod op;
mod task;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use finishline_wire::{JobId, MessageName, Stage, now_rfc3339};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use self::op::{Op, Reply};
use crate::BusError;
use crate::bib_index::BibIndex;
use crate::bus::{Finish, ProgressBus, RunOutcome};

/// Sizes of the writer's queue and batches.
#[derive(Debug, Clone, Copy)]
pub struct WriterConfig {
    /// Operations waiting for a batch before senders have to wait.
    pub queue: usize,
    /// Operations in one Lua call at most (bounds how long one call holds Redis).
    pub max_batch: usize,
    /// Whether fire-and-forget progress may be conflated under load (latest wins). Off, every
    /// progress message is stored and relayed: what a benchmark against a peer that conflates
    /// nothing must compare.
    pub conflate: bool,
}

impl Default for WriterConfig {
    fn default() -> Self {
        Self {
            queue: 4096,
            max_batch: 256,
            conflate: true,
        }
    }
}

/// A batch at least this large means the writer is under load: progress messages queued after
/// it may be conflated.
pub const LOADED_BATCH: usize = 8;

/// Settles one delivery of a queue task: the worker no longer holds it. Sent with the job's
/// end (same Lua call, so a job is never ended without its delivery settled, nor the other
/// way round), or alone when the run ends otherwise (retry scheduled, superseded, skipped).
#[derive(Debug, Clone)]
pub struct Ack {
    /// The queue's key ([`crate::Keys::queue`]); its in-flight sets and payload hash are
    /// named after it.
    pub queue: String,
    /// The worker holding the delivery.
    pub worker: String,
    pub task_id: String,
}

/// A handle on the writer task; cheap to clone. The task ends, after sending what it holds,
/// when every handle is dropped.
#[derive(Clone)]
pub struct BusWriter {
    tx: mpsc::Sender<Op>,
    /// Whether the writer is under load (its last batch had at least [`LOADED_BATCH`] ops).
    busy: Arc<AtomicBool>,
    /// [`WriterConfig::conflate`].
    conflate: bool,
}

impl BusWriter {
    /// Starts the writer task on `bus`'s connection.
    pub fn spawn(bus: ProgressBus, config: WriterConfig) -> (Self, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        let busy = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(task::write_batches(
            bus,
            rx,
            config.max_batch.max(1),
            busy.clone(),
        ));
        (
            Self {
                tx,
                busy,
                conflate: config.conflate,
            },
            task,
        )
    }

    async fn send(&self, op: Op) -> Result<(), BusError> {
        self.tx
            .send(op)
            .await
            .map_err(|_| BusError::Unavailable("the bus writer has stopped".to_owned()))
    }

    /// Queues the operation `op` builds around a reply channel and waits for the answer.
    async fn ask<T>(&self, op: impl FnOnce(Reply<T>) -> Op) -> Result<T, BusError> {
        let (reply, rx) = oneshot::channel();
        self.send(op(reply)).await?;
        rx.await
            .map_err(|_| BusError::Unavailable("the bus writer has stopped".to_owned()))?
    }

    /// Marks a job running and opens a new run (fencing token) for it; every run counts as an
    /// attempt. `AlreadyEnded` when the job has ended (a duplicate delivery, or cancelled).
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn start_run(&self, job_id: &JobId) -> Result<RunOutcome, BusError> {
        self.ask(|reply| Op::Start {
            job_id: job_id.clone(),
            ts: now_rfc3339(),
            reply,
        })
        .await
    }

    /// Publishes a progress message and waits for Redis' verdict: its `seq`, or `None` when
    /// the job has ended or a newer run owns it (the message is then dropped on purpose: it
    /// would move the job backwards).
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn progress_confirmed(
        &self,
        job_id: &JobId,
        run: u64,
        message: Progress,
    ) -> Result<Option<u64>, BusError> {
        self.ask(|reply| progress_op(job_id, run, message, Some(reply), false))
            .await
    }

    /// Queues a progress message without waiting for it: under load a newer operation of the
    /// same job may replace it. Waits only while the queue is full.
    ///
    /// # Errors
    /// Fails when the writer has stopped.
    pub async fn progress(
        &self,
        job_id: &JobId,
        run: u64,
        message: Progress,
    ) -> Result<(), BusError> {
        let conflatable = self.conflate && self.busy.load(Ordering::Relaxed);
        self.send(progress_op(job_id, run, message, None, conflatable))
            .await
    }

    /// Ends a job exactly once (see [`ProgressBus::finish`]), after every operation sent
    /// before it, and settles its delivery `ack` in the same call. Returns whether this call
    /// ended the job.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn finish(
        &self,
        job_id: &JobId,
        run: Option<u64>,
        finish: Finish<'_>,
        ack: Option<Ack>,
    ) -> Result<bool, BusError> {
        self.finish_indexed(job_id, run, finish, ack, None).await
    }

    /// [`Self::finish`], and in the same Lua call, when that call ends the job as succeeded,
    /// adds `index`'s sightings to the event's bib index (any end renews the index's TTL).
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn finish_indexed(
        &self,
        job_id: &JobId,
        run: Option<u64>,
        finish: Finish<'_>,
        ack: Option<Ack>,
        index: Option<BibIndex>,
    ) -> Result<bool, BusError> {
        self.ask(|reply| Op::Finish {
            job_id: job_id.clone(),
            run: run.unwrap_or(0),
            state: finish.state,
            name: finish.name,
            body: finish.body.to_owned(),
            ts: now_rfc3339(),
            result: finish.result.unwrap_or("").to_owned(),
            error: finish.error.unwrap_or("").to_owned(),
            ack,
            index,
            reply,
        })
        .await
    }

    /// Settles a delivery after every operation sent before it, without waiting.
    ///
    /// # Errors
    /// Fails when the writer has stopped.
    pub async fn ack(&self, ack: Ack) -> Result<(), BusError> {
        self.send(Op::Ack(ack)).await
    }

    /// Waits until every operation sent before has been through Redis (or failed).
    ///
    /// # Errors
    /// Fails when the writer has stopped.
    pub async fn flush(&self) -> Result<(), BusError> {
        let (reply, rx) = oneshot::channel();
        self.send(Op::Barrier { reply }).await?;
        rx.await
            .map_err(|_| BusError::Unavailable("the bus writer has stopped".to_owned()))
    }
}

/// A progress message of a run, as the job runner builds it.
#[derive(Debug, Clone)]
pub struct Progress {
    pub name: MessageName,
    /// The message body as a JSON object, without the common fields.
    pub body: String,
    pub stage: Stage,
    pub progress: u8,
}

fn progress_op(
    job_id: &JobId,
    run: u64,
    message: Progress,
    reply: Option<Reply<Option<u64>>>,
    conflatable: bool,
) -> Op {
    Op::Progress {
        job_id: job_id.clone(),
        run,
        message,
        ts: now_rfc3339(),
        reply,
        conflatable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `BusWriter::progress` queues while the writer is under load.
    async fn queued_under_load(conflate: bool) -> Op {
        let (tx, mut rx) = mpsc::channel(1);
        let writer = BusWriter {
            tx,
            busy: Arc::new(AtomicBool::new(true)),
            conflate,
        };
        let message = Progress {
            name: MessageName::PhotoProgress,
            body: String::new(),
            stage: Stage::Ocr,
            progress: 33,
        };
        let job = JobId::parse("j1").unwrap();
        writer.progress(&job, 1, message).await.unwrap();
        rx.recv().await.unwrap()
    }

    #[tokio::test]
    async fn under_load_progress_may_be_conflated_unless_conflation_is_off() {
        assert!(queued_under_load(true).await.is_conflatable());
        assert!(!queued_under_load(false).await.is_conflatable());
    }
}
