//! Running one photo job: the three stages with progress, on the shared job runner (fenced
//! start, retries, exactly one terminal outcome).

use std::sync::Arc;

use finishline_artifacts::{ArtifactError, ArtifactStore, encode_thumbnail};
use finishline_bus::BibIndex;
use finishline_media::{MediaError, MediaLimits, PhotoPipeline, SourceLoader, decode_photo};
use finishline_wire::{ColorShare, ImageSize, JobKind, MediaJob, PhotoCompletedBody, Plate, Stage};

use crate::job::{JobRunner, Processor, Reporter, Run, RunError, Success, record_stage};
use crate::settings::SettingsCache;

/// Everything a photo job needs, shared by all jobs of a worker process.
pub struct PhotoProcessor {
    runner: Arc<JobRunner>,
    loader: Arc<SourceLoader>,
    pipeline: Arc<dyn PhotoPipeline>,
    limits: MediaLimits,
    settings: SettingsCache,
    /// Whether a pipeline that skips media work still publishes its three stage messages
    /// (`--noop-progress`).
    noop_progress: bool,
    /// Where thumbnails go; none: no thumbnails.
    artifacts: Option<ArtifactStore>,
}

/// A thumbnail as made in the `color` stage: JPEG bytes, width, height.
type Thumbnail = Result<(Vec<u8>, u32, u32), ArtifactError>;

pub struct Recognised {
    plates: Vec<Plate>,
    colors: Vec<ColorShare>,
    /// The path the gateway serves the thumbnail at, when one was stored.
    thumbnail: Option<String>,
    /// The decoded photo's size, the frame of the plates' boxes.
    image_size: Option<ImageSize>,
}

impl PhotoProcessor {
    pub fn new(
        runner: Arc<JobRunner>,
        loader: Arc<SourceLoader>,
        pipeline: Arc<dyn PhotoPipeline>,
        limits: MediaLimits,
        noop_progress: bool,
    ) -> Self {
        Self {
            noop_progress,
            settings: SettingsCache::new(runner.bus().clone()),
            runner,
            loader,
            pipeline,
            limits,
            artifacts: None,
        }
    }

    /// Stores a thumbnail of each photo in `artifacts` (made in the `color` stage).
    pub fn with_artifacts(mut self, artifacts: ArtifactStore) -> Self {
        self.artifacts = Some(artifacts);
        self
    }

    pub fn pipeline_name(&self) -> &'static str {
        self.pipeline.name()
    }

    pub fn cpu_threads(&self) -> usize {
        self.runner.cpu_threads()
    }

    /// Stores a photo's thumbnail; returns where the gateway serves it. A thumbnail that
    /// cannot be made or stored is logged and left out: the bibs still count.
    async fn store_thumbnail(&self, job: &MediaJob, jpeg: Option<Thumbnail>) -> Option<String> {
        let (Some(store), Some(jpeg)) = (&self.artifacts, jpeg) else {
            return None;
        };
        let stored = match jpeg {
            Ok((jpeg, _, _)) => store.put_thumbnail(&job.job_id, jpeg).await,
            Err(err) => Err(err),
        };
        match stored {
            Ok(()) => Some(format!("/v1/jobs/{}/thumbnail", job.job_id)),
            Err(err) => {
                tracing::warn!(error = %err, "thumbnail not stored; the photo completes without one");
                None
            }
        }
    }
}

impl Processor for PhotoProcessor {
    const KIND: JobKind = JobKind::Photo;

    type Found = Recognised;

    fn runner(&self) -> &JobRunner {
        &self.runner
    }

    async fn recognise(&self, job: &MediaJob, run: &Run) -> Result<Recognised, RunError> {
        let mut progress = Reporter::new(&self.runner, job, run);
        if self.pipeline.skips_media() {
            if self.noop_progress {
                for stage in JobKind::Photo.stages() {
                    progress.enter(*stage).await?;
                }
            }
            return Ok(Recognised {
                plates: Vec::new(),
                colors: Vec::new(),
                thumbnail: None,
                image_size: None,
            });
        }
        progress.enter(Stage::Detection).await?;
        let timer = std::time::Instant::now();
        let bytes = self.loader.load(&job.source).await?;
        let limits = self.limits.clone();
        let pipeline = self.pipeline.clone();
        let (photo, candidates) = self
            .runner
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
        record_stage(JobKind::Photo, Stage::Detection, timer);

        progress.enter(Stage::Ocr).await?;
        let timer = std::time::Instant::now();
        let photo = Arc::new(photo);
        let (pipeline, shared) = (self.pipeline.clone(), photo.clone());
        let plates = self
            .runner
            .cpu(move || pipeline.read(&shared, &candidates))
            .await??;
        let plates = self.settings.apply(&job.event_id, plates).await?;
        tracing::debug!(plates = plates.len(), "ocr done");
        record_stage(JobKind::Photo, Stage::Ocr, timer);

        progress.enter(Stage::Color).await?;
        let timer = std::time::Instant::now();
        let pipeline = self.pipeline.clone();
        let make_thumbnail = self.artifacts.is_some();
        let (width, height) = photo.image.dimensions();
        let (plates, colors, jpeg) = self
            .runner
            .cpu(move || {
                let colors = pipeline.colors(&photo, &plates)?;
                let mut plates = plates;
                finishline_media::name_plate_colors(&photo.image, &mut plates);
                let jpeg = make_thumbnail.then(|| encode_thumbnail(&photo.image));
                Ok::<_, MediaError>((plates, colors, jpeg))
            })
            .await??;
        let thumbnail = self.store_thumbnail(job, jpeg).await;
        record_stage(JobKind::Photo, Stage::Color, timer);
        Ok(Recognised {
            plates,
            colors,
            thumbnail,
            image_size: Some(ImageSize { width, height }),
        })
    }

    fn success(job: &MediaJob, found: Recognised) -> Result<Success, RunError> {
        // Engines and event settings return plates best first.
        let best = found.plates.first();
        let body = PhotoCompletedBody {
            photo_id: job.media_id.as_str(),
            job_id: job.job_id.as_str(),
            plate_number: best.map(|p| p.number),
            confidence: best.map_or(0.0, |p| p.confidence),
            plates: &found.plates,
            colors: &found.colors,
            thumbnail: found.thumbnail.as_deref(),
            image_size: found.image_size,
        };
        let result = serde_json::json!({ "plates": found.plates, "colors": found.colors });
        Success::new(job, &body, result, &found.plates, BibIndex::photo)
    }
}
