//! Videos through ffmpeg: `ffprobe -of json` for what a file holds, and `ffmpeg` streaming
//! sampled frames as raw RGB on a pipe, one [`crate::Photo`] at a time, so a video of any length is
//! processed in the memory of one frame.
//!
//! Both tools run as child processes with `kill_on_drop`: dropping a [`FrameStream`] (job
//! cancelled, run superseded, worker stopping) kills its ffmpeg.
//!
//! Here: the errors, where the tools are and what a probe says; `probe.rs` reads ffprobe's
//! answer, `frames.rs` streams ffmpeg's frames.

mod frames;
mod probe;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

use crate::MediaError;

pub use frames::{Frame, FrameStream};

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
}

/// The last non-empty lines of a tool's error output, without the server-side file path.
pub(super) fn last_lines(text: &str, path: &Path) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MediaLimits;

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
