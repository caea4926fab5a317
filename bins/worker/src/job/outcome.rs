//! How a run of a job ends: exactly one outcome — success, superseded, a retry with backoff
//! for a transient failure with attempts left, or a failure — recorded in Redis before the
//! delivery is acked, one method each. Also the apalis handler photos and videos share
//! ([`process`], over a [`Processor`]), which fails poison payloads.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use apalis::prelude::{BoxDynError, Data};
use finishline_bus::{Ack, BibIndex, Finish, RunOutcome};
use finishline_queue::Delivery;
use finishline_wire::{
    EventId, FailedBody, JobId, JobKind, JobState, MediaJob, MediaRef, MessageName,
};
use tracing::Instrument;

use super::{JobRunner, Run, RunError, Success};

/// A processor of one kind of job (photos, videos): its stages, and the success it reports.
/// [`process`] runs every delivery of its queue through them on the shared job runner.
pub trait Processor: Send + Sync + 'static {
    /// The kind of job, so the queue it consumes.
    const KIND: JobKind;

    /// What a run of this kind finds.
    type Found: Send;

    /// The job runner the processor runs its jobs on.
    fn runner(&self) -> &JobRunner;

    /// The stages of one run, each reported as it starts.
    fn recognise(
        &self,
        job: &MediaJob,
        run: &Run,
    ) -> impl Future<Output = Result<Self::Found, RunError>> + Send;

    /// The success a run that found `found` reports.
    fn success(job: &MediaJob, found: Self::Found) -> Result<Success, RunError>;
}

/// The apalis handler of the queue of `P`'s kind (`photo-processing`, `video-processing`):
/// each job through `P`'s stages, in a fenced run that ends with exactly one outcome.
pub async fn process<P: Processor>(
    delivery: Delivery,
    processor: Data<Arc<P>>,
    ack: Data<Ack>,
) -> Result<(), BoxDynError> {
    let processor = &**processor;
    let runner = processor.runner();
    handle(
        runner,
        P::KIND,
        delivery,
        (*ack).clone(),
        |job, ack| async move {
            let job = &job;
            runner
                .run(job, ack, |run| async move {
                    let found = processor.recognise(job, &run).await?;
                    P::success(job, found)
                })
                .await
        },
    )
    .await
}

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

/// A started run and the delivery it settles, as its outcome gets it.
struct Started<'a> {
    job: &'a MediaJob,
    run: u64,
    attempt: u32,
    ack: Ack,
    at: Instant,
}

/// A job's failure, as [`JobRunner::fail`] records it.
struct Failure<'a> {
    kind: JobKind,
    job_id: &'a JobId,
    media_id: &'a str,
    /// The job's event, whose bib index the ending call renews; unknown for a payload that
    /// named no valid event.
    event_id: Option<EventId>,
    /// The run that failed; none for a poison payload, which never started one.
    run: Option<u64>,
    error: &'a str,
    code: &'a str,
    attempts: u32,
}

/// Counts a job's outcome (`started`, `succeeded`, `superseded`, `retried`, `failed`).
fn count(kind: JobKind, outcome: &'static str) {
    metrics::counter!("finishline_worker_jobs_total", "kind" => kind.as_str(), "outcome" => outcome)
        .increment(1);
}

impl JobRunner {
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
        let (run, attempt) = match self.writer.start_run(&job.job_id).await? {
            RunOutcome::Started { run, attempt } => (run, attempt),
            RunOutcome::AlreadyEnded => {
                tracing::info!("job already ended; skipping this delivery");
                self.writer.ack(ack).await?;
                return Ok(());
            }
        };
        tracing::Span::current().record("attempt", attempt);
        tracing::info!(run, "job started");
        count(job.kind, "started");
        let started = Started {
            job,
            run,
            attempt,
            ack,
            at: Instant::now(),
        };
        match work(Arc::new(Run::new(run))).await {
            Ok(success) => self.succeeded(started, success).await,
            Err(RunError::Superseded) => self.superseded(started).await,
            Err(err) if !err.is_permanent() && attempt < self.max_attempts => {
                self.retry(started, &err).await
            }
            Err(err) => self.failed(started, &err).await,
        }
    }

    /// Ends the job as succeeded with its completed message and bibs, unless it was cancelled
    /// or a newer run owns it meanwhile (then this run's result is dropped).
    async fn succeeded(&self, started: Started<'_>, success: Success) -> Result<(), BoxDynError> {
        let job = started.job;
        let ended = self
            .writer
            .finish_indexed(
                &job.job_id,
                Some(started.run),
                Finish {
                    state: JobState::Succeeded,
                    name: MessageName::completed(job.kind),
                    body: &success.body,
                    result: Some(&success.result),
                    error: None,
                },
                Some(started.ack),
                Some(success.index),
            )
            .await?;
        if !ended {
            count(job.kind, "superseded");
            tracing::info!(
                "the job was cancelled, or a newer run owns this job; this run's result is dropped"
            );
            return Ok(());
        }
        count(job.kind, "succeeded");
        tracing::info!(
            ended,
            plates = success.plates,
            elapsed_ms = started.at.elapsed().as_millis() as u64,
            "job succeeded"
        );
        Ok(())
    }

    /// Settles the delivery of a run that learned it no longer owns the job.
    async fn superseded(&self, started: Started<'_>) -> Result<(), BoxDynError> {
        self.writer.ack(started.ack).await?;
        count(started.job.kind, "superseded");
        tracing::info!("the job was cancelled, or a newer run owns this job; this run stops");
        Ok(())
    }

    /// Queues the next attempt after a transient failure, with backoff.
    async fn retry(&self, started: Started<'_>, err: &RunError) -> Result<(), BoxDynError> {
        let (job, attempt) = (started.job, started.attempt);
        let delay = self.backoff.delay(attempt);
        let message = err.to_string();
        // This run's queued progress reaches Redis before the job is queued again.
        self.writer.flush().await?;
        let scheduled = self
            .retrier(job.kind)
            .schedule(&job.job_id, delay, &message)
            .await?;
        self.writer.ack(started.ack).await?;
        count(job.kind, "retried");
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

    /// Ends the job as failed: a permanent failure, or the last attempt.
    async fn failed(&self, started: Started<'_>, err: &RunError) -> Result<(), BoxDynError> {
        let (job, attempt) = (started.job, started.attempt);
        let message = err.to_string();
        let failure = Failure {
            kind: job.kind,
            job_id: &job.job_id,
            media_id: job.media_id.as_str(),
            event_id: Some(job.event_id.clone()),
            run: Some(started.run),
            error: &message,
            code: err.code(),
            attempts: attempt,
        };
        let ended = self.fail(failure, Some(started.ack)).await?;
        count(job.kind, "failed");
        tracing::warn!(ended, error = %message, code = err.code(), attempt, "job failed");
        Ok(())
    }

    /// Ends a job as failed with `photo:failed` / `video:failed` and settles `ack`; with its
    /// event, the same call renews the event's bib index (indexing nothing).
    async fn fail(&self, failure: Failure<'_>, ack: Option<Ack>) -> Result<bool, BoxDynError> {
        let body = FailedBody {
            media: MediaRef {
                kind: failure.kind,
                media_id: failure.media_id,
                job_id: failure.job_id.as_str(),
            },
            error: failure.error,
            code: failure.code,
            attempts: failure.attempts,
        };
        let name = body.name();
        let body = serde_json::to_string(&body)?;
        let finish = Finish {
            state: JobState::Failed,
            name,
            body: &body,
            result: None,
            error: Some(failure.error),
        };
        let index = failure.event_id.map(BibIndex::empty);
        let ended = self
            .writer
            .finish_indexed(failure.job_id, failure.run, finish, ack, index)
            .await?;
        Ok(ended)
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
        let failure = Failure {
            kind,
            job_id: &job_id,
            media_id: &status.media_id,
            event_id: EventId::parse(&status.event_id).ok(),
            run: None,
            error,
            code: "invalid_payload",
            attempts: status.attempts,
        };
        let ended = self.fail(failure, Some(ack)).await?;
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
