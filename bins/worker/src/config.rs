//! The worker's configuration, from flags and environment variables.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use finishline_service::{ServiceArgs, parse_duration};
use finishline_wire::JobKind;

/// Consumes photo and video jobs from Redis, runs detection → ocr → color on each photo and
/// on the sampled frames of each video, and publishes every step to the progress bus that the
/// gateways relay to dashboards.
#[derive(Debug, Clone, Parser)]
#[command(name = "finishline-worker", version)]
pub struct Config {
    #[command(flatten)]
    pub service: ServiceArgs,

    /// Folder that `{ path }` sources are resolved under; paths that leave it are refused
    #[arg(long, env = "FINISHLINE_MEDIA_ROOT", default_value = "./media")]
    pub media_root: PathBuf,

    /// Recognition engine. ppocr: PP-OCRv4 detection and PP-OCRv6 recognition on ONNX Runtime
    /// (needs the files of deploy/local/install-models.sh in --models-dir; refuses to start
    /// without them).
    /// classical: a contrast-blob bib detector with Tesseract reading each line (needs Debian's
    /// tesseract-ocr; refuses to start without it). auto: ppocr when its files load, else
    /// classical when tesseract runs, else an engine whose ocr stage fails every photo with
    /// "engine unavailable" and the reason (never a photo reported as read when it was not).
    /// noop: benchmark mode, no image work at all (only queue, progress and counting)
    #[arg(long, env = "FINISHLINE_PIPELINE", default_value = "auto", value_parser = ["auto", "ppocr", "classical", "noop"])]
    pub pipeline: String,

    /// Folder with the PP-OCR models and libonnxruntime (deploy/local/install-models.sh)
    #[arg(long, env = "FINISHLINE_MODELS_DIR", default_value = "models")]
    pub models_dir: PathBuf,

    /// The ONNX Runtime library; default: libonnxruntime.so.1.32.0 in --models-dir
    #[arg(long, env = "ORT_DYLIB_PATH")]
    pub onnxruntime_library: Option<PathBuf>,

    /// PP-OCR's text detector: int8 (quantized at install time, ~35% less CPU per photo) or
    /// fp32 (the published model); docs/recognition.md compares them on held-out photos
    #[arg(long, env = "FINISHLINE_DETECTOR", default_value = "int8")]
    pub detector: finishline_media::Detector,

    /// Queues this worker consumes: photo, video, or both (video needs ffmpeg and ffprobe)
    #[arg(long, env = "FINISHLINE_QUEUES", value_delimiter = ',', default_value = "photo,video", value_parser = parse_queue)]
    pub queues: Vec<JobKind>,

    /// Frames sampled per second of video and run through the pipeline
    #[arg(long, env = "FINISHLINE_VIDEO_FPS", default_value_t = 2.0, value_parser = parse_fps)]
    pub video_fps: f64,

    /// Largest video accepted, in bytes (a path, or a URL downloaded to a temporary file)
    #[arg(long, env = "FINISHLINE_MAX_VIDEO_BYTES", default_value_t = 2 * 1024 * 1024 * 1024)]
    pub max_video_bytes: u64,

    /// The ffmpeg program (a name on PATH or a path)
    #[arg(long, env = "FINISHLINE_FFMPEG", default_value = "ffmpeg")]
    pub ffmpeg: PathBuf,

    /// The ffprobe program (a name on PATH or a path)
    #[arg(long, env = "FINISHLINE_FFPROBE", default_value = "ffprobe")]
    pub ffprobe: PathBuf,

    /// The tesseract program of the classical engine (a name on PATH or a path)
    #[arg(long, env = "FINISHLINE_TESSERACT", default_value = "tesseract")]
    pub tesseract: PathBuf,

    /// Folder where videos given by URL are downloaded while they are processed; default: the
    /// system's temporary folder
    #[arg(long, env = "FINISHLINE_VIDEO_TEMP_DIR")]
    pub video_temp_dir: Option<PathBuf>,

    /// Jobs a worker process runs at once (I/O overlaps; CPU work is bounded by --cpu-threads)
    #[arg(long, env = "FINISHLINE_CONCURRENCY", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,

    /// Jobs taken from the queue in one Redis call. They wait in this worker until one of its
    /// --concurrency slots frees up (and go back to the queue if it dies), so keep it small
    /// next to the concurrency when jobs are slow.
    #[arg(long, env = "FINISHLINE_FETCH_BATCH", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub fetch_batch: u16,

    /// Conflate progress under load: on (a job's older photo:progress/video:progress waiting in
    /// the same batch as a newer one of it is dropped; terminal messages and counts never are)
    /// or off (every progress message is stored and relayed)
    #[arg(long, env = "FINISHLINE_CONFLATE", default_value = "on", value_parser = parse_on_off, action = clap::ArgAction::Set)]
    pub conflate: bool,

    /// With --pipeline noop (benchmark mode): publish each job's three photo:progress (on) or
    /// only its terminal message and event:progress (off: the queue benchmark's
    /// `--progress none`, against a BullMQ worker that never calls updateProgress)
    #[arg(long, env = "FINISHLINE_NOOP_PROGRESS", default_value = "on", value_parser = parse_on_off, action = clap::ArgAction::Set)]
    pub noop_progress: bool,

    /// Where photo thumbnails are stored: a local folder as file:///path (created when missing)
    #[arg(long, env = "FINISHLINE_ARTIFACTS", default_value = finishline_artifacts::DEFAULT_ARTIFACTS)]
    pub artifacts: String,

    /// Threads for CPU work (decoding, recognition); default: the number of cores
    #[arg(long, env = "FINISHLINE_CPU_THREADS")]
    pub cpu_threads: Option<usize>,

    /// Attempts a job gets for transient errors (I/O, Redis, timeouts); permanent errors fail at once
    #[arg(long, env = "FINISHLINE_MAX_ATTEMPTS", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=25))]
    pub max_attempts: u32,

    /// Delay before the first retry; each further retry doubles it (with jitter)
    #[arg(long, env = "FINISHLINE_RETRY_BASE_DELAY", default_value = "1s", value_parser = parse_duration)]
    pub retry_base_delay: Duration,

    /// Longest delay between two attempts
    #[arg(long, env = "FINISHLINE_RETRY_MAX_DELAY", default_value = "60s", value_parser = parse_duration)]
    pub retry_max_delay: Duration,

    /// How often an idle worker looks for new jobs
    #[arg(long, env = "FINISHLINE_POLL_INTERVAL", default_value = "50ms", value_parser = parse_duration)]
    pub poll_interval: Duration,

    /// How often the worker signals it is alive
    #[arg(long, env = "FINISHLINE_HEARTBEAT_INTERVAL", default_value = "3s", value_parser = parse_duration)]
    pub heartbeat_interval: Duration,

    /// Heartbeats missed before another worker takes this one's jobs (recovery takes about
    /// interval × this)
    #[arg(long, env = "FINISHLINE_MISSED_HEARTBEATS", default_value_t = 5)]
    pub missed_heartbeats: usize,

    /// Age after which a job that an interrupted enqueue counted but never queued (its
    /// producer stopped between the two calls) is queued by the worker's repair sweep
    #[arg(long, env = "FINISHLINE_REPAIR_AFTER", default_value = "60s", value_parser = parse_duration)]
    pub repair_after: Duration,

    /// Largest photo accepted, in bytes, before decoding
    #[arg(long, env = "FINISHLINE_MAX_MEDIA_BYTES", default_value_t = 50 * 1024 * 1024)]
    pub max_media_bytes: u64,

    /// Largest photo accepted, in pixels (guards against decompression bombs)
    #[arg(long, env = "FINISHLINE_MAX_PIXELS", default_value_t = 100_000_000)]
    pub max_pixels: u64,

    /// Let `{ url }` sources reach private, loopback and link-local addresses (off: SSRF guard)
    #[arg(
        long,
        env = "FINISHLINE_ALLOW_PRIVATE_SOURCES",
        default_value_t = false
    )]
    pub allow_private_sources: bool,

    /// Time limit for fetching a `{ url }` source
    #[arg(long, env = "FINISHLINE_FETCH_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub fetch_timeout: Duration,

    /// Time a running job gets to finish after SIGTERM before it is handed back to the queue
    #[arg(long, env = "FINISHLINE_SHUTDOWN_GRACE", default_value = "30s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,

    /// Address of the health and metrics port (/healthz, /readyz, /metrics)
    #[arg(long, env = "FINISHLINE_HTTP_LISTEN", default_value = "0.0.0.0:9100")]
    pub http_listen: std::net::SocketAddr,

    /// Name of this worker in Redis; default: <host>-<pid>-<random>, unique per process
    #[arg(long, env = "FINISHLINE_WORKER_NAME")]
    pub worker_name: Option<String>,
}

/// A kind (`photo`) or its queue's name (`photo-processing`).
fn parse_queue(text: &str) -> Result<JobKind, String> {
    let text = text.trim();
    JobKind::ALL
        .into_iter()
        .find(|kind| text == kind.as_str() || text == kind.queue_name())
        .ok_or_else(|| format!("unknown queue {text:?}; use photo, video or photo,video"))
}

fn parse_fps(text: &str) -> Result<f64, String> {
    let fps: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of frames per second"))?;
    if fps.is_finite() && (0.01..=60.0).contains(&fps) {
        Ok(fps)
    } else {
        Err(format!("{fps} frames per second is out of range (0.01-60)"))
    }
}

/// `on` or `off`.
fn parse_on_off(value: &str) -> Result<bool, String> {
    match value {
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err(format!("`{other}`: expected on or off")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_default_to_both_and_can_be_narrowed() {
        let config = Config::try_parse_from(["finishline-worker"]).unwrap();
        assert_eq!(config.queues, vec![JobKind::Photo, JobKind::Video]);
        assert_eq!(config.video_fps, 2.0);
        let config = Config::try_parse_from(["finishline-worker", "--queues", "video"]).unwrap();
        assert_eq!(config.queues, vec![JobKind::Video]);
        assert!(Config::try_parse_from(["finishline-worker", "--queues", "audio"]).is_err());
        assert!(Config::try_parse_from(["finishline-worker", "--video-fps", "0"]).is_err());
    }

    #[test]
    fn conflation_is_on_unless_turned_off() {
        assert!(
            Config::try_parse_from(["finishline-worker"])
                .unwrap()
                .conflate
        );
        let off = Config::try_parse_from(["finishline-worker", "--conflate", "off"]).unwrap();
        assert!(!off.conflate);
        let err = Config::try_parse_from(["finishline-worker", "--conflate", "maybe"]).unwrap_err();
        assert!(err.to_string().contains("expected on or off"), "{err}");
    }

    #[test]
    fn the_noop_pipeline_publishes_progress_unless_turned_off() {
        assert!(
            Config::try_parse_from(["finishline-worker"])
                .unwrap()
                .noop_progress
        );
        let off = Config::try_parse_from(["finishline-worker", "--noop-progress", "off"]).unwrap();
        assert!(!off.noop_progress);
    }
}
