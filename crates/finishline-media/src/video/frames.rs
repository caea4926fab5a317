//! Sampled frames of a video: ffmpeg's `fps` filter streaming raw RGB on a pipe, read one
//! frame at a time; its error lines kept apart from its `-progress` lines to say why it
//! stopped.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use image::RgbImage;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

use super::{VideoError, VideoInfo, VideoTools, last_lines};
use crate::Photo;

impl VideoTools {
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
            photo: Photo::frame(image),
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
