//! The photo and video processors built from the configuration: one job runner (bus writer,
//! CPU pool, retry policy), one source loader and one recognition engine for both kinds.

use std::sync::Arc;

use anyhow::Context;
use finishline_bus::{BusWriter, ProgressBus, WriterConfig};
use finishline_media::{MediaLimits, SourceLoader, VideoTools};
use finishline_queue::Backoff;

use crate::{Config, PhotoProcessor, VideoProcessor, VideoSettings, job, pipeline};

/// The photo and video processors: one job runner, source loader and engine for both.
pub(crate) fn processors(
    config: &Config,
    bus: ProgressBus,
    tools: VideoTools,
) -> anyhow::Result<(Arc<PhotoProcessor>, Arc<VideoProcessor>)> {
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
    let pipeline = pipeline::choose_pipeline(config)?;
    let runner = Arc::new(job_runner(config, bus));
    let artifacts =
        finishline_artifacts::ArtifactStore::open(&config.artifacts).context("--artifacts")?;
    let processor = PhotoProcessor::new(
        runner.clone(),
        loader.clone(),
        pipeline.clone(),
        media_limits.clone(),
        config.noop_progress,
    )
    .with_artifacts(artifacts.clone());
    let videos = VideoProcessor::new(
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
    )
    .with_artifacts(artifacts);
    Ok((Arc::new(processor), Arc::new(videos)))
}

/// The runner every job of the process shares: the batched bus writer, the CPU pool and the
/// retry policy.
fn job_runner(config: &Config, bus: ProgressBus) -> job::JobRunner {
    let cpu_threads = config
        .cpu_threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, std::num::NonZero::get));
    let (writer, _) = BusWriter::spawn(
        bus.clone(),
        WriterConfig {
            conflate: config.conflate,
            ..WriterConfig::default()
        },
    );
    job::JobRunner::new(
        bus,
        writer,
        cpu_threads,
        config.max_attempts,
        Backoff {
            base: config.retry_base_delay,
            max: config.retry_max_delay,
        },
    )
}
