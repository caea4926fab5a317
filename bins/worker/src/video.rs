//! Running one video job on the shared job runner: `probe` (ffprobe), `frames` (ffmpeg starts
//! sampling), `detection` (each sampled frame, as it streams, through the photo pipeline's
//! detect and read on the CPU pool; progress = frames done ÷ frames expected), `ocr` (the reads
//! of all frames merged into one entry per number with first and last seen times). Videos
//! report no colours, so there is no `color` stage.
//!
//! The run stops between two frames when the job is cancelled or a newer run owns it; ffmpeg
//! is killed then, and whenever the stream is dropped (worker shutdown).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use apalis::prelude::{BoxDynError, Data};
use finishline_bus::{Ack, BibIndex};
use finishline_media::{
    MediaLimits, PhotoPipeline, PlateMerger, SourceLoader, VideoError, VideoTools,
};
use finishline_queue::Delivery;
use finishline_wire::{
    JobKind, MediaJob, MediaSource, MessageName, Stage, VideoCompletedBody, VideoPlate,
    VideoProgressBody,
};

use crate::job::{JobRunner, Run, RunError, Success, handle, record_stage};
use crate::photo::encode_error;
use crate::settings::SettingsCache;

/// A rise of one percent is published after this long at the latest.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// A rise of this many percent is published at once (so at most ~20 messages per stage).
const PROGRESS_STEP: u8 = 5;

/// Settings of video jobs.
#[derive(Debug, Clone)]
pub struct VideoSettings {
    pub tools: VideoTools,
    /// Frames sampled per second of video.
    pub fps: f64,
    /// Largest video accepted, in bytes (path or download).
    pub max_bytes: u64,
    /// Where `{ url }` sources are downloaded to.
    pub temp_dir: PathBuf,
}

/// Everything a video job needs, shared by all jobs of a worker process.
pub struct VideoProcessor {
    runner: Arc<JobRunner>,
    loader: Arc<SourceLoader>,
    pipeline: Arc<dyn PhotoPipeline>,
    limits: MediaLimits,
    settings: VideoSettings,
    event_settings: SettingsCache,
}

struct Recognised {
    plates: Vec<VideoPlate>,
    duration_ms: u64,
}

impl VideoProcessor {
    pub fn new(
        runner: Arc<JobRunner>,
        loader: Arc<SourceLoader>,
        pipeline: Arc<dyn PhotoPipeline>,
        limits: MediaLimits,
        settings: VideoSettings,
    ) -> Self {
        Self {
            event_settings: SettingsCache::new(runner.bus().clone()),
            runner,
            loader,
            pipeline,
            limits,
            settings,
        }
    }

    async fn process(&self, job: MediaJob, ack: Ack) -> Result<(), BoxDynError> {
        let job = &job;
        self.runner
            .run(job, ack, |run| async move {
                let found = self.recognise(job, &run).await?;
                let body = serde_json::to_string(&VideoCompletedBody {
                    video_id: job.media_id.as_str(),
                    job_id: job.job_id.as_str(),
                    plates: &found.plates,
                    duration_ms: found.duration_ms,
                })
                .map_err(encode_error)?;
                let result = serde_json::json!({
                    "plates": found.plates,
                    "durationMs": found.duration_ms,
                })
                .to_string();
                let index = BibIndex::video(
                    job.event_id.clone(),
                    job.media_id.as_str(),
                    job.job_id.as_str(),
                    &found.plates,
                )?;
                Ok(Success {
                    body,
                    result,
                    plates: found.plates.len(),
                    index,
                })
            })
            .await
    }

    async fn recognise(&self, job: &MediaJob, run: &Run) -> Result<Recognised, RunError> {
        let mut progress = Reporter::new(&self.runner, job, run);
        progress.publish(Stage::Probe, 0).await?;
        let timer = Instant::now();
        let input = self.input(job, run.id).await?;
        let info = self
            .settings
            .tools
            .probe(input.path(), &self.limits)
            .await?;
        let expected = info.expected_frames(self.settings.fps);
        tracing::info!(
            duration_ms = info.duration_ms,
            width = info.width,
            height = info.height,
            codec = %info.codec,
            expected_frames = expected,
            "video probed"
        );
        record_stage(JobKind::Video, Stage::Probe, timer);

        progress.publish(Stage::Frames, 2).await?;
        let timer = Instant::now();
        let mut frames = self
            .settings
            .tools
            .frames(input.path(), &info, self.settings.fps)?;
        let mut merger = PlateMerger::new();
        let mut done = 0u64;
        let mut detection_started = None;
        while let Some(frame) = frames.next_frame().await? {
            if detection_started.is_none() {
                record_stage(JobKind::Video, Stage::Frames, timer);
                detection_started = Some(Instant::now());
                progress.publish(Stage::Detection, 3).await?;
            }
            let pipeline = self.pipeline.clone();
            let photo = frame.photo;
            let plates = self
                .runner
                .cpu(move || {
                    let candidates = pipeline.detect(&photo)?;
                    if candidates.is_empty() {
                        return Ok(Vec::new());
                    }
                    pipeline.read(&photo, &candidates)
                })
                .await?
                .map_err(RunError::Media)?;
            merger.add_frame(frame.time_ms, &plates);
            done += 1;
            let percent = 3 + (92 * done.min(expected) / expected) as u8;
            // Between frames: a due progress message is fenced (it stops a cancelled or
            // superseded run); otherwise ask Redis directly.
            if !progress.maybe_publish(Stage::Detection, percent).await? {
                self.runner.ensure_current(&job.job_id, run).await?;
            }
        }
        if let Some(started) = detection_started {
            record_stage(JobKind::Video, Stage::Detection, started);
        } else {
            return Err(VideoError::Corrupt("ffmpeg found no frame to sample".to_owned()).into());
        }
        tracing::debug!(
            frames = done,
            expected,
            numbers = merger.len(),
            "frames done"
        );

        progress.publish(Stage::Ocr, 96).await?;
        let timer = Instant::now();
        let plates = self
            .event_settings
            .apply(&job.event_id, merger.into_plates())
            .await?;
        record_stage(JobKind::Video, Stage::Ocr, timer);
        Ok(Recognised {
            plates,
            duration_ms: info.duration_ms,
        })
    }

    /// The file ffmpeg reads: a `{ path }` under the media root as is, a `{ url }` downloaded
    /// to a temporary file removed when the run ends.
    async fn input(&self, job: &MediaJob, run: u64) -> Result<VideoInput, RunError> {
        let max = self.settings.max_bytes;
        match &job.source {
            MediaSource::Path(relative) => Ok(VideoInput {
                path: self.loader.local_file(relative, max).await?,
                temporary: false,
            }),
            MediaSource::Url(url) => {
                let path = self
                    .settings
                    .temp_dir
                    .join(format!("finishline-video-{}-{run}.part", job.job_id));
                let input = VideoInput {
                    path,
                    temporary: true,
                };
                let bytes = self.loader.download(url, input.path(), max).await?;
                tracing::debug!(bytes, "video downloaded");
                Ok(input)
            }
        }
    }
}

/// A video file for ffmpeg; a downloaded one is removed on drop.
struct VideoInput {
    path: PathBuf,
    temporary: bool,
}

impl VideoInput {
    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for VideoInput {
    fn drop(&mut self) {
        if self.temporary
            && let Err(err) = std::fs::remove_file(&self.path)
            && err.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), error = %err, "cannot remove a downloaded video");
        }
    }
}

/// Publishes `video:progress`, throttled: every stage change; within a stage, a rise of
/// [`PROGRESS_STEP`] percent at once, or any rise after [`PROGRESS_EVERY`] — never one message
/// per frame.
struct Reporter<'a> {
    runner: &'a JobRunner,
    job: &'a MediaJob,
    run: &'a Run,
    last: Option<(Stage, u8, Instant)>,
}

impl<'a> Reporter<'a> {
    fn new(runner: &'a JobRunner, job: &'a MediaJob, run: &'a Run) -> Self {
        Self {
            runner,
            job,
            run,
            last: None,
        }
    }

    async fn publish(&mut self, stage: Stage, progress: u8) -> Result<(), RunError> {
        let body = serde_json::to_string(&VideoProgressBody {
            video_id: self.job.media_id.as_str(),
            job_id: self.job.job_id.as_str(),
            progress,
            stage,
        })
        .map_err(encode_error)?;
        self.runner
            .progress(
                &self.job.job_id,
                self.run,
                MessageName::VideoProgress,
                body,
                stage,
                progress,
            )
            .await?;
        self.last = Some((stage, progress, Instant::now()));
        Ok(())
    }

    /// Publishes when due; returns whether it did.
    async fn maybe_publish(&mut self, stage: Stage, progress: u8) -> Result<bool, RunError> {
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

/// The apalis handler of `video-processing`.
pub async fn process_video(
    delivery: Delivery,
    processor: Data<Arc<VideoProcessor>>,
    ack: Data<Ack>,
) -> Result<(), BoxDynError> {
    let processor = &**processor;
    handle(
        &processor.runner,
        JobKind::Video,
        delivery,
        (*ack).clone(),
        |job, ack| processor.process(job, ack),
    )
    .await
}
