//! Running one photo job: fenced start, the three stages with progress, and exactly one
//! terminal outcome.

use std::sync::Arc;

use apalis::prelude::{BoxDynError, Data};
use finishline_bus::{BusError, Finish, ProgressBus, RunOutcome};
use finishline_media::{MediaError, MediaLimits, PhotoPipeline, SourceLoader, decode_photo};
use finishline_queue::{Backoff, Delivery, Retrier};
use finishline_wire::{
    ColorShare, JobState, MessageName, PhotoCompletedBody, PhotoFailedBody, PhotoJob,
    PhotoProgressBody, Plate, Stage,
};
use tokio::sync::Semaphore;
use tracing::Instrument;

/// Everything a photo job needs, shared by all jobs of a worker process.
pub struct PhotoProcessor {
    bus: ProgressBus,
    loader: SourceLoader,
    pipeline: Arc<dyn PhotoPipeline>,
    limits: MediaLimits,
    /// Bounds CPU work to the configured number of threads, whatever the job concurrency.
    cpu: Arc<Semaphore>,
    cpu_threads: usize,
    max_attempts: u32,
    retrier: Retrier,
    backoff: Backoff,
}

/// Why a run did not produce a result.
#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error("progress bus: {0}")]
    Bus(#[from] BusError),
    #[error("cpu task: {0}")]
    Join(#[from] tokio::task::JoinError),
    /// A newer run owns the job (this one was presumed dead) or the job ended meanwhile.
    #[error("superseded")]
    Superseded,
}

impl RunError {
    fn is_permanent(&self) -> bool {
        match self {
            Self::Media(err) => err.is_permanent(),
            Self::Join(err) => err.is_panic(),
            Self::Bus(_) | Self::Superseded => false,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Media(err) => err.code(),
            Self::Bus(_) => "redis_unavailable",
            Self::Join(_) => "internal",
            Self::Superseded => "superseded",
        }
    }
}

struct Recognised {
    plates: Vec<Plate>,
    colors: Vec<ColorShare>,
}

impl PhotoProcessor {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        bus: ProgressBus,
        loader: SourceLoader,
        pipeline: Arc<dyn PhotoPipeline>,
        limits: MediaLimits,
        cpu_threads: usize,
        max_attempts: u32,
        retrier: Retrier,
        backoff: Backoff,
    ) -> Self {
        let cpu_threads = cpu_threads.max(1);
        Self {
            bus,
            loader,
            pipeline,
            limits,
            cpu: Arc::new(Semaphore::new(cpu_threads)),
            cpu_threads,
            max_attempts,
            retrier,
            backoff,
        }
    }

    pub fn pipeline_name(&self) -> &'static str {
        self.pipeline.name()
    }

    pub fn cpu_threads(&self) -> usize {
        self.cpu_threads
    }

    /// Runs one delivery of a job. Every outcome is recorded in Redis before the delivery is
    /// acked: success or failure exactly once, or a retry scheduled with backoff for a transient
    /// failure with attempts left. `Err` is returned only when Redis itself is unreachable, so
    /// apalis delivers the job again.
    async fn process(&self, job: PhotoJob) -> Result<(), BoxDynError> {
        let (run, attempt) = match self.bus.start_run(&job.job_id).await? {
            RunOutcome::Started { run, attempt } => (run, attempt),
            RunOutcome::AlreadyEnded => {
                tracing::info!("job already ended; skipping this delivery");
                return Ok(());
            }
        };
        let span = tracing::Span::current();
        span.record("attempt", attempt);
        tracing::info!(run, "job started");
        metrics::counter!("finishline_worker_jobs_total", "kind" => "photo", "outcome" => "started").increment(1);
        let started = std::time::Instant::now();
        match self.recognise(&job, run).await {
            Ok(found) => {
                let best = found
                    .plates
                    .iter()
                    .max_by(|a, b| a.confidence.total_cmp(&b.confidence));
                let body = serde_json::to_string(&PhotoCompletedBody {
                    photo_id: job.photo_id.as_str(),
                    job_id: job.job_id.as_str(),
                    plate_number: best.map(|p| p.number),
                    confidence: best.map_or(0.0, |p| p.confidence),
                    plates: &found.plates,
                    colors: &found.colors,
                })?;
                let result = serde_json::json!({ "plates": found.plates, "colors": found.colors })
                    .to_string();
                let ended = self
                    .bus
                    .finish(
                        &job.job_id,
                        Some(run),
                        Finish {
                            state: JobState::Succeeded,
                            name: MessageName::PhotoCompleted,
                            body: &body,
                            result: Some(&result),
                            error: None,
                        },
                    )
                    .await?;
                metrics::counter!("finishline_worker_jobs_total", "kind" => "photo", "outcome" => "succeeded").increment(1);
                tracing::info!(
                    ended,
                    plates = found.plates.len(),
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "job succeeded"
                );
                Ok(())
            }
            Err(RunError::Superseded) => {
                metrics::counter!("finishline_worker_jobs_total", "kind" => "photo", "outcome" => "superseded").increment(1);
                tracing::info!("a newer run owns this job; this run stops");
                Ok(())
            }
            Err(err) if !err.is_permanent() && attempt < self.max_attempts => {
                let delay = self.backoff.delay(attempt);
                let message = err.to_string();
                let scheduled = self.retrier.schedule(&job.job_id, delay, &message).await?;
                metrics::counter!("finishline_worker_jobs_total", "kind" => "photo", "outcome" => "retried").increment(1);
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
                let body = serde_json::to_string(&PhotoFailedBody {
                    photo_id: job.photo_id.as_str(),
                    job_id: job.job_id.as_str(),
                    error: &message,
                    code: err.code(),
                    attempts: attempt,
                })?;
                let ended = self
                    .bus
                    .finish(
                        &job.job_id,
                        Some(run),
                        Finish {
                            state: JobState::Failed,
                            name: MessageName::PhotoFailed,
                            body: &body,
                            result: None,
                            error: Some(&message),
                        },
                    )
                    .await?;
                metrics::counter!("finishline_worker_jobs_total", "kind" => "photo", "outcome" => "failed").increment(1);
                tracing::warn!(ended, error = %message, code = err.code(), attempt, "job failed");
                Ok(())
            }
        }
    }

    async fn recognise(&self, job: &PhotoJob, run: u64) -> Result<Recognised, RunError> {
        self.progress(job, run, Stage::Detection, 0).await?;
        if self.pipeline.skips_media() {
            self.progress(job, run, Stage::Ocr, 33).await?;
            self.progress(job, run, Stage::Color, 67).await?;
            return Ok(Recognised {
                plates: Vec::new(),
                colors: Vec::new(),
            });
        }
        let timer = std::time::Instant::now();
        let bytes = self.loader.load(&job.source).await?;
        let limits = self.limits.clone();
        let pipeline = self.pipeline.clone();
        let (photo, candidates) = self
            .cpu(move || {
                let photo = decode_photo(&bytes, &limits)?;
                let candidates = pipeline.detect(&photo)?;
                Ok::<_, MediaError>((photo, candidates))
            })
            .await??;
        tracing::debug!(
            candidates = candidates.len(),
            width = photo.width(),
            height = photo.height(),
            "detection done"
        );
        record_stage(Stage::Detection, timer);

        self.progress(job, run, Stage::Ocr, 33).await?;
        let timer = std::time::Instant::now();
        let photo = Arc::new(photo);
        let (pipeline, shared) = (self.pipeline.clone(), photo.clone());
        let plates = self
            .cpu(move || pipeline.read(&shared, &candidates))
            .await??;
        tracing::debug!(plates = plates.len(), "ocr done");
        record_stage(Stage::Ocr, timer);

        self.progress(job, run, Stage::Color, 67).await?;
        let timer = std::time::Instant::now();
        let pipeline = self.pipeline.clone();
        let (plates, colors) = self
            .cpu(move || {
                let colors = pipeline.colors(&photo, &plates)?;
                let mut plates = plates;
                finishline_media::name_plate_colors(&photo.image, &mut plates);
                Ok::<_, MediaError>((plates, colors))
            })
            .await??;
        record_stage(Stage::Color, timer);
        Ok(Recognised { plates, colors })
    }

    async fn progress(
        &self,
        job: &PhotoJob,
        run: u64,
        stage: Stage,
        progress: u8,
    ) -> Result<(), RunError> {
        let body = serde_json::to_string(&PhotoProgressBody {
            photo_id: job.photo_id.as_str(),
            job_id: job.job_id.as_str(),
            progress,
            stage,
        })
        .map_err(|err| RunError::Bus(BusError::Malformed(err.to_string())))?;
        match self
            .bus
            .publish_progress(
                &job.job_id,
                run,
                MessageName::PhotoProgress,
                &body,
                stage,
                progress,
            )
            .await?
        {
            Some(_) => Ok(()),
            None => Err(RunError::Superseded),
        }
    }

    /// Runs CPU work on the blocking pool, inside the job's span, at most `cpu_threads` at once.
    async fn cpu<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, tokio::task::JoinError> {
        let _permit = self.cpu.clone().acquire_owned().await;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(work)).await
    }
}

impl PhotoProcessor {
    /// Fails a job whose payload in Redis is not a job (a poison job), when its id can be
    /// recovered; otherwise there is nothing to fail and the delivery is dropped with an error
    /// in the log. Either way the worker goes on.
    async fn reject_poison(
        &self,
        job_id: Option<finishline_wire::JobId>,
        error: &str,
    ) -> Result<(), BoxDynError> {
        let Some(job_id) = job_id else {
            tracing::error!(
                error,
                "dropping a task whose payload is not a job and has no job id"
            );
            return Ok(());
        };
        let Some(status) = self.bus.job_status(&job_id).await? else {
            tracing::error!(job_id = %job_id, error, "dropping a task whose payload is not a job");
            return Ok(());
        };
        let body = serde_json::to_string(&PhotoFailedBody {
            photo_id: &status.media_id,
            job_id: job_id.as_str(),
            error,
            code: "invalid_payload",
            attempts: status.attempts,
        })?;
        let ended = self
            .bus
            .finish(
                &job_id,
                None,
                Finish {
                    state: JobState::Failed,
                    name: MessageName::PhotoFailed,
                    body: &body,
                    result: None,
                    error: Some(error),
                },
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

fn record_stage(stage: Stage, started: std::time::Instant) {
    metrics::histogram!("finishline_worker_stage_duration_seconds", "kind" => "photo", "stage" => stage.as_str())
        .record(started.elapsed().as_secs_f64());
}

/// The apalis handler of `photo-processing`.
pub async fn process_photo(
    delivery: Delivery,
    processor: Data<Arc<PhotoProcessor>>,
) -> Result<(), BoxDynError> {
    match delivery {
        Delivery::Job(job) => {
            let span = tracing::info_span!(
                "job",
                job_id = %job.job_id,
                event_id = %job.event_id,
                request_id = %job.request_id,
                photo_id = %job.photo_id,
                attempt = tracing::field::Empty,
            );
            processor.process(job).instrument(span).await
        }
        Delivery::Poison { job_id, error } => processor.reject_poison(job_id, &error).await,
    }
}
