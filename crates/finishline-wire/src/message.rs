//! Progress messages: the payloads of PROTOCOL.md's server → client events.
//!
//! Messages are built once, as JSON, by the worker, stamped with `seq` by the progress bus in
//! Redis, and relayed unchanged by every gateway. The structs here are the typed view of their
//! bodies; the common fields (`eventId`, `requestId`, `seq`, `ts`) are added by the bus.

use serde::{Deserialize, Serialize};

use crate::JobKind;

/// The Socket.IO event names of server → client messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MessageName {
    #[serde(rename = "photo:progress")]
    PhotoProgress,
    #[serde(rename = "photo:completed")]
    PhotoCompleted,
    #[serde(rename = "photo:failed")]
    PhotoFailed,
    #[serde(rename = "photo:cancelled")]
    PhotoCancelled,
    #[serde(rename = "video:progress")]
    VideoProgress,
    #[serde(rename = "video:completed")]
    VideoCompleted,
    #[serde(rename = "video:failed")]
    VideoFailed,
    #[serde(rename = "video:cancelled")]
    VideoCancelled,
    #[serde(rename = "event:progress")]
    EventProgress,
    #[serde(rename = "event:completed")]
    EventCompleted,
    /// A job entered its queue (with its `position` there).
    #[serde(rename = "job:queued")]
    JobQueued,
    /// A run of a job began (with its `attempt`, 1-based).
    #[serde(rename = "job:started")]
    JobStarted,
}

impl MessageName {
    pub const ALL: [MessageName; 12] = [
        Self::PhotoProgress,
        Self::PhotoCompleted,
        Self::PhotoFailed,
        Self::PhotoCancelled,
        Self::VideoProgress,
        Self::VideoCompleted,
        Self::VideoFailed,
        Self::VideoCancelled,
        Self::EventProgress,
        Self::EventCompleted,
        Self::JobQueued,
        Self::JobStarted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PhotoProgress => "photo:progress",
            Self::PhotoCompleted => "photo:completed",
            Self::PhotoFailed => "photo:failed",
            Self::PhotoCancelled => "photo:cancelled",
            Self::VideoProgress => "video:progress",
            Self::VideoCompleted => "video:completed",
            Self::VideoFailed => "video:failed",
            Self::VideoCancelled => "video:cancelled",
            Self::EventProgress => "event:progress",
            Self::EventCompleted => "event:completed",
            Self::JobQueued => "job:queued",
            Self::JobStarted => "job:started",
        }
    }

    /// `photo:progress` or `video:progress`.
    pub fn progress(kind: JobKind) -> Self {
        match kind {
            JobKind::Photo => Self::PhotoProgress,
            JobKind::Video => Self::VideoProgress,
        }
    }

    /// `photo:completed` or `video:completed`.
    pub fn completed(kind: JobKind) -> Self {
        match kind {
            JobKind::Photo => Self::PhotoCompleted,
            JobKind::Video => Self::VideoCompleted,
        }
    }

    /// `photo:failed` or `video:failed`.
    pub fn failed(kind: JobKind) -> Self {
        match kind {
            JobKind::Photo => Self::PhotoFailed,
            JobKind::Video => Self::VideoFailed,
        }
    }

    /// Parses an event name as it is stored in the progress stream.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.as_str() == name)
    }

    /// Messages that end a job (or an event's run): never conflated or dropped.
    pub fn is_terminal(self) -> bool {
        !matches!(
            self,
            Self::PhotoProgress
                | Self::VideoProgress
                | Self::EventProgress
                | Self::JobQueued
                | Self::JobStarted
        )
    }

    /// Whether the message ends a job: completed, failed or cancelled.
    pub fn ends_job(self) -> bool {
        matches!(
            self,
            Self::PhotoCompleted
                | Self::PhotoFailed
                | Self::PhotoCancelled
                | Self::VideoCompleted
                | Self::VideoFailed
                | Self::VideoCancelled
        )
    }
}

/// An axis-aligned box in pixels of the (orientation-corrected) photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundingBox {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// One bib read in a photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plate {
    /// The bib number as read (digits only; PROTOCOL.md makes it a JSON number).
    pub number: u64,
    /// Calibrated confidence, 0–1.
    pub confidence: f32,
    #[serde(rename = "box")]
    pub bounding_box: BoundingBox,
    /// The bib's dominant colour, `#rrggbb`, when the colour stage named it (an extra field:
    /// clients that do not know it ignore it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bib_color: Option<String>,
    /// The dominant colour of the shirt around the bib, `#rrggbb`, when named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shirt_color: Option<String>,
    /// `bibColor` by name, from PROTOCOL.md's fixed list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bib_color_name: Option<ColorName>,
    /// `shirtColor` by name, from PROTOCOL.md's fixed list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shirt_color_name: Option<ColorName>,
    /// The number as read, when the event's start list corrected it to `number` (a near miss
    /// with exactly one listed number within one digit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrected_from: Option<u64>,
}

impl Plate {
    /// A plate with no colours yet and no correction.
    pub fn new(number: u64, confidence: f32, bounding_box: BoundingBox) -> Self {
        Self {
            number,
            confidence,
            bounding_box,
            bib_color: None,
            shirt_color: None,
            bib_color_name: None,
            shirt_color_name: None,
            corrected_from: None,
        }
    }
}

/// The colour names a plate's `bibColorName` / `shirtColorName` take (PROTOCOL.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorName {
    White,
    Black,
    Grey,
    Red,
    Orange,
    Yellow,
    Green,
    Blue,
    Purple,
    Pink,
    Brown,
}

impl ColorName {
    /// Every name, in PROTOCOL.md's order.
    pub const ALL: [ColorName; 11] = [
        Self::White,
        Self::Black,
        Self::Grey,
        Self::Red,
        Self::Orange,
        Self::Yellow,
        Self::Green,
        Self::Blue,
        Self::Purple,
        Self::Pink,
        Self::Brown,
    ];

    /// The name as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::White => "white",
            Self::Black => "black",
            Self::Grey => "grey",
            Self::Red => "red",
            Self::Orange => "orange",
            Self::Yellow => "yellow",
            Self::Green => "green",
            Self::Blue => "blue",
            Self::Purple => "purple",
            Self::Pink => "pink",
            Self::Brown => "brown",
        }
    }
}

impl std::fmt::Display for ColorName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ColorName {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|name| name.as_str() == value)
            .ok_or_else(|| format!("unknown colour name `{value}`"))
    }
}

/// One dominant colour and the share of the pixels it covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColorShare {
    /// `#rrggbb`, lower case.
    pub hex: String,
    /// Share of the sampled pixels, 0–1.
    pub share: f32,
}

/// The counters of one event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventCounts {
    pub total_photos: u64,
    pub processed_photos: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub total_videos: u64,
    pub processed_videos: u64,
}

/// The answer of `GET /v1/events/{eventId}` and the `snapshot` of a `subscribe:event` ack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventSnapshot {
    pub event_id: String,
    #[serde(flatten)]
    pub counts: EventCounts,
    pub last_seq: u64,
}

/// The current time as RFC 3339 in UTC with milliseconds, the `ts` of every message.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{VideoCompletedBody, VideoPlate};

    #[test]
    fn message_names_round_trip() {
        for name in MessageName::ALL {
            assert_eq!(MessageName::parse(name.as_str()), Some(name));
            let json = serde_json::to_string(&name).unwrap();
            assert_eq!(json, format!("\"{}\"", name.as_str()));
        }
        assert_eq!(MessageName::parse("photo:unknown"), None);
    }

    #[test]
    fn a_snapshot_is_flat_and_camel_case() {
        let snap = EventSnapshot {
            event_id: "e".into(),
            counts: EventCounts {
                total_photos: 2,
                ..Default::default()
            },
            last_seq: 7,
        };
        let v = serde_json::to_value(&snap).unwrap();
        assert_eq!(v["totalPhotos"], 2);
        assert_eq!(v["lastSeq"], 7);
        assert_eq!(v["processedVideos"], 0);
    }

    #[test]
    fn a_video_plate_says_when_it_was_seen() {
        let plate = VideoPlate {
            number: 1234,
            confidence: 0.5,
            first_seen_ms: 500,
            last_seen_ms: 1500,
            ..VideoPlate::default()
        };
        let v = serde_json::to_value(&plate).unwrap();
        assert_eq!(v["firstSeenMs"], 500);
        assert_eq!(v["lastSeenMs"], 1500);
        assert!(v.get("correctedFrom").is_none(), "{v}");
        assert!(v.get("thumbnail").is_none(), "absent unless stored: {v}");
        let body = serde_json::to_value(VideoCompletedBody {
            video_id: "v1",
            job_id: "j1",
            plates: &[plate],
            duration_ms: 4000,
        })
        .unwrap();
        assert_eq!(body["videoId"], "v1");
        assert_eq!(body["durationMs"], 4000);
        assert_eq!(body["plates"][0]["number"], 1234);
    }

    #[test]
    fn a_plate_has_a_box_field() {
        let p = Plate {
            shirt_color: Some("#ff0000".to_owned()),
            shirt_color_name: Some(ColorName::Red),
            ..Plate::new(
                42,
                0.9,
                BoundingBox {
                    x: 1,
                    y: 2,
                    w: 3,
                    h: 4,
                },
            )
        };
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["box"]["w"], 3);
        assert_eq!(v["number"], 42);
        assert!(
            v.get("bibColor").is_none(),
            "absent colours are left out: {v}"
        );
        assert_eq!(v["shirtColor"], "#ff0000");
        assert_eq!(v["shirtColorName"], "red");
        assert!(v.get("correctedFrom").is_none(), "{v}");
    }
}
