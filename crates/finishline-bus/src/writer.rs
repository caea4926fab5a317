//! The worker's batched side of the bus: run starts, progress messages and job ends of every
//! job of a worker process go through one task that sends them to Redis in batches, one Lua
//! call per batch (`lua/batch.lua`).
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

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use finishline_wire::{JobId, MessageName, Stage, now_rfc3339};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::BusError;
use crate::bib_index::{BibIndex, IndexKeys};
use crate::bus::{Finish, ProgressBus, RunOutcome};
use crate::scripts::BATCH;

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

type Reply<T> = oneshot::Sender<Result<T, BusError>>;

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

enum Op {
    Start {
        job_id: JobId,
        ts: String,
        reply: Reply<RunOutcome>,
    },
    Progress {
        job_id: JobId,
        run: u64,
        message: Progress,
        ts: String,
        /// `None`: fire and forget.
        reply: Option<Reply<Option<u64>>>,
        /// Queued without a reply while the writer was under load: a newer operation of its
        /// job may replace it.
        conflatable: bool,
    },
    Finish {
        job_id: JobId,
        run: u64,
        state: &'static str,
        name: MessageName,
        body: String,
        ts: String,
        result: String,
        error: String,
        ack: Option<Ack>,
        /// Indexed in the same call when it ends the job as succeeded.
        index: Option<BibIndex>,
        reply: Reply<i64>,
    },
    /// Fire and forget.
    Ack(Ack),
    /// Answered once every operation before it has reached Redis; sends nothing itself.
    Barrier { reply: oneshot::Sender<()> },
}

impl Op {
    fn job_id(&self) -> Option<&JobId> {
        match self {
            Self::Start { job_id, .. }
            | Self::Progress { job_id, .. }
            | Self::Finish { job_id, .. } => Some(job_id),
            Self::Barrier { .. } | Self::Ack(_) => None,
        }
    }

    /// A progress message nobody waits for, which a newer operation of its job may replace.
    fn is_conflatable(&self) -> bool {
        matches!(
            self,
            Self::Progress {
                conflatable: true,
                ..
            }
        )
    }

    /// Answers the sender with an error (the batch failed).
    fn fail(self, message: &str) {
        let err = || BusError::Unavailable(message.to_owned());
        match self {
            Self::Start { reply, .. } => {
                let _ = reply.send(Err(err()));
            }
            Self::Progress { reply, .. } => {
                if let Some(reply) = reply {
                    let _ = reply.send(Err(err()));
                }
            }
            Self::Finish { reply, .. } => {
                let _ = reply.send(Err(err()));
            }
            Self::Barrier { reply } => {
                let _ = reply.send(());
            }
            Self::Ack(ack) => {
                tracing::warn!(task_id = %ack.task_id, error = message, "delivery not settled; it is recovered with this worker's other tasks if the worker stops");
            }
        }
    }
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
        let task = tokio::spawn(write_batches(
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

    async fn wait<T>(rx: oneshot::Receiver<Result<T, BusError>>) -> Result<T, BusError> {
        rx.await
            .map_err(|_| BusError::Unavailable("the bus writer has stopped".to_owned()))?
    }

    /// Marks a job running and opens a new run (fencing token) for it; every run counts as an
    /// attempt. `AlreadyEnded` when the job has ended (a duplicate delivery, or cancelled).
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn start_run(&self, job_id: &JobId) -> Result<RunOutcome, BusError> {
        let (reply, rx) = oneshot::channel();
        self.send(Op::Start {
            job_id: job_id.clone(),
            ts: now_rfc3339(),
            reply,
        })
        .await?;
        Self::wait(rx).await
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
        let (reply, rx) = oneshot::channel();
        self.send(progress_op(job_id, run, message, Some(reply), false))
            .await?;
        Self::wait(rx).await
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
        let (reply, rx) = oneshot::channel();
        self.send(Op::Finish {
            job_id: job_id.clone(),
            run: run.unwrap_or(0),
            state: finish.state.as_str(),
            name: finish.name,
            body: finish.body.to_owned(),
            ts: now_rfc3339(),
            result: finish.result.unwrap_or("").to_owned(),
            error: finish.error.unwrap_or("").to_owned(),
            ack,
            index,
            reply,
        })
        .await?;
        Ok(Self::wait(rx).await? == 1)
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

async fn write_batches(
    bus: ProgressBus,
    mut rx: mpsc::Receiver<Op>,
    max_batch: usize,
    busy: Arc<AtomicBool>,
) {
    let mut batch = Vec::with_capacity(max_batch);
    let mut conn = bus.connection();
    while rx.recv_many(&mut batch, max_batch).await > 0 {
        busy.store(batch.len() >= LOADED_BATCH, Ordering::Relaxed);
        let conflated = conflate(&mut batch);
        metrics::histogram!("finishline_worker_bus_batch_ops").record(batch.len() as f64);
        if conflated > 0 {
            metrics::counter!("finishline_worker_progress_conflated_total").increment(conflated);
        }
        let mut call = BATCH.prepare_invoke();
        let limits = bus.limits();
        call.arg(bus.keys().prefix())
            .arg(limits.history_max)
            .arg(limits.stream_max)
            .arg(limits.retention.as_secs());
        let mut index_keys = IndexKeys::default();
        for op in &batch {
            match op {
                Op::Start { job_id, ts, .. } => {
                    call.arg("S").arg(job_id.as_str()).arg(ts);
                }
                Op::Progress {
                    job_id,
                    run,
                    message,
                    ts,
                    ..
                } => {
                    call.arg("P")
                        .arg(job_id.as_str())
                        .arg(*run)
                        .arg(message.name.as_str())
                        .arg(&message.body)
                        .arg(ts)
                        .arg(message.stage.as_str())
                        .arg(message.progress);
                }
                Op::Finish {
                    job_id,
                    run,
                    state,
                    name,
                    body,
                    ts,
                    result,
                    error,
                    ack,
                    index,
                    ..
                } => {
                    call.arg("F")
                        .arg(job_id.as_str())
                        .arg(*run)
                        .arg(*state)
                        .arg(name.as_str())
                        .arg(body)
                        .arg(ts)
                        .arg(result)
                        .arg(error);
                    encode_ack(&mut call, ack.as_ref());
                    index_keys.encode(&mut call, bus.keys(), index.as_ref());
                }
                Op::Ack(ack) => {
                    call.arg("A");
                    encode_ack(&mut call, Some(ack));
                }
                Op::Barrier { .. } => {}
            }
        }
        match call.invoke_async::<Vec<i64>>(&mut conn).await {
            Ok(results) => answer(batch.drain(..), &results),
            Err(err) => {
                tracing::warn!(error = %err, ops = batch.len(), "bus batch failed");
                let message = err.to_string();
                for op in batch.drain(..) {
                    op.fail(&message);
                }
            }
        }
    }
}

/// The three arguments of a settled delivery; empty strings for none.
fn encode_ack(call: &mut redis::ScriptInvocation<'_>, ack: Option<&Ack>) {
    match ack {
        Some(ack) => call.arg(&ack.queue).arg(&ack.worker).arg(&ack.task_id),
        None => call.arg("").arg("").arg(""),
    };
}

/// Drops each fire-and-forget progress message followed in the batch by another operation of
/// the same job; returns how many were dropped.
fn conflate(batch: &mut Vec<Op>) -> u64 {
    if !batch.iter().any(Op::is_conflatable) {
        return 0;
    }
    let mut later: HashSet<&str> = HashSet::with_capacity(batch.len());
    let mut keep = vec![true; batch.len()];
    for (i, op) in batch.iter().enumerate().rev() {
        let Some(job_id) = op.job_id() else { continue };
        let seen = !later.insert(job_id.as_str());
        if seen && op.is_conflatable() {
            keep[i] = false;
        }
    }
    let dropped = keep.iter().filter(|k| !**k).count() as u64;
    let mut keep = keep.into_iter();
    batch.retain(|_| keep.next().unwrap_or(true));
    dropped
}

/// Hands each operation its result; results come in operation order (two for a start).
fn answer(ops: impl Iterator<Item = Op>, results: &[i64]) {
    let mut results = results.iter().copied();
    let mut next = || {
        results.next().ok_or_else(|| {
            BusError::Malformed("bus batch answered fewer results than operations".to_owned())
        })
    };
    for op in ops {
        match op {
            Op::Start { reply, .. } => {
                let outcome = next().and_then(|run| {
                    let attempt = next()?;
                    Ok(if run <= 0 {
                        RunOutcome::AlreadyEnded
                    } else {
                        RunOutcome::Started {
                            run: run as u64,
                            attempt: u32::try_from(attempt).unwrap_or(u32::MAX),
                        }
                    })
                });
                let _ = reply.send(outcome);
            }
            Op::Progress {
                reply, job_id, run, ..
            } => {
                let seq = next().map(|seq| u64::try_from(seq).ok());
                match reply {
                    Some(reply) => {
                        let _ = reply.send(seq);
                    }
                    None => {
                        if let Ok(None) = seq
                            && run > 0
                        {
                            tracing::debug!(job_id = %job_id, run, "progress refused: the job ended or a newer run owns it");
                        }
                    }
                }
            }
            Op::Finish { reply, .. } => {
                let _ = reply.send(next());
            }
            Op::Barrier { reply } => {
                let _ = reply.send(());
            }
            Op::Ack(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(job: &str, reply: bool) -> Op {
        progress_queued(job, reply, !reply)
    }

    fn progress_queued(job: &str, reply: bool, conflatable: bool) -> Op {
        Op::Progress {
            job_id: JobId::parse(job).unwrap(),
            run: 1,
            message: Progress {
                name: MessageName::PhotoProgress,
                body: String::new(),
                stage: Stage::Ocr,
                progress: 33,
            },
            ts: String::new(),
            reply: reply.then(|| oneshot::channel().0),
            conflatable,
        }
    }

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

    fn finish(job: &str) -> Op {
        Op::Finish {
            job_id: JobId::parse(job).unwrap(),
            run: 1,
            state: "succeeded",
            name: MessageName::PhotoCompleted,
            body: String::new(),
            ts: String::new(),
            result: String::new(),
            error: String::new(),
            ack: None,
            index: None,
            reply: oneshot::channel().0,
        }
    }

    fn shape(batch: &[Op]) -> Vec<String> {
        batch
            .iter()
            .map(|op| {
                let kind = match op {
                    Op::Start { .. } => "S",
                    Op::Progress { .. } => "P",
                    Op::Finish { .. } => "F",
                    Op::Barrier { .. } => "B",
                    Op::Ack(_) => "A",
                };
                format!("{kind}{}", op.job_id().map_or("", JobId::as_str))
            })
            .collect()
    }

    #[test]
    fn older_progress_of_a_job_is_dropped_and_its_end_is_kept() {
        let mut batch = vec![
            progress("a", false),
            progress("b", false),
            progress("a", false),
            finish("a"),
            progress("c", true),
            progress("c", false),
        ];
        assert_eq!(conflate(&mut batch), 2);
        assert_eq!(shape(&batch), ["Pb", "Fa", "Pc", "Pc"]);
    }

    #[test]
    fn progress_queued_while_the_writer_was_idle_is_kept() {
        let mut batch = vec![progress_queued("a", false, false), finish("a")];
        assert_eq!(conflate(&mut batch), 0);
        assert_eq!(shape(&batch), ["Pa", "Fa"]);
    }

    #[test]
    fn a_batch_without_newer_operations_is_kept_whole() {
        let mut batch = vec![progress("a", false), progress("b", false), finish("c")];
        assert_eq!(conflate(&mut batch), 0);
        assert_eq!(batch.len(), 3);
    }
}
