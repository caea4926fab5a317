//! The writer task: takes the queued operations in batches, sends each batch as one call of
//! `batch.lua` (finishline-redis) and answers every sender.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use std::collections::HashMap;

use finishline_redis::scripts::batch::{
    Batch, BibStep, End, Ended, Published, Reply, Started, Step,
};
use finishline_redis::scripts::settle::{self, Settle};
use finishline_redis::{EventKeys, Keys, QueueKeys, RedisConn};
use tokio::sync::mpsc;

use super::conflate::conflate;
use super::events::JobEvents;
use super::op::Op;
use super::{Ack, LOADED_BATCH};
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
        let resolved = events
            .resolve(&mut conn, bus.keys(), ops.iter().filter_map(Op::job_id))
            .await;
        if let Err(err) = resolved {
            tracing::warn!(error = %err, ops = ops.len(), "bus batch failed");
            let message = err.to_string();
            for op in ops.drain(..) {
                op.fail(&message);
            }
            continue;
        }
        let plan = encode(&bus, &events, &ops);
        let routes = plan.routes.clone();
        let results = plan.run(&conn).await;
        answer(ops.drain(..), &routes, results, &mut events);
    }
}

/// Where an operation's answer comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// The next reply of the group batch at this index.
    Sent(usize),
    /// Nothing to answer (a settle, sent with the queue side).
    Quiet,
    /// Answered here: the job is unknown to Redis (expired, or never enqueued).
    UnknownJob,
    /// Nothing to send (a barrier).
    Local,
}

/// A delivery to settle once the job end it goes with is stored (`after`: the index of its
/// group batch; `None` to settle whatever happens).
struct PendingSettle {
    ack: Ack,
    after: Option<usize>,
}

/// What a batch of operations sends: one `batch.lua` call per event group (each of one slot),
/// then one `settle.lua` call per queue for the deliveries of the jobs whose end is stored.
struct Plan {
    batches: Vec<Batch>,
    routes: Vec<Route>,
    settles: Vec<PendingSettle>,
}

impl Plan {
    /// Runs the group batches concurrently (one pipelined round trip on a multiplexed
    /// connection), then, once they have answered, the settles. Returns each batch's result.
    async fn run(self, conn: &RedisConn) -> Vec<Result<Vec<Reply>, String>> {
        let groups: Vec<Option<u16>> = self.batches.iter().map(Batch::group).collect();
        let runs = self.batches.into_iter().map(|batch| {
            let mut conn = conn.clone();
            async move { batch.run(&mut conn).await.map_err(|err| err.to_string()) }
        });
        let results = futures::future::join_all(runs).await;
        for (i, result) in results.iter().enumerate() {
            if let Err(err) = result {
                let group = groups[i];
                tracing::warn!(error = %err, ?group, "bus batch failed");
            }
        }
        let mut by_queue: HashMap<&str, Vec<Settle<'_>>> = HashMap::new();
        for pending in &self.settles {
            if pending.after.is_some_and(|i| results[i].is_err()) {
                // Its end may not be stored: the delivery stays held, to be put back.
                continue;
            }
            by_queue
                .entry(pending.ack.queue.as_str())
                .or_default()
                .push(Settle {
                    worker: &pending.ack.worker,
                    task_id: &pending.ack.task_id,
                });
        }
        let settles = by_queue.into_iter().map(|(queue, deliveries)| {
            let mut conn = conn.clone();
            async move {
                let keys = QueueKeys::new(queue);
                if let Err(err) = settle::settle(&mut conn, &keys, &deliveries).await {
                    tracing::warn!(error = %err, queue, deliveries = deliveries.len(), "deliveries not settled; they are recovered with this worker's other tasks if the worker stops");
                }
            }
        });
        futures::future::join_all(settles).await;
        results
    }
}

/// The plan of `ops`: a batch per event group, how each operation is answered, the settles.
fn encode(bus: &ProgressBus, events: &JobEvents, ops: &[Op]) -> Plan {
    let keys = bus.keys();
    let mut plan = Plan {
        batches: Vec::new(),
        routes: Vec::with_capacity(ops.len()),
        settles: Vec::new(),
    };
    let mut batch_of_group: HashMap<u16, usize> = HashMap::new();
    let mut batch_for = |plan: &mut Plan, event: &EventKeys| {
        *batch_of_group.entry(event.group).or_insert_with(|| {
            plan.batches.push(Batch::new(bus.limits()));
            plan.batches.len() - 1
        })
    };
    let event_of = |job_id| events.get(job_id).flatten();
    for op in ops {
        let route = match op {
            Op::Start { job_id, .. } | Op::Progress { job_id, .. } | Op::Finish { job_id, .. } => {
                match event_of(job_id) {
                    Some(event_id) => {
                        let event = keys.event_keys(event_id);
                        let b = batch_for(&mut plan, &event);
                        encode_job_op(keys, &mut plan.batches[b], &event, op);
                        Route::Sent(b)
                    }
                    // The job is gone: a finish's delivery is settled all the same (below).
                    None => Route::UnknownJob,
                }
            }
            Op::Ack(ack) => {
                plan.settles.push(PendingSettle {
                    ack: ack.clone(),
                    after: None,
                });
                Route::Quiet
            }
            Op::Barrier { .. } => Route::Local,
        };
        if let Op::Finish { ack: Some(ack), .. } = op {
            plan.settles.push(PendingSettle {
                ack: ack.clone(),
                after: match route {
                    Route::Sent(b) => Some(b),
                    _ => None,
                },
            });
        }
        plan.routes.push(route);
    }
    plan
}

/// Adds a job's operation (a start, a progress message or an end) to its group's batch.
fn encode_job_op(keys: &Keys, batch: &mut Batch, event: &EventKeys, op: &Op) {
    match op {
        Op::Start { job_id, ts, .. } => batch.start(event, &keys.job_keys(job_id), ts),
        Op::Progress {
            job_id,
            run,
            message,
            ts,
            ..
        } => {
            let step = Step {
                run: *run,
                name: message.name,
                body: &message.body,
                ts,
                stage: message.stage,
                progress: message.progress,
            };
            batch.progress(event, &keys.job_keys(job_id), &step);
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
            index,
            ..
        } => {
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
            batch.finish(event, &keys.job_keys(job_id), &end, bibs);
        }
        Op::Ack(_) | Op::Barrier { .. } => {}
    }
}

fn missing() -> BusError {
    BusError::Malformed("bus batch answered fewer results than operations".to_owned())
}

fn wrong_event(job_id: &finishline_wire::JobId) -> BusError {
    BusError::Malformed(format!("job {job_id} is not of the event it was sent with"))
}

/// The next reply of the batch an operation was sent in (none for the others), or that
/// batch's error.
fn next_reply(
    replies: &mut [Result<std::vec::IntoIter<Reply>, String>],
    route: Route,
) -> Result<Option<Reply>, String> {
    match route {
        Route::Sent(b) => match &mut replies[b] {
            Ok(replies) => Ok(replies.next()),
            Err(message) => Err(message.clone()),
        },
        _ => Ok(None),
    }
}

/// Hands each operation its answer, in order: the next reply of its group's batch, or the
/// batch's error.
fn answer(
    ops: impl Iterator<Item = Op>,
    routes: &[Route],
    results: Vec<Result<Vec<Reply>, String>>,
    events: &mut JobEvents,
) {
    let mut replies: Vec<_> = results
        .into_iter()
        .map(|result| result.map(Vec::into_iter))
        .collect();
    for (op, route) in ops.zip(routes.iter().copied()) {
        let reply = match next_reply(&mut replies, route) {
            Ok(reply) => reply,
            Err(message) => {
                op.fail(&message);
                continue;
            }
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
