//! `video:progress`, throttled.

use std::time::{Duration, Instant};

use finishline_wire::{MediaJob, MediaRef, ProgressBody, Stage};

use crate::job::{JobRunner, Run, RunError};
use crate::photo::encode_error;

/// A rise of one percent is published after this long at the latest.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// A rise of this many percent is published at once (so at most ~20 messages per stage).
const PROGRESS_STEP: u8 = 5;

/// Publishes `video:progress`, throttled: every stage change; within a stage, a rise of
/// [`PROGRESS_STEP`] percent at once, or any rise after [`PROGRESS_EVERY`] — never one message
/// per frame.
pub struct Reporter<'a> {
    runner: &'a JobRunner,
    job: &'a MediaJob,
    run: &'a Run,
    last: Option<(Stage, u8, Instant)>,
}

impl<'a> Reporter<'a> {
    pub fn new(runner: &'a JobRunner, job: &'a MediaJob, run: &'a Run) -> Self {
        Self {
            runner,
            job,
            run,
            last: None,
        }
    }

    pub async fn publish(&mut self, stage: Stage, progress: u8) -> Result<(), RunError> {
        let body = ProgressBody {
            media: MediaRef::of(self.job),
            progress,
            stage,
        };
        let name = body.name();
        let body = serde_json::to_string(&body).map_err(encode_error)?;
        self.runner
            .progress(&self.job.job_id, self.run, name, body, stage, progress)
            .await?;
        self.last = Some((stage, progress, Instant::now()));
        Ok(())
    }

    /// Publishes when due; returns whether it did.
    pub async fn maybe_publish(&mut self, stage: Stage, progress: u8) -> Result<bool, RunError> {
        let due = match self.last {
            None => true,
            Some((last_stage, last_progress, at)) => {
                last_stage != stage
                    || progress >= last_progress.saturating_add(PROGRESS_STEP)
                    || (progress > last_progress && at.elapsed() >= PROGRESS_EVERY)
            }
        };
        if due {
            self.publish(stage, progress).await?;
        }
        Ok(due)
    }
}
