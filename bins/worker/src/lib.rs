//! The worker as a library: [`App::build`] connects and wires everything, [`App::run`]
//! consumes jobs until shutdown. `main.rs` only parses flags and calls these.
//!
//! One process consumes `photo-processing`, `video-processing` or both (`--queues`): one apalis
//! worker per queue, sharing the job runner (fencing, retries, CPU pool) and the pipeline.

mod config;
mod http;
mod job;
mod photo;
mod settings;
mod video;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use apalis::prelude::*;
use finishline_bus::{BusLimits, BusWriter, Keys, ProgressBus, WriterConfig};
use finishline_media::{
    ClassicalPipeline, MediaLimits, NoopPipeline, PhotoPipeline, PpOcrConfig, PpOcrPipeline,
    SourceLoader, UnavailablePipeline, VideoTools,
};
use finishline_queue::{Backoff, Housekeeper, WorkerTuning, keep_alive, task_stream};
use finishline_wire::{JobKind, MediaJob};
use tokio_util::sync::CancellationToken;

pub use config::Config;
pub use photo::PhotoProcessor;
pub use video::{VideoProcessor, VideoSettings};

/// A built worker, connected and ready to run.
pub struct App {
    config: Config,
    conn: redis::aio::ConnectionManager,
    keys: Keys,
    /// The queues consumed, without duplicates, photo first.
    kinds: Vec<JobKind>,
    processor: Arc<PhotoProcessor>,
    videos: Arc<VideoProcessor>,
    base_name: String,
    health: http::Health,
}

impl App {
    /// Validates the configuration and connects to Redis.
    ///
    /// # Errors
    /// Fails with a readable message when Redis is unreachable, the media root is unusable, or
    /// ffmpeg/ffprobe are missing for a worker that consumes videos.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let kinds: Vec<JobKind> = JobKind::ALL
            .into_iter()
            .filter(|k| config.queues.contains(k))
            .collect();
        anyhow::ensure!(!kinds.is_empty(), "--queues names no queue");
        let tools = VideoTools {
            ffmpeg: config.ffmpeg.clone(),
            ffprobe: config.ffprobe.clone(),
        };
        if kinds.contains(&JobKind::Video) {
            let version = tools.check().await.context(
                "video-processing needs ffmpeg and ffprobe; install them or run with --queues photo",
            )?;
            tracing::info!(ffmpeg = %version, "video tools found");
        }
        let conn =
            finishline_service::connect_redis(&config.redis, Duration::from_secs(10)).await?;
        let keys = Keys::new(&config.redis.key_prefix);
        let limits = BusLimits {
            history_max: config.retention.history_max,
            retention: config.retention.retention,
            ..BusLimits::default()
        };
        let bus = ProgressBus::new(conn.clone(), keys.clone(), limits);
        let health = http::Health {
            bus: bus.clone(),
            consuming: Arc::new(AtomicBool::new(false)),
            metrics: finishline_service::init_metrics()?,
        };
        let media_limits = MediaLimits {
            max_bytes: config.max_media_bytes,
            max_pixels: config.max_pixels,
            fetch_timeout: config.fetch_timeout,
            allow_private_urls: config.allow_private_sources,
            ..MediaLimits::default()
        };
        let loader = Arc::new(
            SourceLoader::new(&config.media_root, media_limits.clone())
                .with_context(|| format!("media root {}", config.media_root.display()))?,
        );
        let pipeline = choose_pipeline(&config)?;
        let cpu_threads = config.cpu_threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
        });
        let (writer, _) = BusWriter::spawn(
            bus.clone(),
            WriterConfig {
                conflate: config.conflate,
                ..WriterConfig::default()
            },
        );
        let runner = Arc::new(job::JobRunner::new(
            bus,
            writer,
            cpu_threads,
            config.max_attempts,
            Backoff {
                base: config.retry_base_delay,
                max: config.retry_max_delay,
            },
        ));
        let artifacts =
            finishline_artifacts::ArtifactStore::open(&config.artifacts).context("--artifacts")?;
        let processor = Arc::new(
            PhotoProcessor::new(
                runner.clone(),
                loader.clone(),
                pipeline.clone(),
                media_limits.clone(),
                config.noop_progress,
            )
            .with_artifacts(artifacts),
        );
        let videos = Arc::new(VideoProcessor::new(
            runner,
            loader,
            pipeline,
            media_limits,
            VideoSettings {
                tools,
                fps: config.video_fps,
                max_bytes: config.max_video_bytes,
                temp_dir: config
                    .video_temp_dir
                    .clone()
                    .unwrap_or_else(std::env::temp_dir),
            },
        ));
        let base_name = config
            .worker_name
            .clone()
            .unwrap_or_else(default_worker_name);
        Ok(Self {
            config,
            conn,
            keys,
            kinds,
            processor,
            videos,
            base_name,
            health,
        })
    }

    /// Consumes jobs until `shutdown` fires, then lets running jobs finish within the grace
    /// period. When the apalis worker stops on an error (Redis gone), it is restarted with
    /// backoff under a fresh name: tasks the old name still holds are recovered by the
    /// housekeeper once its heartbeat is stale, like a dead worker's.
    ///
    /// # Errors
    /// Only on errors that a restart cannot fix.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let queues: Vec<&str> = self.kinds.iter().map(|k| k.queue_name()).collect();
        tracing::info!(
            worker = %self.base_name,
            redis = %self.config.redis.redacted_url(),
            prefix = %self.keys.prefix(),
            pipeline = self.processor.pipeline_name(),
            concurrency = self.config.concurrency,
            cpu_threads = self.processor.cpu_threads(),
            media_root = %self.config.media_root.display(),
            video_fps = self.config.video_fps,
            "worker started; consuming {}",
            queues.join(", ")
        );
        let health_server = http::serve(
            self.config.http_listen,
            self.health.clone(),
            shutdown.clone(),
        )
        .await?;
        let mut background = Vec::new();
        for &kind in &self.kinds {
            background.push(tokio::spawn(http::sample_queue(
                Housekeeper::new(self.conn.clone(), &self.keys, kind),
                kind.queue_name(),
                Duration::from_secs(2),
                shutdown.clone(),
            )));
            background.push(tokio::spawn(
                Housekeeper::new(self.conn.clone(), &self.keys, kind).run(
                    Duration::from_secs(1),
                    self.tuning().orphan_after(),
                    shutdown.clone(),
                ),
            ));
        }
        let mut restarts = 0u32;
        loop {
            let name = if restarts == 0 {
                self.base_name.clone()
            } else {
                format!("{}-r{restarts}", self.base_name)
            };
            self.health.consuming.store(true, Ordering::Relaxed);
            let result = self.run_once(&name, shutdown.clone()).await;
            self.health.consuming.store(false, Ordering::Relaxed);
            if shutdown.is_cancelled() {
                if let Err(err) = result {
                    tracing::warn!(error = %err, "worker stopped with an error during shutdown");
                }
                break;
            }
            restarts += 1;
            let backoff = Duration::from_millis(250 * 2u64.pow(restarts.min(5)));
            match result {
                Ok(()) => tracing::warn!(?backoff, "worker stopped unexpectedly; restarting"),
                Err(err) => {
                    tracing::error!(error = %err, ?backoff, "worker failed; restarting")
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(backoff) => {}
            }
        }
        for task in background {
            let _ = task.await;
        }
        let _ = health_server.await;
        tracing::info!("worker stopped");
        Ok(())
    }

    fn tuning(&self) -> WorkerTuning {
        WorkerTuning {
            heartbeat_interval: self.config.heartbeat_interval,
            missed_heartbeats: u32::try_from(self.config.missed_heartbeats).unwrap_or(u32::MAX),
            fetch_batch: usize::from(self.config.fetch_batch),
            poll_interval: self.config.poll_interval,
        }
    }

    /// Runs one apalis worker per consumed queue until shutdown (or until one of them stops).
    async fn run_once(&self, name: &str, shutdown: CancellationToken) -> anyhow::Result<()> {
        let runs = self
            .kinds
            .iter()
            .map(|&kind| Box::pin(self.run_queue(kind, name, shutdown.clone())));
        // When one queue's worker stops on an error, the others are stopped with it and all
        // are restarted together under a fresh name.
        let (result, _, others) = futures::future::select_all(runs).await;
        if shutdown.is_cancelled() {
            for other in futures::future::join_all(others).await {
                if let Err(err) = other {
                    tracing::warn!(error = %err, "a queue's worker stopped with an error during shutdown");
                }
            }
        }
        result
    }

    async fn run_queue(
        &self,
        kind: JobKind,
        name: &str,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let tuning = self.tuning();
        let grace = self.config.shutdown_grace;
        let drain_signal = shutdown.clone();
        let signal = async move {
            drain_signal.cancelled().await;
            tracing::info!(
                ?grace,
                queue = kind.as_str(),
                "no new jobs; waiting for running ones"
            );
            Ok::<(), std::io::Error>(())
        };
        let consume = async {
            let result: Result<(), WorkerError> = match kind {
                JobKind::Photo => consume!(
                    self,
                    kind,
                    name,
                    tuning,
                    signal,
                    self.processor.clone(),
                    photo::process_photo
                ),
                JobKind::Video => consume!(
                    self,
                    kind,
                    name,
                    tuning,
                    signal,
                    self.videos.clone(),
                    video::process_video
                ),
            };
            // Tasks fetched but never started go back to the queue.
            let handed_back = Housekeeper::new(self.conn.clone(), &self.keys, kind)
                .hand_back(name)
                .await
                .context("handing prefetched jobs back to the queue")?;
            if handed_back > 0 {
                tracing::info!(
                    queue = kind.as_str(),
                    handed_back,
                    "prefetched jobs handed back to the queue"
                );
            }
            result.map_err(|err| anyhow::anyhow!("{} worker: {err}", kind.as_str()))
        };
        // The fetch beats when the worker asks for work; a busy worker beats here too.
        let heartbeat = keep_alive(
            self.conn.clone(),
            &self.keys,
            kind,
            name,
            tuning.heartbeat_interval,
        );
        let run = async {
            tokio::select! {
                result = consume => result,
                never = heartbeat => match never {},
            }
        };
        let grace_over = async move {
            shutdown.cancelled().await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            result = run => result,
            () = grace_over => {
                let handed_back = Housekeeper::new(self.conn.clone(), &self.keys, kind)
                    .hand_back(name)
                    .await
                    .context("handing running jobs back to the queue")?;
                tracing::warn!(?grace, queue = kind.as_str(), handed_back, "grace period ran out; running jobs handed back to the queue");
                Ok(())
            }
        }
    }
}

/// Runs one apalis worker on the queue of `kind` until `signal`: photos and videos share the
/// backend (finishline-queue's task stream), job type, poll interval and concurrency; only the
/// processor and handler differ. (A macro: apalis' builder types are not worth spelling out in a generic
/// function.)
macro_rules! consume {
    ($app:expr, $kind:expr, $name:expr, $tuning:expr, $signal:expr, $data:expr, $handler:expr) => {{
        let (conn, keys, kind, tuning) = ($app.conn.clone(), $app.keys.clone(), $kind, $tuning);
        let backend = BackendBuilder::new()
            .database(())
            .fetcher(move |_, _, worker| {
                task_stream::<MediaJob>(conn.clone(), keys.clone(), kind, worker, tuning)
            })
            .sink(|_, _| {
                // Jobs are enqueued by the producer, never through the worker's backend.
                futures::SinkExt::sink_map_err(futures::sink::drain(), |never| match never {})
            })
            .build()
            .map_err(|err| anyhow::anyhow!("queue backend: {err}"))?;
        WorkerBuilder::new($name)
            .backend(backend)
            .concurrency(usize::from($app.config.concurrency))
            .data($data)
            .build($handler)
            .run_until($signal)
            .await
    }};
}
use consume;

fn default_worker_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".to_owned());
    let suffix: u16 = rand::random();
    format!("{host}-{}-{suffix:04x}", std::process::id())
}

/// The recognition engine named by `--pipeline` (see its help), logged at start-up.
///
/// # Errors
/// `ppocr` when its files do not load.
fn choose_pipeline(config: &Config) -> anyhow::Result<Arc<dyn PhotoPipeline>> {
    let ppocr = PpOcrConfig {
        models_dir: config.models_dir.clone(),
        onnxruntime_library: config.onnxruntime_library.clone(),
    };
    let pipeline: Arc<dyn PhotoPipeline> = match config.pipeline.as_str() {
        "noop" => Arc::new(NoopPipeline),
        "ppocr" => Arc::new(PpOcrPipeline::new(&ppocr).context("--pipeline ppocr cannot start")?),
        "classical" => Arc::new(
            ClassicalPipeline::with_tesseract(&config.tesseract)
                .context("--pipeline classical cannot start")?,
        ),
        _ => match PpOcrPipeline::new(&ppocr) {
            Ok(engine) => Arc::new(engine),
            Err(ppocr_err) => match ClassicalPipeline::with_tesseract(&config.tesseract) {
                Ok(engine) => {
                    tracing::warn!(
                        error = %ppocr_err,
                        "PP-OCR unavailable; using the classical engine (imageproc + tesseract)"
                    );
                    Arc::new(engine)
                }
                Err(classical_err) => {
                    tracing::warn!(
                        ppocr = %ppocr_err,
                        classical = %classical_err,
                        "no OCR engine available: every photo's ocr stage will fail with engine_unavailable"
                    );
                    Arc::new(UnavailablePipeline::new(format!(
                        "{}; {}",
                        unavailable_reason(ppocr_err),
                        unavailable_reason(classical_err)
                    )))
                }
            },
        },
    };
    tracing::info!(pipeline = pipeline.name(), requested = %config.pipeline, "recognition engine chosen");
    Ok(pipeline)
}

fn unavailable_reason(err: finishline_media::MediaError) -> String {
    match err {
        finishline_media::MediaError::EngineUnavailable(reason) => reason,
        other => other.to_string(),
    }
}
