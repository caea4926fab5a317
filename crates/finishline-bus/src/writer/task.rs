//! The writer task: takes the queued operations in batches, sends each batch as one call of
//! `batch.lua` (finishline-redis) and answers every sender.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use finishline_redis::QueueKeys;
use finishline_redis::scripts::batch::{
    Batch, BibStep, End, Ended, Published, Reply, Settle, Started, Step,
};
use tokio::sync::mpsc;

use super::LOADED_BATCH;
use super::conflate::conflate;
use super::events::JobEvents;
use super::op::Op;
use crate::{BusError, ProgressBus, RunOutcome};

pub(super) async fn write_batches(
    bus: ProgressBus,
    mut rx: mpsc::Receiver<Op>,
    max_batch: usize,
    busy: Arc<AtomicBool>,
) {
    let mut ops = Vec::with_capacity(max_batch);
    let mut conn = bus.connection();
    let mut events = JobEvents::default();
    while rx.recv_many(&mut ops, max_batch).await > 0 {
        busy.store(ops.len() >= LOADED_BATCH, Ordering::Relaxed);
        let conflated = conflate(&mut ops);
        metrics::histogram!("finishline_worker_bus_batch_ops").record(ops.len() as f64);
        if conflated > 0 {
            metrics::counter!("finishline_worker_progress_conflated_total").increment(conflated);
        }
        for op in &ops {
            if let Op::Finish {
                job_id,
                index: Some(index),
                ..
            } = op
            {
                events.remember(job_id, index.event_id());
            }
        }
        let outcome: Result<_, BusError> = async {
            events
                .resolve(&mut conn, bus.keys(), ops.iter().filter_map(Op::job_id))
                .await?;
            let (batch, routes) = encode(&bus, &events, &ops);
            let replies = batch.run(&mut conn).await?;
            Ok((routes, replies))
        }
        .await;
        match outcome {
            Ok((routes, replies)) => answer(ops.drain(..), &routes, replies, &mut events),
            Err(err) => {
                tracing::warn!(error = %err, ops = ops.len(), "bus batch failed");
                let message = err.to_string();
                for op in ops.drain(..) {
                    op.fail(&message);
                }
            }
        }
    }
}

/// Where an operation's answer comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// The next reply of the batch.
    Sent,
    /// Sent, with no reply (a settle).
    SentQuiet,
    /// Answered here: the job is unknown to Redis (expired, or never enqueued).
    UnknownJob,
    /// Nothing to send (a barrier).
    Local,
}

/// The batch of `ops`, and how each is answered.
fn encode(bus: &ProgressBus, events: &JobEvents, ops: &[Op]) -> (Batch, Vec<Route>) {
    let keys = bus.keys();
    let mut batch = Batch::new(bus.limits());
    let event_of = |job_id| events.get(job_id).flatten();
    let routes = ops
        .iter()
        .map(|op| match op {
            Op::Start { job_id, ts, .. } => match event_of(job_id) {
                Some(event_id) => {
                    batch.start(&keys.event_keys(event_id), &keys.job_keys(job_id), ts);
                    Route::Sent
                }
                None => Route::UnknownJob,
            },
            Op::Progress {
                job_id,
                run,
                message,
                ts,
                ..
            } => match event_of(job_id) {
                Some(event_id) => {
                    let step = Step {
                        run: *run,
                        name: message.name,
                        body: &message.body,
                        ts,
                        stage: message.stage,
                        progress: message.progress,
                    };
                    batch.progress(&keys.event_keys(event_id), &keys.job_keys(job_id), &step);
                    Route::Sent
                }
                None => Route::UnknownJob,
            },
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
                let queue = ack.as_ref().map(|ack| QueueKeys::new(&ack.queue));
                let settle = ack.as_ref().zip(queue.as_ref()).map(|(ack, queue)| Settle {
                    queue,
                    worker: &ack.worker,
                    task_id: &ack.task_id,
                });
                match event_of(job_id) {
                    Some(event_id) => {
                        let end = End {
                            run: *run,
                            state: *state,
                            name: *name,
                            body,
                            ts,
                            result,
                            error,
                        };
                        let index_keys = index.as_ref().map(|i| keys.bib_index(i.event_id()));
                        let bibs = index
                            .as_ref()
                            .zip(index_keys.as_ref())
                            .map(|(index, keys)| BibStep {
                                keys,
                                sightings: index.sightings(),
                            });
                        batch.finish(
                            &keys.event_keys(event_id),
                            &keys.job_keys(job_id),
                            &end,
                            settle,
                            bibs,
                        );
                        Route::Sent
                    }
                    None => {
                        // The job is gone: its delivery is settled all the same.
                        if let Some(settle) = settle {
                            batch.settle(settle);
                        }
                        Route::UnknownJob
                    }
                }
            }
            Op::Ack(ack) => {
                let queue = QueueKeys::new(&ack.queue);
                batch.settle(Settle {
                    queue: &queue,
                    worker: &ack.worker,
                    task_id: &ack.task_id,
                });
                Route::SentQuiet
            }
            Op::Barrier { .. } => Route::Local,
        })
        .collect();
    (batch, routes)
}

/// Hands each operation its answer, in order.
fn answer(
    ops: impl Iterator<Item = Op>,
    routes: &[Route],
    replies: Vec<Reply>,
    events: &mut JobEvents,
) {
    let mut replies = replies.into_iter();
    for (op, route) in ops.zip(routes.iter().copied()) {
        let reply = if route == Route::Sent {
            replies.next()
        } else {
            None
        };
        let missing =
            || BusError::Malformed("bus batch answered fewer results than operations".to_owned());
        let wrong_event = |job_id: &finishline_wire::JobId| {
            BusError::Malformed(format!("job {job_id} is not of the event it was sent with"))
        };
        match op {
            Op::Start {
                job_id, reply: tx, ..
            } => {
                let outcome = match (route, reply) {
                    (Route::UnknownJob, _) => Ok(RunOutcome::AlreadyEnded),
                    (_, Some(Reply::Start(Started::Run { run, attempt }))) => {
                        Ok(RunOutcome::Started { run, attempt })
                    }
                    (_, Some(Reply::Start(Started::Ended))) => Ok(RunOutcome::AlreadyEnded),
                    (_, Some(Reply::Start(Started::WrongEvent))) => Err(wrong_event(&job_id)),
                    _ => Err(missing()),
                };
                if !matches!(outcome, Ok(RunOutcome::Started { .. })) {
                    events.forget(&job_id);
                }
                let _ = tx.send(outcome);
            }
            Op::Progress {
                reply: tx,
                job_id,
                run,
                ..
            } => {
                let seq = match (route, reply) {
                    (Route::UnknownJob, _) => Ok(None),
                    (_, Some(Reply::Progress(Published::Seq(seq)))) => Ok(Some(seq)),
                    (_, Some(Reply::Progress(Published::Ended | Published::Superseded))) => {
                        Ok(None)
                    }
                    (_, Some(Reply::Progress(Published::WrongEvent))) => Err(wrong_event(&job_id)),
                    _ => Err(missing()),
                };
                if route == Route::UnknownJob {
                    events.forget(&job_id);
                }
                match tx {
                    Some(tx) => {
                        let _ = tx.send(seq);
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
            Op::Finish {
                reply: tx, job_id, ..
            } => {
                let ended = match (route, reply) {
                    (Route::UnknownJob, _) => Ok(false),
                    (_, Some(Reply::Finish(Ended::WrongEvent))) => Err(wrong_event(&job_id)),
                    (_, Some(Reply::Finish(ended))) => Ok(ended == Ended::Now),
                    _ => Err(missing()),
                };
                events.forget(&job_id);
                let _ = tx.send(ended);
            }
            Op::Barrier { reply } => {
                let _ = reply.send(());
            }
            Op::Ack(_) => {}
        }
    }
}
