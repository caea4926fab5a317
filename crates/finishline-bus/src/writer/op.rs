//! The operations queued to the writer task, and how each is answered.

use finishline_wire::{JobId, MessageName};
use tokio::sync::oneshot;

use super::{Ack, Progress};
use crate::bib_index::BibIndex;
use crate::{BusError, RunOutcome};

pub(super) type Reply<T> = oneshot::Sender<Result<T, BusError>>;

pub(super) enum Op {
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
        state: finishline_wire::JobState,
        name: MessageName,
        body: String,
        ts: String,
        result: String,
        error: String,
        ack: Option<Ack>,
        /// Indexed in the same call when it ends the job as succeeded.
        index: Option<BibIndex>,
        /// Whether this operation ended the job.
        reply: Reply<bool>,
    },
    /// Fire and forget.
    Ack(Ack),
    /// Answered once every operation before it has reached Redis; sends nothing itself.
    Barrier { reply: oneshot::Sender<()> },
}

impl Op {
    pub(super) fn job_id(&self) -> Option<&JobId> {
        match self {
            Self::Start { job_id, .. }
            | Self::Progress { job_id, .. }
            | Self::Finish { job_id, .. } => Some(job_id),
            Self::Barrier { .. } | Self::Ack(_) => None,
        }
    }

    /// A progress message nobody waits for, which a newer operation of its job may replace.
    pub(super) fn is_conflatable(&self) -> bool {
        matches!(
            self,
            Self::Progress {
                conflatable: true,
                ..
            }
        )
    }

    /// Answers the sender with an error (the batch failed).
    pub(super) fn fail(self, message: &str) {
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
