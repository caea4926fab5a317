//! The bodies of the job messages (`photo:*`, `video:*`) as the worker builds them; the bus
//! adds the common fields (`eventId`, `requestId`, `seq`, `ts`). A photo's and a video's
//! progress and failure share one body each: they differ by the media id's field only.

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use crate::{ColorName, ColorShare, JobKind, MediaJob, MessageName, Plate, Stage};

/// Whose message a body is: the media id under its kind's field (`photoId` or `videoId`,
/// [`JobKind::id_field`]), then `jobId`. The bodies of both kinds flatten it first, so a photo
/// and a video message differ by that field's name only, as in PROTOCOL.md.
#[derive(Debug, Clone, Copy)]
pub struct MediaRef<'a> {
    pub kind: JobKind,
    pub media_id: &'a str,
    pub job_id: &'a str,
}

impl<'a> MediaRef<'a> {
    /// The job's media and job ids.
    pub fn of(job: &'a MediaJob) -> Self {
        Self {
            kind: job.kind,
            media_id: job.media_id.as_str(),
            job_id: job.job_id.as_str(),
        }
    }
}

impl Serialize for MediaRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry(self.kind.id_field(), self.media_id)?;
        map.serialize_entry("jobId", self.job_id)?;
        map.end()
    }
}

/// Body of `photo:progress` and `video:progress` (the bus adds the common fields).
#[derive(Debug, Clone, Serialize)]
pub struct ProgressBody<'a> {
    #[serde(flatten)]
    pub media: MediaRef<'a>,
    pub progress: u8,
    pub stage: Stage,
}

impl ProgressBody<'_> {
    /// `photo:progress` or `video:progress`, by the media's kind.
    pub fn name(&self) -> MessageName {
        MessageName::progress(self.media.kind)
    }
}

/// Body of `photo:completed`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhotoCompletedBody<'a> {
    pub photo_id: &'a str,
    pub job_id: &'a str,
    /// The best plate's number, or null when no bib was read.
    pub plate_number: Option<u64>,
    /// The best plate's confidence; 0 when no bib was read.
    pub confidence: f32,
    pub plates: &'a [Plate],
    pub colors: &'a [ColorShare],
    /// Where the gateway serves the photo's thumbnail (`/v1/jobs/{jobId}/thumbnail`), when
    /// the worker stored one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<&'a str>,
    /// The photo's size in pixels, the frame of the plates' boxes (a client scales them
    /// to the thumbnail with it); absent when the photo was not decoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_size: Option<ImageSize>,
}

/// A picture's width and height in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ImageSize {
    pub width: u32,
    pub height: u32,
}

/// Body of `photo:failed` and `video:failed`, sent once, when no retry is left.
#[derive(Debug, Clone, Serialize)]
pub struct FailedBody<'a> {
    #[serde(flatten)]
    pub media: MediaRef<'a>,
    pub error: &'a str,
    pub code: &'a str,
    pub attempts: u32,
}

impl FailedBody<'_> {
    /// `photo:failed` or `video:failed`, by the media's kind.
    pub fn name(&self) -> MessageName {
        MessageName::failed(self.media.kind)
    }
}

/// One bib seen in a video: the number, how sure the reads were, when it was on screen, and
/// its colours in the frame where it was read best.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoPlate {
    pub number: u64,
    /// Calibrated confidence, 0–1.
    pub confidence: f32,
    /// Time of the first sampled frame where the number was read, from the video's start.
    pub first_seen_ms: u64,
    /// Time of the last sampled frame where the number was read.
    pub last_seen_ms: u64,
    /// The number as read, when the event's start list corrected it to `number`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrected_from: Option<u64>,
    /// Where the gateway serves the thumbnail of the frame where the number was read with the
    /// highest confidence (`/v1/jobs/{jobId}/thumbnails/{number}`), when the worker stored one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
    /// The bib's colour, `#rrggbb`, and the shirt's around it, in the frame where the number
    /// was read with the highest confidence (as [`Plate::bib_color`] for a photo), when named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bib_color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shirt_color: Option<String>,
    /// `bibColor` and `shirtColor` by name, from PROTOCOL.md's fixed list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bib_color_name: Option<ColorName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shirt_color_name: Option<ColorName>,
}

impl VideoPlate {
    /// Takes the colours of `read`, the number's best read in a frame.
    pub fn paint(&mut self, read: &Plate) {
        self.bib_color.clone_from(&read.bib_color);
        self.shirt_color.clone_from(&read.shirt_color);
        self.bib_color_name = read.bib_color_name;
        self.shirt_color_name = read.shirt_color_name;
    }
}

/// Body of `video:completed`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoCompletedBody<'a> {
    pub video_id: &'a str,
    pub job_id: &'a str,
    pub plates: &'a [VideoPlate],
    pub duration_ms: u64,
}
