//! The worker as a library: [`App::build`] connects and wires everything, [`App::run`]
//! consumes jobs until shutdown. `main.rs` only parses flags and calls these.
//!
//! One process consumes `photo-processing`, `video-processing` or both (`--queues`): one apalis
//! worker per queue, sharing the job runner (fencing, retries, CPU pool) and the pipeline.

mod config;
mod http;
mod job;
mod photo;
mod pipeline;
mod processors;
mod settings;
mod video;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use apalis::prelude::*;
use finishline_bus::{Keys, ProgressBus};
use finishline_media::VideoTools;
use finishline_queue::{Housekeeper, WorkerTuning, keep_alive, task_stream};
use finishline_wire::{JobKind, MediaJob};
use tokio_util::sync::CancellationToken;

pub use config::Config;
pub use photo::PhotoProcessor;
pub use video::{VideoProcessor, VideoSettings};

/// A built worker, connected and ready to run.
pub struct App {
    config: Config,
    conn: finishline_service::RedisConn,
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
            finishline_service::connect_redis(&config.service.redis, Duration::from_secs(10))
                .await?;
        let keys = Keys::new(&config.service.redis.key_prefix);
        let limits = config.service.retention.bus_limits();
        // --durability replicated: every batch of the bus writer (job starts and ends, each
        // ending's settle) waits for a replica (WAIT 1); a batch no replica took fails and the
        // job's end is retried.
        let bus = ProgressBus::new(
            conn.with_durability(config.service.redis.durability()),
            keys.clone(),
            limits,
        );
        let health = http::Health {
            bus: bus.clone(),
            consuming: Arc::new(AtomicBool::new(false)),
            metrics: finishline_service::init_metrics()?,
        };
        let (processor, videos) = processors::processors(&config, bus, tools)?;
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
            redis = %self.config.service.redis.redacted_url(),
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
                    self.config.repair_after,
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

    /// Runs the queue of `kind` with its heartbeat until shutdown; running jobs get the grace
    /// period, then are handed back to the queue.
    async fn run_queue(
        &self,
        kind: JobKind,
        name: &str,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let grace = self.config.shutdown_grace;
        // The fetch beats when the worker asks for work; a busy worker beats here too.
        let heartbeat = keep_alive(
            self.conn.clone(),
            &self.keys,
            kind,
            name,
            self.tuning().heartbeat_interval,
        );
        let run = async {
            tokio::select! {
                result = self.consume(kind, name, shutdown.clone()) => result,
                never = heartbeat => match never {},
            }
        };
        let grace_over = async {
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

    /// Consumes the queue of `kind` until shutdown and the running jobs are done, then hands
    /// the tasks fetched but never started back to the queue.
    async fn consume(
        &self,
        kind: JobKind,
        name: &str,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let tuning = self.tuning();
        let grace = self.config.shutdown_grace;
        let signal = async move {
            shutdown.cancelled().await;
            tracing::info!(
                ?grace,
                queue = kind.as_str(),
                "no new jobs; waiting for running ones"
            );
            Ok::<(), std::io::Error>(())
        };
        let result: Result<(), WorkerError> = match kind {
            JobKind::Photo => consume!(
                self,
                kind,
                name,
                tuning,
                signal,
                self.processor.clone(),
                job::process::<PhotoProcessor>
            ),
            JobKind::Video => consume!(
                self,
                kind,
                name,
                tuning,
                signal,
                self.videos.clone(),
                job::process::<VideoProcessor>
            ),
        };
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
