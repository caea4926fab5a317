//! Running one video job on the shared job runner: `probe` (ffprobe), `frames` (ffmpeg starts
//! sampling), `detection` (each sampled frame, as it streams, through the photo pipeline's
//! detect and read on the CPU pool; progress = frames done ÷ frames expected), `ocr` (the reads
//! of all frames merged into one entry per number with first and last seen times, and the
//! thumbnail of each number's best frame stored: `thumbnails.rs`), `color` (each number takes
//! the bib and shirt colours measured in the frame where it was read best). The stages and
//! where each starts on the 0–100 progress scale are [`JobKind::Video`]'s stage list, as for
//! photos.
//!
//! The run stops between two frames when the job is cancelled or a newer run owns it; ffmpeg
//! is killed then, and whenever the stream is dropped (worker shutdown).

mod input;
mod thumbnails;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use finishline_artifacts::{ArtifactStore, encode_thumbnail};
use finishline_bus::BibIndex;
use finishline_media::{
    FrameStream, MediaLimits, PhotoPipeline, PlateMerger, SourceLoader, VideoError, VideoTools,
};
use finishline_wire::{JobKind, MediaJob, MediaSource, Stage, VideoCompletedBody, VideoPlate};

use crate::job::{JobRunner, Processor, Reporter, Run, RunError, Success, record_stage};
use crate::settings::SettingsCache;
use input::VideoInput;
use thumbnails::BestFrames;

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
    /// Where bib thumbnails go; none: no thumbnails.
    artifacts: Option<ArtifactStore>,
}

pub struct Recognised {
    plates: Vec<VideoPlate>,
    duration_ms: u64,
}

/// What the frames of a video gave: the reads merged per number and the best frame of each.
struct Scanned {
    merger: PlateMerger,
    best: BestFrames,
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
            artifacts: None,
        }
    }

    /// Stores a thumbnail of each reported bib's best frame in `artifacts`.
    pub fn with_artifacts(mut self, artifacts: ArtifactStore) -> Self {
        self.artifacts = Some(artifacts);
        self
    }

    /// The `detection` stage: each sampled frame, as ffmpeg sends it, through the engine on
    /// the CPU pool (with each read's colours named, as a photo's `color` stage does); the
    /// reads merged per number, and a thumbnail of each frame that shows a number best so far.
    /// Stops between two frames when the run is no longer current.
    async fn scan(
        &self,
        job: &MediaJob,
        run: &Run,
        progress: &mut Reporter<'_>,
        mut frames: FrameStream,
        expected: u64,
    ) -> Result<Scanned, RunError> {
        let timer = Instant::now();
        let mut merger = PlateMerger::new();
        let mut best = BestFrames::new(self.artifacts.clone());
        let mut done = 0u64;
        let mut detection_started = None;
        while let Some(frame) = frames.next_frame().await? {
            if detection_started.is_none() {
                record_stage(JobKind::Video, Stage::Frames, timer);
                detection_started = Some(Instant::now());
                progress.enter(Stage::Detection).await?;
            }
            let pipeline = self.pipeline.clone();
            let photo = frame.photo;
            let (plates, photo) = self
                .runner
                .cpu(move || {
                    let candidates = pipeline.detect(&photo)?;
                    if candidates.is_empty() {
                        return Ok((Vec::new(), photo));
                    }
                    let mut plates = pipeline.read(&photo, &candidates)?;
                    finishline_media::name_plate_colors(&photo.image, &mut plates);
                    Ok((plates, photo))
                })
                .await?
                .map_err(RunError::Media)?;
            let best_here = merger.add_frame(frame.time_ms, &plates);
            if best.enabled() && !best_here.is_empty() {
                match self
                    .runner
                    .cpu(move || encode_thumbnail(&photo.image))
                    .await?
                {
                    Ok((jpeg, _, _)) => best.keep(&best_here, jpeg),
                    Err(err) => tracing::warn!(error = %err, "frame thumbnail not made"),
                }
            }
            done += 1;
            // Between frames: a due progress message is fenced (it stops a cancelled or
            // superseded run); otherwise ask Redis directly.
            if !progress.advance(Stage::Detection, done, expected).await? {
                self.runner.ensure_current(&job.job_id, run).await?;
            }
        }
        let Some(started) = detection_started else {
            return Err(VideoError::Corrupt("ffmpeg found no frame to sample".to_owned()).into());
        };
        record_stage(JobKind::Video, Stage::Detection, started);
        tracing::debug!(
            frames = done,
            expected,
            numbers = merger.len(),
            "frames done"
        );
        Ok(Scanned { merger, best })
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

impl Processor for VideoProcessor {
    const KIND: JobKind = JobKind::Video;

    type Found = Recognised;

    fn runner(&self) -> &JobRunner {
        &self.runner
    }

    async fn recognise(&self, job: &MediaJob, run: &Run) -> Result<Recognised, RunError> {
        let mut progress = Reporter::new(&self.runner, job, run);
        progress.enter(Stage::Probe).await?;
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

        progress.enter(Stage::Frames).await?;
        let frames = self
            .settings
            .tools
            .frames(input.path(), &info, self.settings.fps)?;
        let Scanned { merger, best } = self.scan(job, run, &mut progress, frames, expected).await?;

        progress.enter(Stage::Ocr).await?;
        let timer = Instant::now();
        let (merged, reads) = merger.into_plates();
        let mut plates = self.event_settings.apply(&job.event_id, merged).await?;
        best.store(&job.job_id, &mut plates).await;
        record_stage(JobKind::Video, Stage::Ocr, timer);

        progress.enter(Stage::Color).await?;
        let timer = Instant::now();
        reads.paint(&mut plates);
        record_stage(JobKind::Video, Stage::Color, timer);
        Ok(Recognised {
            plates,
            duration_ms: info.duration_ms,
        })
    }

    fn success(job: &MediaJob, found: Recognised) -> Result<Success, RunError> {
        let body = VideoCompletedBody {
            video_id: job.media_id.as_str(),
            job_id: job.job_id.as_str(),
            plates: &found.plates,
            duration_ms: found.duration_ms,
        };
        let result = serde_json::json!({
            "plates": found.plates,
            "durationMs": found.duration_ms,
        });
        Success::new(job, &body, result, &found.plates, BibIndex::video)
    }
}
