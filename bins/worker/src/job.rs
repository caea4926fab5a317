//! What photo and video jobs share: the fenced start of a run, progress publishing, the
//! bounded CPU pool, and exactly one outcome per job — success, a retry with backoff for a
//! transient failure with attempts left, or a failure — recorded in Redis before the delivery
//! is acked. Poison payloads are failed here too.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use apalis::prelude::BoxDynError;
use finishline_bus::{
    Ack, BibIndex, BusError, BusWriter, Finish, Progress, ProgressBus, RunOutcome,
};
use finishline_media::{MediaError, VideoError};
use finishline_queue::{Backoff, Delivery, Retrier};
use finishline_wire::{
    EventId, JobId, JobKind, JobState, MediaJob, MessageName, PhotoFailedBody, Stage,
    VideoFailedBody,
};
use tokio::sync::Semaphore;
use tracing::Instrument;

/// The apalis handler shared by photos and videos: one span per job (`job_id`, `event_id`,
/// `request_id`, `photo_id` or `video_id`, `attempt`), poison payloads — and jobs of the other
/// kind than the queue's (`queue`) — failed cleanly, and a delivery whose outcome Redis could
/// not record put back on the queue.
pub async fn handle<P, Fut>(
    runner: &JobRunner,
    queue: JobKind,
    delivery: Delivery,
    ack: Ack,
    process: P,
) -> Result<(), BoxDynError>
where
    P: FnOnce(MediaJob, Ack) -> Fut,
    Fut: Future<Output = Result<(), BoxDynError>>,
{
    let result = match delivery {
        Delivery::Job(job) if job.kind == queue => {
            let span = tracing::info_span!(
                "job",
                job_id = %job.job_id,
                event_id = %job.event_id,
                request_id = %job.request_id,
                photo_id = tracing::field::Empty,
                video_id = tracing::field::Empty,
                attempt = tracing::field::Empty,
            );
            match job.kind {
                JobKind::Photo => span.record("photo_id", job.media_id.as_str()),
                JobKind::Video => span.record("video_id", job.media_id.as_str()),
            };
            process(job, ack.clone()).instrument(span).await
        }
        Delivery::Job(job) => {
            let error = format!(
                "invalid job payload: a {} job on the {} queue",
                job.kind.as_str(),
                queue.queue_name()
            );
            runner
                .reject_poison(queue, Some(job.job_id), &error, ack.clone())
                .await
        }
        Delivery::Poison { job_id, error } => {
            runner
                .reject_poison(queue, job_id, &error, ack.clone())
                .await
        }
    };
    if let Err(err) = &result {
        tracing::warn!(error = %err, task_id = %ack.task_id, "outcome not recorded; the task goes back on the queue");
        runner.requeue(&ack).await;
    }
    result
}

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
    fn is_permanent(&self) -> bool {
        match self {
            Self::Media(err) => err.is_permanent(),
            Self::Video(err) => err.is_permanent(),
            Self::Join(err) => err.is_panic(),
            Self::Bus(_) | Self::Superseded => false,
        }
    }

    fn code(&self) -> &'static str {
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

    /// Runs one delivery of a job: `work` gets the run's fencing token and does the stages.
    /// Every outcome is recorded in Redis before the delivery is acked: success or failure
    /// exactly once, or a retry scheduled with backoff for a transient failure with attempts
    /// left. `Err` is returned only when Redis itself is unreachable, so apalis delivers the
    /// job again.
    pub async fn run<F, Fut>(&self, job: &MediaJob, ack: Ack, work: F) -> Result<(), BoxDynError>
    where
        F: FnOnce(Arc<Run>) -> Fut,
        Fut: Future<Output = Result<Success, RunError>>,
    {
        let kind = job.kind.as_str();
        let job_id = &job.job_id;
        let (run, attempt) = match self.writer.start_run(job_id).await? {
            RunOutcome::Started { run, attempt } => (run, attempt),
            RunOutcome::AlreadyEnded => {
                tracing::info!("job already ended; skipping this delivery");
                self.writer.ack(ack).await?;
                return Ok(());
            }
        };
        tracing::Span::current().record("attempt", attempt);
        tracing::info!(run, "job started");
        metrics::counter!("finishline_worker_jobs_total", "kind" => kind, "outcome" => "started")
            .increment(1);
        let started = std::time::Instant::now();
        match work(Arc::new(Run::new(run))).await {
            Ok(success) => {
                let ended = self
                    .writer
                    .finish_indexed(
                        job_id,
                        Some(run),
                        Finish {
                            state: JobState::Succeeded,
                            name: completed_name(job.kind),
                            body: &success.body,
                            result: Some(&success.result),
                            error: None,
                        },
                        Some(ack),
                        Some(success.index),
                    )
                    .await?;
                if !ended {
                    metrics::counter!("finishline_worker_jobs_total", "kind" => kind, "outcome" => "superseded").increment(1);
                    tracing::info!(
                        "the job was cancelled, or a newer run owns this job; this run's result is dropped"
                    );
                    return Ok(());
                }
                metrics::counter!("finishline_worker_jobs_total", "kind" => kind, "outcome" => "succeeded").increment(1);
                tracing::info!(
                    ended,
                    plates = success.plates,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "job succeeded"
                );
                Ok(())
            }
            Err(RunError::Superseded) => {
                self.writer.ack(ack).await?;
                metrics::counter!("finishline_worker_jobs_total", "kind" => kind, "outcome" => "superseded").increment(1);
                tracing::info!(
                    "the job was cancelled, or a newer run owns this job; this run stops"
                );
                Ok(())
            }
            Err(err) if !err.is_permanent() && attempt < self.max_attempts => {
                let delay = self.backoff.delay(attempt);
                let message = err.to_string();
                // This run's queued progress reaches Redis before the job is queued again.
                self.writer.flush().await?;
                let scheduled = self
                    .retrier(job.kind)
                    .schedule(job_id, delay, &message)
                    .await?;
                self.writer.ack(ack).await?;
                metrics::counter!("finishline_worker_jobs_total", "kind" => kind, "outcome" => "retried").increment(1);
                tracing::warn!(
                    error = %message,
                    attempt,
                    max_attempts = self.max_attempts,
                    retry_in_ms = delay.as_millis() as u64,
                    scheduled,
                    "transient failure; retry scheduled"
                );
                Ok(())
            }
            Err(err) => {
                let message = err.to_string();
                let ended = self
                    .fail(
                        job.kind,
                        job_id,
                        job.media_id.as_str(),
                        Some(run),
                        &message,
                        err.code(),
                        attempt,
                        Some(ack),
                        Some(job.event_id.clone()),
                    )
                    .await?;
                metrics::counter!("finishline_worker_jobs_total", "kind" => kind, "outcome" => "failed").increment(1);
                tracing::warn!(ended, error = %message, code = err.code(), attempt, "job failed");
                Ok(())
            }
        }
    }

    /// Ends a job as failed with `photo:failed` / `video:failed`; with its event, the same
    /// call renews the event's bib index (indexing nothing).
    #[allow(clippy::too_many_arguments)]
    async fn fail(
        &self,
        kind: JobKind,
        job_id: &JobId,
        media_id: &str,
        run: Option<u64>,
        error: &str,
        code: &str,
        attempts: u32,
        ack: Option<Ack>,
        event_id: Option<EventId>,
    ) -> Result<bool, BoxDynError> {
        let body = match kind {
            JobKind::Photo => serde_json::to_string(&PhotoFailedBody {
                photo_id: media_id,
                job_id: job_id.as_str(),
                error,
                code,
                attempts,
            })?,
            JobKind::Video => serde_json::to_string(&VideoFailedBody {
                video_id: media_id,
                job_id: job_id.as_str(),
                error,
                code,
                attempts,
            })?,
        };
        Ok(self
            .writer
            .finish_indexed(
                job_id,
                run,
                Finish {
                    state: JobState::Failed,
                    name: failed_name(kind),
                    body: &body,
                    result: None,
                    error: Some(error),
                },
                ack,
                event_id.map(BibIndex::empty),
            )
            .await?)
    }

    /// Publishes a progress message of a run at a stage boundary; `Superseded` when the job
    /// was cancelled or a newer run owns it, which stops the run. After [`CONFIRM_AFTER`] of
    /// work it waits for Redis' answer; before, it only queues the message.
    pub async fn progress(
        &self,
        job_id: &JobId,
        run: &Run,
        name: MessageName,
        body: String,
        stage: Stage,
        progress: u8,
    ) -> Result<(), RunError> {
        let message = Progress {
            name,
            body,
            stage,
            progress,
        };
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

    /// Fails a job whose payload in Redis is not a job (a poison job), when its id can be
    /// recovered; otherwise there is nothing to fail and the delivery is dropped with an error
    /// in the log. Either way the worker goes on.
    pub async fn reject_poison(
        &self,
        kind: JobKind,
        job_id: Option<JobId>,
        error: &str,
        ack: Ack,
    ) -> Result<(), BoxDynError> {
        let Some(job_id) = job_id else {
            tracing::error!(
                error,
                task_id = %ack.task_id,
                "dropping a task whose payload is not a job and has no job id"
            );
            self.writer.ack(ack).await?;
            return Ok(());
        };
        let Some(status) = self.bus.job_status(&job_id).await? else {
            tracing::error!(job_id = %job_id, error, "dropping a task whose payload is not a job");
            self.writer.ack(ack).await?;
            return Ok(());
        };
        let ended = self
            .fail(
                kind,
                &job_id,
                &status.media_id,
                None,
                error,
                "invalid_payload",
                status.attempts,
                Some(ack),
                EventId::parse(&status.event_id).ok(),
            )
            .await?;
        tracing::error!(
            job_id = %job_id,
            event_id = %status.event_id,
            request_id = %status.request_id,
            error,
            ended,
            "failed a job whose payload is not a job"
        );
        Ok(())
    }
}

fn completed_name(kind: JobKind) -> MessageName {
    match kind {
        JobKind::Photo => MessageName::PhotoCompleted,
        JobKind::Video => MessageName::VideoCompleted,
    }
}

fn failed_name(kind: JobKind) -> MessageName {
    match kind {
        JobKind::Photo => MessageName::PhotoFailed,
        JobKind::Video => MessageName::VideoFailed,
    }
}

/// Records how long a stage took.
pub fn record_stage(kind: JobKind, stage: Stage, started: std::time::Instant) {
    metrics::histogram!("finishline_worker_stage_duration_seconds", "kind" => kind.as_str(), "stage" => stage.as_str())
        .record(started.elapsed().as_secs_f64());
}
