//! What photo and video jobs share: the fenced run, progress publishing at stage boundaries,
//! the success a run reports, and the bounded CPU pool. How a run ends (one method per
//! outcome) and the apalis handler both kinds use are in `job/outcome.rs`; progress at the
//! points of the kind's stage list, throttled within a stage, in `job/progress.rs`.

mod outcome;
mod progress;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use finishline_bus::{Ack, BibIndex, BusError, BusWriter, Progress, ProgressBus};
use finishline_media::{MediaError, VideoError};
use finishline_queue::{Backoff, Retrier};
use finishline_wire::{EventId, JobId, JobKind, MediaJob, MediaRef, ProgressBody, Stage};
use serde::Serialize;
use tokio::sync::Semaphore;

pub use outcome::{Processor, process};
pub use progress::Reporter;

/// Why a run did not produce a result.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Video(#[from] VideoError),
    #[error("progress bus: {0}")]
    Bus(#[from] BusError),
    #[error("cpu task: {0}")]
    Join(#[from] tokio::task::JoinError),
    /// A newer run owns the job (this one was presumed dead) or the job ended meanwhile
    /// (cancelled).
    #[error("superseded")]
    Superseded,
}

impl RunError {
    pub(crate) fn is_permanent(&self) -> bool {
        match self {
            Self::Media(err) => err.is_permanent(),
            Self::Video(err) => err.is_permanent(),
            Self::Join(err) => err.is_panic(),
            Self::Bus(_) | Self::Superseded => false,
        }
    }

    pub(crate) fn code(&self) -> &'static str {
        match self {
            Self::Media(err) => err.code(),
            Self::Video(err) => err.code(),
            Self::Bus(_) => "redis_unavailable",
            Self::Join(_) => "internal",
            Self::Superseded => "superseded",
        }
    }
}

/// What a successful run reports.
pub struct Success {
    /// The terminal message's body (JSON object without the common fields).
    pub body: String,
    /// The result kept for `GET /v1/jobs/{jobId}` (JSON).
    pub result: String,
    /// Bibs found, for the log.
    pub plates: usize,
    /// The job's sightings, added to its event's bib index by the step that ends the job.
    pub index: BibIndex,
}

/// How a kind's plates become bib index sightings: [`BibIndex::photo`], [`BibIndex::video`].
pub type IndexPlates<P> = fn(EventId, &str, &str, &[P]) -> Result<BibIndex, BusError>;

impl Success {
    /// The success of `job` that found `plates`: `body` is its completed message, `result` what
    /// `GET /v1/jobs/{jobId}` reports, and `index` turns the plates into sightings.
    ///
    /// # Errors
    /// Fails when the body or a sighting cannot be encoded (never expected).
    pub fn new<P>(
        job: &MediaJob,
        body: &impl Serialize,
        result: serde_json::Value,
        plates: &[P],
        index: IndexPlates<P>,
    ) -> Result<Self, RunError> {
        let (event_id, media_id, job_id) = (job.event_id.clone(), &job.media_id, &job.job_id);
        Ok(Self {
            body: serde_json::to_string(body).map_err(encode_error)?,
            result: result.to_string(),
            plates: plates.len(),
            index: index(event_id, media_id.as_str(), job_id.as_str(), plates)?,
        })
    }
}

/// A message that cannot be encoded (never expected) fails the run as a bus error.
fn encode_error(err: serde_json::Error) -> RunError {
    RunError::Bus(BusError::Malformed(err.to_string()))
}

/// A stage boundary reached after at least this much work since the run last heard from
/// Redis waits for its progress message to be stored, and so learns there whether the job
/// was cancelled or taken over. Quicker stages queue their message and go on (it may then be
/// conflated under load): a cancelled run wastes at most this much work more.
const CONFIRM_AFTER: Duration = Duration::from_millis(20);

/// One run of a job: its fencing token, and when it last heard from Redis.
pub struct Run {
    pub id: u64,
    started: Instant,
    /// Milliseconds from `started` to the last answer from Redis.
    confirmed_ms: AtomicU64,
}

impl Run {
    fn new(id: u64) -> Self {
        Self {
            id,
            started: Instant::now(),
            confirmed_ms: AtomicU64::new(0),
        }
    }
}

/// Shared by every job of a worker process, photos and videos alike.
pub struct JobRunner {
    bus: ProgressBus,
    /// Run starts, progress and ends go through here, batched.
    writer: BusWriter,
    /// Bounds CPU work to the configured number of threads, whatever the job concurrency.
    cpu: Arc<Semaphore>,
    cpu_threads: usize,
    max_attempts: u32,
    backoff: Backoff,
}

impl JobRunner {
    pub fn new(
        bus: ProgressBus,
        writer: BusWriter,
        cpu_threads: usize,
        max_attempts: u32,
        backoff: Backoff,
    ) -> Self {
        let cpu_threads = cpu_threads.max(1);
        Self {
            bus,
            writer,
            cpu: Arc::new(Semaphore::new(cpu_threads)),
            cpu_threads,
            max_attempts,
            backoff,
        }
    }

    /// Schedules the retries of jobs of `kind` on their queue.
    fn retrier(&self, kind: JobKind) -> Retrier {
        Retrier::new(
            self.bus.connection(),
            self.bus.keys().clone(),
            kind,
            *self.bus.limits(),
        )
    }

    pub fn cpu_threads(&self) -> usize {
        self.cpu_threads
    }

    pub fn bus(&self) -> &ProgressBus {
        &self.bus
    }

    /// Publishes `photo:progress` or `video:progress` of a run in `stage`; `Superseded` when
    /// the job was cancelled or a newer run owns it, which stops the run. After
    /// [`CONFIRM_AFTER`] of work it waits for Redis' answer; before, it only queues the message.
    pub async fn progress(
        &self,
        job: &MediaJob,
        run: &Run,
        stage: Stage,
        progress: u8,
    ) -> Result<(), RunError> {
        let body = ProgressBody {
            media: MediaRef::of(job),
            progress,
            stage,
        };
        let message = Progress {
            name: body.name(),
            body: serde_json::to_string(&body).map_err(encode_error)?,
            stage,
            progress,
        };
        let job_id = &job.job_id;
        let now_ms = u64::try_from(run.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let since = now_ms.saturating_sub(run.confirmed_ms.load(Ordering::Relaxed));
        if since < CONFIRM_AFTER.as_millis() as u64 {
            self.writer.progress(job_id, run.id, message).await?;
            return Ok(());
        }
        match self
            .writer
            .progress_confirmed(job_id, run.id, message)
            .await?
        {
            Some(_) => {
                run.confirmed_ms.store(now_ms, Ordering::Relaxed);
                Ok(())
            }
            None => Err(RunError::Superseded),
        }
    }

    /// Checks that the run still owns a live job, between two frames of a video (when no
    /// progress message is due that would tell).
    pub async fn ensure_current(&self, job_id: &JobId, run: &Run) -> Result<(), RunError> {
        if self.bus.run_is_current(job_id, run.id).await? {
            Ok(())
        } else {
            Err(RunError::Superseded)
        }
    }

    /// Puts a delivery whose outcome could not be recorded back on the queue, trying for a
    /// while (Redis may be restarting). If Redis stays away, the task stays in this worker's
    /// in-flight set and is recovered when the worker restarts under a fresh name.
    pub async fn requeue(&self, ack: &Ack) {
        let mut delay = std::time::Duration::from_millis(250);
        for _ in 0..8 {
            match finishline_queue::requeue(&mut self.bus.connection(), ack).await {
                Ok(_) => return,
                Err(err) => {
                    tracing::warn!(error = %err, task_id = %ack.task_id, "could not put the task back yet");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(std::time::Duration::from_secs(5));
                }
            }
        }
    }

    /// Runs CPU work on the blocking pool, inside the job's span, at most `cpu_threads` at once.
    pub async fn cpu<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, tokio::task::JoinError> {
        let _permit = self.cpu.clone().acquire_owned().await;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(work)).await
    }
}

/// Records how long a stage took.
pub fn record_stage(kind: JobKind, stage: Stage, started: std::time::Instant) {
    metrics::histogram!("finishline_worker_stage_duration_seconds", "kind" => kind.as_str(), "stage" => stage.as_str())
        .record(started.elapsed().as_secs_f64());
}
