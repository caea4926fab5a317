//! What a video file holds, from `ffprobe -of json`: the first video stream's frame size
//! (display rotation applied), duration and codec, checked against the pixel limits.

use std::path::Path;
use std::process::Stdio;

use serde::Deserialize;
use tokio::process::Command;

use super::{VideoError, VideoInfo, VideoTools, last_lines};
use crate::MediaLimits;

impl VideoTools {
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
}
