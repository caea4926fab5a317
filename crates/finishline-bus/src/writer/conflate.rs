//! Under load, fire-and-forget progress that a newer operation of its job makes stale is
//! dropped: latest wins.

use std::collections::HashSet;

use super::op::Op;

/// Drops each fire-and-forget progress message followed in the batch by another operation of
/// the same job; returns how many were dropped.
pub(super) fn conflate(batch: &mut Vec<Op>) -> u64 {
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

#[cfg(test)]
mod tests {
    use finishline_wire::{JobId, JobState, MessageName, Stage};
    use tokio::sync::oneshot;

    use super::*;
    use crate::writer::Progress;

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

    fn finish(job: &str) -> Op {
        Op::Finish {
            job_id: JobId::parse(job).unwrap(),
            run: 1,
            state: JobState::Succeeded,
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
