//! `photo:progress` and `video:progress` at the points of the job kind's stage list
//! ([`JobKind::stages`], [`JobKind::stage_progress`]), throttled within a stage.

use std::time::{Duration, Instant};

use finishline_wire::{MediaJob, Stage};

use super::{JobRunner, Run, RunError};

/// A rise of one percent is published after this long at the latest.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// A rise of this many percent is published at once (so at most ~20 messages per stage).
const PROGRESS_STEP: u8 = 5;

/// Publishes a run's progress: every stage it enters, at the progress the kind's stage list
/// gives that stage; within a stage (a video's frames), a rise of [`PROGRESS_STEP`] percent at
/// once, or any rise after [`PROGRESS_EVERY`] — never one message per frame.
///
/// [`JobKind::stages`]: finishline_wire::JobKind::stages
/// [`JobKind::stage_progress`]: finishline_wire::JobKind::stage_progress
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

    /// Publishes that the run enters `stage`, always (a stage change is never throttled).
    pub async fn enter(&mut self, stage: Stage) -> Result<(), RunError> {
        let progress = self.job.kind.stage_progress(stage).unwrap_or(0);
        self.publish(stage, progress).await
    }

    /// Publishes that the run is `done` of `total` steps into `stage`, when due; returns
    /// whether it did.
    pub async fn advance(&mut self, stage: Stage, done: u64, total: u64) -> Result<bool, RunError> {
        let progress = self
            .job
            .kind
            .progress_within(stage, done, total)
            .unwrap_or(0);
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

    async fn publish(&mut self, stage: Stage, progress: u8) -> Result<(), RunError> {
        self.runner
            .progress(self.job, self.run, stage, progress)
            .await?;
        self.last = Some((stage, progress, Instant::now()));
        Ok(())
    }
}
