//! Job payloads as they travel through the queue.

use serde::{Deserialize, Serialize};

use crate::{EventId, JobId, MediaId, RequestId};

/// Where the worker finds a photo or a video.
///
/// Serialises as `{ "url": "…" }` or `{ "path": "…" }`, as in PROTOCOL.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum MediaSource {
    /// An http or https URL the worker fetches, within a size limit and a timeout.
    #[serde(rename = "url")]
    Url(String),
    /// A path relative to the worker's media root; a path that leaves the root is refused.
    #[serde(rename = "path")]
    Path(String),
}

impl MediaSource {
    /// Longest URL or path accepted.
    pub const MAX_LEN: usize = 2048;

    /// Checks a source at the edge, before anything is enqueued: an http(s) URL, or a relative
    /// path without `..`. The worker checks again where it matters (media root, SSRF guard).
    ///
    /// # Errors
    /// Says what is wrong, for the client.
    pub fn validate(&self) -> Result<(), String> {
        let (kind, text) = match self {
            Self::Url(url) => ("url", url),
            Self::Path(path) => ("path", path),
        };
        if text.is_empty() || text.len() > Self::MAX_LEN {
            return Err(format!(
                "source.{kind} must be 1-{} characters",
                Self::MAX_LEN
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(format!("source.{kind} contains control characters"));
        }
        match self {
            Self::Url(url) => {
                let lower = url.to_ascii_lowercase();
                if !(lower.starts_with("http://") || lower.starts_with("https://")) {
                    return Err("source.url must be an http:// or https:// URL".to_owned());
                }
                if url.chars().any(char::is_whitespace) {
                    return Err("source.url contains whitespace".to_owned());
                }
            }
            Self::Path(path) => {
                if path.starts_with('/') || path.starts_with('\\') {
                    return Err("source.path must be relative to the media root".to_owned());
                }
                if path.split(['/', '\\']).any(|part| part == "..") {
                    return Err("source.path must not contain '..'".to_owned());
                }
            }
        }
        Ok(())
    }
}

/// The kind of a job: a photo or a video. Everything that differs between the two on the wire
/// (the queue, the media id's field, the list of a batch, the stages) is named here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    Photo,
    Video,
}

impl JobKind {
    /// Both kinds, photo first.
    pub const ALL: [JobKind; 2] = [JobKind::Photo, JobKind::Video];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Photo => "photo",
            Self::Video => "video",
        }
    }

    /// The queue the jobs of this kind go to, without the key prefix: `photo-processing`,
    /// `video-processing`.
    pub fn queue_name(self) -> &'static str {
        match self {
            Self::Photo => "photo-processing",
            Self::Video => "video-processing",
        }
    }

    /// The field that holds the media id in payloads and messages: `photoId`, `videoId`.
    pub fn id_field(self) -> &'static str {
        match self {
            Self::Photo => "photoId",
            Self::Video => "videoId",
        }
    }

    /// The list field of a batch enqueue body: `photos`, `videos`.
    pub fn list_field(self) -> &'static str {
        match self {
            Self::Photo => "photos",
            Self::Video => "videos",
        }
    }

    /// The stages a job of this kind goes through, in order.
    pub fn stages(self) -> &'static [Stage] {
        match self {
            Self::Photo => &Stage::PHOTO,
            Self::Video => &Stage::VIDEO,
        }
    }

    /// The progress (0–100) at which each of [`Self::stages`] starts, in the same order. A
    /// photo's three stages weigh the same; a video's time goes to `detection` (every sampled
    /// frame through the engine), so `probe` and the start of `frames` get a sliver, and
    /// `ocr` (merging the reads, storing thumbnails) and `color` the last few points.
    fn stage_starts(self) -> &'static [u8] {
        match self {
            Self::Photo => &[0, 33, 67],
            Self::Video => &[0, 2, 3, 96, 98],
        }
    }

    /// The progress (0–100) a job reports as it enters `stage` (a photo: detection 0, ocr 33,
    /// color 67). `None` for a stage this kind does not have.
    pub fn stage_progress(self, stage: Stage) -> Option<u8> {
        let index = self.stages().iter().position(|s| *s == stage)?;
        self.stage_starts().get(index).copied()
    }

    /// The progress of a job `done` of `total` steps into `stage` (a video's frames): from the
    /// stage's start up to one point below where the next stage starts (100 after the last),
    /// so it never claims the next stage. `None` for a stage this kind does not have.
    pub fn progress_within(self, stage: Stage, done: u64, total: u64) -> Option<u8> {
        let index = self.stages().iter().position(|s| *s == stage)?;
        let starts = self.stage_starts();
        let start = u64::from(*starts.get(index)?);
        let next = starts.get(index + 1).map_or(100, |n| u64::from(*n));
        let span = next.saturating_sub(start + 1);
        let within = span * done.min(total) / total.max(1);
        u8::try_from(start + within).ok()
    }
}

/// The life cycle of a job, as `GET /v1/jobs/{jobId}` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobState {
    /// Parses the state as stored in Redis.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Queued,
            Self::Running,
            Self::Succeeded,
            Self::Failed,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether the job has ended; an ended job is never counted or reported again.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

/// A stage of the recognition pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Probe,
    Frames,
    Detection,
    Ocr,
    Color,
}

impl Stage {
    /// Parses a stage as stored in Redis.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Probe,
            Self::Frames,
            Self::Detection,
            Self::Ocr,
            Self::Color,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// The stages of a photo job, in order.
    pub const PHOTO: [Stage; 3] = [Stage::Detection, Stage::Ocr, Stage::Color];

    /// The stages of a video job, in order: `detection` runs over the sampled frames as they
    /// stream, `ocr` merges their reads, `color` gives each bib the colours of its best frame.
    pub const VIDEO: [Stage; 5] = [
        Stage::Probe,
        Stage::Frames,
        Stage::Detection,
        Stage::Ocr,
        Stage::Color,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Probe => "probe",
            Self::Frames => "frames",
            Self::Detection => "detection",
            Self::Ocr => "ocr",
            Self::Color => "color",
        }
    }
}

/// A photo or video job: what the producer enqueues on the queue of its kind and the worker
/// consumes.
///
/// On the wire the media id is `photoId` or `videoId` (PROTOCOL.md), and that field is what
/// tells the kind: `{ jobId, eventId, photoId | videoId, requestId, source }`. The names live
/// only in this type's serde impls.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "MediaJobFields")]
pub struct MediaJob {
    pub kind: JobKind,
    pub job_id: JobId,
    pub event_id: EventId,
    /// The photo's or video's id, unique within its event.
    pub media_id: MediaId,
    pub request_id: RequestId,
    pub source: MediaSource,
}

impl Serialize for MediaJob {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut fields = serializer.serialize_struct("MediaJob", 5)?;
        fields.serialize_field("jobId", &self.job_id)?;
        fields.serialize_field("eventId", &self.event_id)?;
        fields.serialize_field(self.kind.id_field(), &self.media_id)?;
        fields.serialize_field("requestId", &self.request_id)?;
        fields.serialize_field("source", &self.source)?;
        fields.end()
    }
}

/// A job payload as it is read, before the media id's field has told its kind.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MediaJobFields {
    job_id: JobId,
    event_id: EventId,
    photo_id: Option<MediaId>,
    video_id: Option<MediaId>,
    request_id: RequestId,
    source: MediaSource,
}

impl TryFrom<MediaJobFields> for MediaJob {
    type Error = &'static str;

    fn try_from(fields: MediaJobFields) -> Result<Self, Self::Error> {
        let (kind, media_id) = match (fields.photo_id, fields.video_id) {
            (Some(id), None) => (JobKind::Photo, id),
            (None, Some(id)) => (JobKind::Video, id),
            (None, None) => return Err("missing field `photoId` or `videoId`"),
            (Some(_), Some(_)) => return Err("a job has `photoId` or `videoId`, not both"),
        };
        Ok(Self {
            kind,
            job_id: fields.job_id,
            event_id: fields.event_id,
            media_id,
            request_id: fields.request_id,
            source: fields.source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_video_job_is_told_by_its_video_id_and_keeps_the_wire_shape() {
        let json = r#"{"jobId":"01J","eventId":"evt_1","videoId":"v1","requestId":"req_1","source":{"path":"v1.mp4"}}"#;
        let job: MediaJob = serde_json::from_str(json).unwrap();
        assert_eq!(job.kind, JobKind::Video);
        assert_eq!(job.media_id.as_str(), "v1");
        assert_eq!(serde_json::to_string(&job).unwrap(), json);
    }

    #[test]
    fn a_job_has_exactly_one_media_id_field() {
        for bad in [
            r#"{"jobId":"01J","eventId":"e","requestId":"r","source":{"path":"a"}}"#,
            r#"{"jobId":"01J","eventId":"e","photoId":"p","videoId":"v","requestId":"r","source":{"path":"a"}}"#,
        ] {
            assert!(serde_json::from_str::<MediaJob>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn each_kind_names_its_queue_fields_and_stages() {
        assert_eq!(JobKind::Photo.queue_name(), "photo-processing");
        assert_eq!(JobKind::Video.queue_name(), "video-processing");
        assert_eq!(
            JobKind::Photo.stages(),
            [Stage::Detection, Stage::Ocr, Stage::Color]
        );
        // PROTOCOL.md's order, stage for stage.
        let video: Vec<&str> = JobKind::Video.stages().iter().map(|s| s.as_str()).collect();
        assert_eq!(video, ["probe", "frames", "detection", "ocr", "color"]);
        let photo: Vec<Option<u8>> = [Stage::Detection, Stage::Ocr, Stage::Color, Stage::Probe]
            .into_iter()
            .map(|stage| JobKind::Photo.stage_progress(stage))
            .collect();
        assert_eq!(photo, [Some(0), Some(33), Some(67), None]);
        assert_eq!(JobKind::Video.stage_progress(Stage::Color), Some(98));
        for kind in JobKind::ALL {
            let starts: Vec<u8> = kind
                .stages()
                .iter()
                .map(|stage| kind.stage_progress(*stage).expect("a start per stage"))
                .collect();
            assert_eq!(starts.len(), kind.stages().len(), "{kind:?}");
            assert!(
                starts.windows(2).all(|w| w[0] < w[1]),
                "{kind:?}: {starts:?}"
            );
        }
        for kind in JobKind::ALL {
            for stage in kind.stages() {
                assert_eq!(Stage::parse(stage.as_str()), Some(*stage));
            }
        }
    }

    #[test]
    fn progress_within_a_stage_rises_with_the_work_and_stops_below_the_next_stage() {
        let video = JobKind::Video;
        assert_eq!(video.progress_within(Stage::Detection, 0, 40), Some(3));
        assert_eq!(video.progress_within(Stage::Detection, 20, 40), Some(49));
        assert_eq!(video.progress_within(Stage::Detection, 40, 40), Some(95));
        assert_eq!(video.progress_within(Stage::Detection, 99, 40), Some(95));
        assert_eq!(video.progress_within(Stage::Detection, 1, 0), Some(3));
        assert_eq!(video.progress_within(Stage::Ocr, 1, 1), Some(97));
        assert_eq!(video.progress_within(Stage::Color, 1, 1), Some(99));
        assert_eq!(JobKind::Photo.progress_within(Stage::Probe, 1, 1), None);
    }

    #[test]
    fn a_media_source_has_the_protocol_shape() {
        let url: MediaSource = serde_json::from_str(r#"{"url":"https://x/y.jpg"}"#).unwrap();
        assert_eq!(url, MediaSource::Url("https://x/y.jpg".into()));
        let path: MediaSource = serde_json::from_str(r#"{"path":"a/b.jpg"}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&path).unwrap(),
            r#"{"path":"a/b.jpg"}"#
        );
        assert!(serde_json::from_str::<MediaSource>(r#"{"file":"x"}"#).is_err());
        assert!(serde_json::from_str::<MediaSource>(r#"{"url":1}"#).is_err());
    }

    #[test]
    fn sources_are_checked_at_the_edge() {
        for ok in [
            MediaSource::Url("https://x.org/a.jpg".into()),
            MediaSource::Path("a/b.jpg".into()),
        ] {
            assert!(ok.validate().is_ok(), "{ok:?}");
        }
        for bad in [
            MediaSource::Url("ftp://x/a.jpg".into()),
            MediaSource::Url("javascript:alert(1)".into()),
            MediaSource::Url("http://x/a b".into()),
            MediaSource::Path("../etc/passwd".into()),
            MediaSource::Path("/etc/passwd".into()),
            MediaSource::Path("a/../../b".into()),
            MediaSource::Path("a\u{0}b".into()),
            MediaSource::Path(String::new()),
            MediaSource::Path("x".repeat(3000)),
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_photo_job_is_camel_case_and_validates_its_ids() {
        let json = r#"{"jobId":"01J","eventId":"evt_1","photoId":"p1","requestId":"req_1","source":{"path":"p1.jpg"}}"#;
        let job: MediaJob = serde_json::from_str(json).unwrap();
        assert_eq!(job.kind, JobKind::Photo);
        assert_eq!(job.media_id.as_str(), "p1");
        assert_eq!(serde_json::to_string(&job).unwrap(), json);
        let bad = json.replace("evt_1", "evt 1");
        assert!(serde_json::from_str::<MediaJob>(&bad).is_err());
    }
}

/// The answer of `GET /v1/jobs/{jobId}` and the `status` of a `subscribe:job` ack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStatus {
    pub job_id: String,
    pub kind: JobKind,
    pub event_id: String,
    /// The photo's or video's id.
    pub media_id: String,
    pub request_id: String,
    pub state: JobState,
    /// Who owns the job (the `sub` of the token that enqueued it), if anyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The stage last reported, if any.
    pub stage: Option<Stage>,
    pub progress: u8,
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The job's last 100 messages, oldest first, as `{ type, data }`.
    pub history: Vec<serde_json::Value>,
}
