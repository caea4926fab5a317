//! Videos through ffmpeg: `ffprobe -of json` for what a file holds, and `ffmpeg` streaming
//! sampled frames as raw RGB on a pipe, one [`Photo`] at a time, so a video of any length is
//! processed in the memory of one frame.
//!
//! Both tools run as child processes with `kill_on_drop`: dropping a [`FrameStream`] (job
//! cancelled, run superseded, worker stopping) kills its ffmpeg.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use image::RgbImage;
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

use crate::{MediaError, MediaLimits, Photo};

/// What went wrong with a video. Messages are readable by the person who uploaded it.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    /// ffmpeg or ffprobe cannot be run on this machine.
    #[error("video tools unavailable: {0}")]
    ToolsUnavailable(String),
    #[error("unsupported video: {0}")]
    Unsupported(String),
    #[error("corrupt video: {0}")]
    Corrupt(String),
    #[error("too large: {0}")]
    TooLarge(String),
    /// Loading the source failed (refused, missing, fetch or I/O).
    #[error(transparent)]
    Source(#[from] MediaError),
    #[error("i/o error: {0}")]
    Io(String),
}

impl VideoError {
    /// Permanent errors fail the same way on every attempt.
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Source(err) => err.is_permanent(),
            Self::Io(_) | Self::ToolsUnavailable(_) => false,
            Self::Unsupported(_) | Self::Corrupt(_) | Self::TooLarge(_) => true,
        }
    }

    /// A stable code for `video:failed.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ToolsUnavailable(_) => "engine_unavailable",
            Self::Unsupported(_) => "unsupported_format",
            Self::Corrupt(_) => "corrupt_video",
            Self::TooLarge(_) => "too_large",
            Self::Source(err) => err.code(),
            Self::Io(_) => "io_error",
        }
    }
}

/// Where ffmpeg and ffprobe are.
#[derive(Debug, Clone)]
pub struct VideoTools {
    pub ffmpeg: PathBuf,
    pub ffprobe: PathBuf,
}

impl Default for VideoTools {
    fn default() -> Self {
        Self {
            ffmpeg: PathBuf::from("ffmpeg"),
            ffprobe: PathBuf::from("ffprobe"),
        }
    }
}

/// What ffprobe says about a video's first video stream.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoInfo {
    /// Width and height of the frames ffmpeg outputs (display rotation applied).
    pub width: u32,
    pub height: u32,
    pub duration_ms: u64,
    pub codec: String,
}

impl VideoInfo {
    /// Frames that sampling at `fps` yields (ffmpeg's fps filter rounds to the nearest).
    pub fn expected_frames(&self, fps: f64) -> u64 {
        ((self.duration_ms as f64 / 1000.0 * fps).round() as u64).max(1)
    }
}

impl VideoTools {
    /// Runs `ffmpeg -version` and `ffprobe -version`; returns ffmpeg's version line.
    ///
    /// # Errors
    /// `ToolsUnavailable` saying which tool is missing and how to install it.
    pub async fn check(&self) -> Result<String, VideoError> {
        let mut first_line = String::new();
        for tool in [&self.ffmpeg, &self.ffprobe] {
            let output = Command::new(tool)
                .arg("-version")
                .stdin(Stdio::null())
                .kill_on_drop(true)
                .output()
                .await
                .map_err(|err| {
                    VideoError::ToolsUnavailable(format!(
                        "cannot run {}: {err} (install Debian's ffmpeg: deploy/local/install-deps.sh)",
                        tool.display()
                    ))
                })?;
            if !output.status.success() {
                return Err(VideoError::ToolsUnavailable(format!(
                    "{} -version exited with {}",
                    tool.display(),
                    output.status
                )));
            }
            if first_line.is_empty() {
                first_line = String::from_utf8_lossy(&output.stdout)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
            }
        }
        Ok(first_line)
    }

    /// Reads a video's duration, size and codec with `ffprobe -of json`.
    ///
    /// # Errors
    /// `Corrupt` or `Unsupported` when ffprobe cannot read the file or finds no video stream;
    /// `TooLarge` when its frames exceed the pixel limits.
    pub async fn probe(&self, path: &Path, limits: &MediaLimits) -> Result<VideoInfo, VideoError> {
        let output = Command::new(&self.ffprobe)
            .args([
                "-v",
                "error",
                "-of",
                "json",
                "-show_format",
                "-show_streams",
            ])
            .args(["-select_streams", "v:0"])
            .arg(path)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .map_err(|err| VideoError::ToolsUnavailable(format!("cannot run ffprobe: {err}")))?;
        if !output.status.success() {
            let reason = last_lines(&String::from_utf8_lossy(&output.stderr), path);
            return Err(VideoError::Corrupt(format!(
                "ffprobe cannot read it: {reason}"
            )));
        }
        parse_probe(&output.stdout, limits)
    }

    /// Starts ffmpeg sampling `fps` frames per second of the video as raw RGB.
    ///
    /// # Errors
    /// `ToolsUnavailable` when ffmpeg cannot be started.
    pub fn frames(
        &self,
        path: &Path,
        info: &VideoInfo,
        fps: f64,
    ) -> Result<FrameStream, VideoError> {
        let mut child = Command::new(&self.ffmpeg)
            .args(["-nostdin", "-hide_banner", "-nostats", "-loglevel", "error"])
            .args(["-progress", "pipe:2"])
            .arg("-i")
            .arg(path)
            .args(["-an", "-sn", "-dn", "-vf", &format!("fps={fps}")])
            .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|err| VideoError::ToolsUnavailable(format!("cannot run ffmpeg: {err}")))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| VideoError::Io("ffmpeg has no stdout".to_owned()))?;
        let errors = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(stderr) = child.stderr.take() {
            let errors = errors.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    // `-progress` lines are `key=value`; anything else is an error message.
                    if is_progress_line(&line) {
                        continue;
                    }
                    let mut errors = errors.lock().unwrap_or_else(|e| e.into_inner());
                    if errors.len() == 5 {
                        errors.pop_front();
                    }
                    errors.push_back(line);
                }
            });
        }
        Ok(FrameStream {
            child,
            stdout,
            width: info.width,
            height: info.height,
            frame_interval_ms: 1000.0 / fps,
            index: 0,
            errors,
            path: path.to_owned(),
        })
    }
}

/// Sampled frames of one video, read from ffmpeg's stdout. Dropping it kills ffmpeg.
pub struct FrameStream {
    child: Child,
    stdout: ChildStdout,
    width: u32,
    height: u32,
    frame_interval_ms: f64,
    index: u64,
    errors: Arc<Mutex<VecDeque<String>>>,
    path: PathBuf,
}

/// One sampled frame and its time from the start of the video.
#[derive(Debug)]
pub struct Frame {
    pub index: u64,
    pub time_ms: u64,
    pub photo: Photo,
}

impl FrameStream {
    /// The next frame, or `None` when ffmpeg has sent them all and exited cleanly.
    ///
    /// # Errors
    /// `Corrupt` when ffmpeg stops with an error or sends a truncated frame.
    pub async fn next_frame(&mut self) -> Result<Option<Frame>, VideoError> {
        let size = self.width as usize * self.height as usize * 3;
        let mut buffer = vec![0u8; size];
        let mut filled = 0;
        while filled < size {
            let read = self
                .stdout
                .read(&mut buffer[filled..])
                .await
                .map_err(|err| VideoError::Io(format!("reading ffmpeg's frames: {err}")))?;
            if read == 0 {
                break;
            }
            filled += read;
        }
        if filled == 0 {
            self.wait_clean_exit().await?;
            return Ok(None);
        }
        if filled < size {
            self.wait_clean_exit().await?;
            return Err(VideoError::Corrupt(format!(
                "ffmpeg sent a truncated frame ({filled} of {size} bytes)"
            )));
        }
        let image = RgbImage::from_raw(self.width, self.height, buffer)
            .ok_or_else(|| VideoError::Io("frame buffer has the wrong size".to_owned()))?;
        let frame = Frame {
            index: self.index,
            time_ms: (self.index as f64 * self.frame_interval_ms).round() as u64,
            photo: Photo { image },
        };
        self.index += 1;
        Ok(Some(frame))
    }

    /// Kills ffmpeg now (cancellation); dropping the stream does the same.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    async fn wait_clean_exit(&mut self) -> Result<(), VideoError> {
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .map_err(|_| VideoError::Io("ffmpeg did not exit after its last frame".to_owned()))?
            .map_err(|err| VideoError::Io(format!("waiting for ffmpeg: {err}")))?;
        if status.success() {
            return Ok(());
        }
        // Let the stderr reader catch up with the last lines before quoting them.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let errors: Vec<String> = self
            .errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect();
        let reason = last_lines(&errors.join("\n"), &self.path);
        Err(VideoError::Corrupt(format!(
            "ffmpeg stopped with {status}: {reason}"
        )))
    }
}

fn is_progress_line(line: &str) -> bool {
    line.split_once('=').is_some_and(|(key, _)| {
        !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    })
}

/// The last non-empty lines of a tool's error output, without the server-side file path.
fn last_lines(text: &str, path: &Path) -> String {
    let path = path.display().to_string();
    let lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| l.replace(&path, "<video>"))
        .collect();
    let start = lines.len().saturating_sub(2);
    let joined = lines[start..].join("; ");
    if joined.is_empty() {
        "no details".to_owned()
    } else {
        joined.chars().take(300).collect()
    }
}

#[derive(Debug, Deserialize)]
struct ProbeOutput {
    #[serde(default)]
    streams: Vec<ProbeStream>,
    format: Option<ProbeFormat>,
}

#[derive(Debug, Deserialize)]
struct ProbeStream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    duration: Option<String>,
    #[serde(default)]
    tags: std::collections::HashMap<String, String>,
    #[serde(default)]
    side_data_list: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct ProbeFormat {
    duration: Option<String>,
}

/// Parses `ffprobe -of json -show_format -show_streams` output.
fn parse_probe(json: &[u8], limits: &MediaLimits) -> Result<VideoInfo, VideoError> {
    let probe: ProbeOutput = serde_json::from_slice(json)
        .map_err(|err| VideoError::Corrupt(format!("ffprobe output is not readable: {err}")))?;
    let stream = probe
        .streams
        .into_iter()
        .find(|s| s.codec_type.as_deref() == Some("video"))
        .ok_or_else(|| VideoError::Unsupported("the file holds no video stream".to_owned()))?;
    let (Some(mut width), Some(mut height)) = (stream.width, stream.height) else {
        return Err(VideoError::Unsupported(
            "the video stream has no frame size".to_owned(),
        ));
    };
    if width == 0 || height == 0 {
        return Err(VideoError::Unsupported(
            "the video stream has no frame size".to_owned(),
        ));
    }
    let rotation = stream
        .side_data_list
        .iter()
        .find_map(|d| d.get("rotation").and_then(serde_json::Value::as_i64))
        .or_else(|| stream.tags.get("rotate").and_then(|r| r.parse().ok()))
        .unwrap_or(0);
    if rotation.rem_euclid(180) == 90 {
        std::mem::swap(&mut width, &mut height);
    }
    if width > limits.max_dimension
        || height > limits.max_dimension
        || u64::from(width) * u64::from(height) > limits.max_pixels
    {
        return Err(VideoError::TooLarge(format!(
            "frames of {width}×{height} exceed the limit of {} pixels",
            limits.max_pixels
        )));
    }
    let seconds = probe
        .format
        .and_then(|f| f.duration)
        .or(stream.duration)
        .and_then(|d| d.parse::<f64>().ok())
        .filter(|d| d.is_finite() && *d > 0.0)
        .ok_or_else(|| VideoError::Unsupported("the video has no duration".to_owned()))?;
    Ok(VideoInfo {
        width,
        height,
        duration_ms: (seconds * 1000.0).round() as u64,
        codec: stream.codec_name.unwrap_or_else(|| "unknown".to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_output_gives_size_duration_and_codec_with_rotation_applied() {
        let json =
            br#"{"streams":[{"codec_type":"video","codec_name":"h264","width":320,"height":240,
            "side_data_list":[{"side_data_type":"Display Matrix","rotation":-90}]}],
            "format":{"duration":"4.000000"}}"#;
        let info = parse_probe(json, &MediaLimits::default()).unwrap();
        assert_eq!(
            info,
            VideoInfo {
                width: 240,
                height: 320,
                duration_ms: 4000,
                codec: "h264".into()
            }
        );
        assert_eq!(info.expected_frames(2.0), 8);
    }

    #[test]
    fn probe_output_without_video_or_duration_is_unsupported_and_huge_frames_too_large() {
        let audio = br#"{"streams":[],"format":{"duration":"3.0"}}"#;
        let err = parse_probe(audio, &MediaLimits::default()).unwrap_err();
        assert_eq!(err.code(), "unsupported_format");
        assert!(err.is_permanent());
        let still = br#"{"streams":[{"codec_type":"video","width":10,"height":10}],"format":{}}"#;
        assert_eq!(
            parse_probe(still, &MediaLimits::default())
                .unwrap_err()
                .code(),
            "unsupported_format"
        );
        let huge = br#"{"streams":[{"codec_type":"video","width":30000,"height":30000}],"format":{"duration":"1"}}"#;
        assert_eq!(
            parse_probe(huge, &MediaLimits::default())
                .unwrap_err()
                .code(),
            "too_large"
        );
    }

    #[test]
    fn progress_lines_are_told_apart_from_error_messages() {
        assert!(is_progress_line("out_time_us=500000"));
        assert!(is_progress_line("progress=end"));
        assert!(!is_progress_line("[mov,mp4 @ 0x55] moov atom not found"));
        assert_eq!(
            last_lines(
                "a\n\n/tmp/x.mp4: Invalid data found\n",
                Path::new("/tmp/x.mp4")
            ),
            "a; <video>: Invalid data found"
        );
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("fl-video-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[tokio::test]
    async fn a_generated_video_is_probed_and_sampled_at_the_requested_rate() {
        let dir = temp_dir("sample");
        let path = dir.join("clip.mp4");
        let status = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg("color=c=red:size=160x120:rate=10:duration=3")
            .args(["-pix_fmt", "yuv420p"])
            .arg(&path)
            .status()
            .expect("ffmpeg is installed (deploy/local/install-deps.sh)");
        assert!(status.success());
        let tools = VideoTools::default();
        assert!(tools.check().await.unwrap().starts_with("ffmpeg version"));
        let info = tools.probe(&path, &MediaLimits::default()).await.unwrap();
        assert_eq!((info.width, info.height), (160, 120));
        assert!((2900..=3100).contains(&info.duration_ms), "{info:?}");
        let mut frames = tools.frames(&path, &info, 2.0).unwrap();
        let mut times = Vec::new();
        while let Some(frame) = frames.next_frame().await.unwrap() {
            assert_eq!(frame.photo.width(), 160);
            let pixel = frame.photo.image.get_pixel(80, 60).0;
            assert!(pixel[0] > 200 && pixel[1] < 60, "red: {pixel:?}");
            times.push(frame.time_ms);
        }
        assert_eq!(times, vec![0, 500, 1000, 1500, 2000, 2500]);
        assert_eq!(info.expected_frames(2.0), 6);
    }

    #[tokio::test]
    async fn a_corrupt_file_is_a_permanent_corrupt_video_error_and_missing_tools_are_named() {
        let dir = temp_dir("corrupt");
        let path = dir.join("bad.mp4");
        let mut bytes = b"\0\0\0\x18ftypmp42".to_vec();
        bytes.extend((0..4000u32).map(|i| (i * 13 % 251) as u8));
        std::fs::write(&path, bytes).unwrap();
        let err = VideoTools::default()
            .probe(&path, &MediaLimits::default())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "corrupt_video", "{err}");
        assert!(err.is_permanent());
        assert!(
            !err.to_string().contains(&dir.display().to_string()),
            "{err}"
        );
        let missing = VideoTools {
            ffmpeg: PathBuf::from("/nonexistent/ffmpeg"),
            ffprobe: PathBuf::from("ffprobe"),
        };
        let err = missing.check().await.unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ffmpeg"), "{err}");
    }
}
