//! The bib index of an event as clients read it (`GET /v1/events/{eventId}/bibs/{number}`
//! and `GET /v1/events/{eventId}/bibs?prefix=…`): which photos and videos show a number.
//! The bus stores each sighting in these shapes, so what the worker indexed is what a
//! client reads.

use serde::{Deserialize, Serialize};

use crate::{BoundingBox, Plate, VideoPlate};

/// A photo that shows a bib: the read's confidence and where the bib is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BibPhoto {
    pub photo_id: String,
    pub job_id: String,
    pub confidence: f32,
    #[serde(rename = "box")]
    pub bounding_box: BoundingBox,
}

/// A video that shows a bib, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BibVideo {
    pub video_id: String,
    pub job_id: String,
    pub first_seen_ms: u64,
    pub last_seen_ms: u64,
    pub confidence: f32,
    /// The thumbnail of the number's best frame, as in `video:completed`, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
}

/// How many photos and videos of an event show a number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BibCounts {
    pub photos: u64,
    pub videos: u64,
}

/// One page of the sightings of a number, oldest first (in the order their jobs ended).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BibPage {
    pub number: u64,
    pub photos: Vec<BibPhoto>,
    pub videos: Vec<BibVideo>,
    /// Every sighting of the number in the event, not only this page's.
    pub counts: BibCounts,
    /// Pass as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A number of the event with its counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BibNumber {
    pub number: u64,
    pub photos: u64,
    pub videos: u64,
}

/// The numbers of an event that start with a prefix, in text order ("12" < "120" < "13").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BibNumbers {
    pub prefix: String,
    pub numbers: Vec<BibNumber>,
    /// Pass as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// The sightings a completed photo adds to the index: one per number, the best read of it
/// (an engine may read the same bib twice on one photo).
pub fn photo_sightings(photo_id: &str, job_id: &str, plates: &[Plate]) -> Vec<(u64, BibPhoto)> {
    let mut out: Vec<(u64, BibPhoto)> = Vec::with_capacity(plates.len());
    for plate in plates {
        let sighting = BibPhoto {
            photo_id: photo_id.to_owned(),
            job_id: job_id.to_owned(),
            confidence: plate.confidence,
            bounding_box: plate.bounding_box,
        };
        match out.iter_mut().find(|(number, _)| *number == plate.number) {
            Some((_, kept)) if kept.confidence >= plate.confidence => {}
            Some((_, kept)) => *kept = sighting,
            None => out.push((plate.number, sighting)),
        }
    }
    out
}

/// The sightings a completed video adds to the index: one per number (a video's plates are
/// already merged per number; a repeat keeps the widest time span, and the best confidence
/// with its thumbnail).
pub fn video_sightings(
    video_id: &str,
    job_id: &str,
    plates: &[VideoPlate],
) -> Vec<(u64, BibVideo)> {
    let mut out: Vec<(u64, BibVideo)> = Vec::with_capacity(plates.len());
    for plate in plates {
        match out.iter_mut().find(|(number, _)| *number == plate.number) {
            Some((_, kept)) => {
                kept.first_seen_ms = kept.first_seen_ms.min(plate.first_seen_ms);
                kept.last_seen_ms = kept.last_seen_ms.max(plate.last_seen_ms);
                if plate.confidence > kept.confidence {
                    kept.confidence = plate.confidence;
                    kept.thumbnail.clone_from(&plate.thumbnail);
                }
            }
            None => out.push((
                plate.number,
                BibVideo {
                    video_id: video_id.to_owned(),
                    job_id: job_id.to_owned(),
                    first_seen_ms: plate.first_seen_ms,
                    last_seen_ms: plate.last_seen_ms,
                    confidence: plate.confidence,
                    thumbnail: plate.thumbnail.clone(),
                },
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plate(number: u64, confidence: f32) -> Plate {
        Plate::new(
            number,
            confidence,
            BoundingBox {
                x: 1,
                y: 2,
                w: 3,
                h: 4,
            },
        )
    }

    #[test]
    fn a_photo_adds_one_sighting_per_number_with_its_best_read() {
        let plates = [
            plate(12, 0.5),
            plate(7, 0.9),
            plate(12, 0.8),
            plate(12, 0.6),
        ];
        let sightings = photo_sightings("p1", "j1", &plates);
        let seen: Vec<(u64, f32)> = sightings.iter().map(|(n, s)| (*n, s.confidence)).collect();
        assert_eq!(seen, [(12, 0.8), (7, 0.9)]);
        let json = serde_json::to_value(&sightings[0].1).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "photoId": "p1", "jobId": "j1", "confidence": 0.8f32,
                "box": { "x": 1, "y": 2, "w": 3, "h": 4 } })
        );
    }

    #[test]
    fn a_video_adds_one_sighting_per_number_spanning_its_reads() {
        let plates = [
            VideoPlate {
                number: 5,
                confidence: 0.7,
                first_seen_ms: 1000,
                last_seen_ms: 2000,
                thumbnail: Some("/v1/jobs/j2/thumbnails/5".into()),
                ..VideoPlate::default()
            },
            VideoPlate {
                number: 5,
                confidence: 0.9,
                first_seen_ms: 500,
                last_seen_ms: 1500,
                corrected_from: Some(6),
                thumbnail: Some("/v1/jobs/j2/thumbnails/6".into()),
                ..VideoPlate::default()
            },
        ];
        let sightings = video_sightings("v1", "j2", &plates);
        assert_eq!(sightings.len(), 1);
        let (number, video) = &sightings[0];
        assert_eq!(*number, 5);
        assert_eq!((video.first_seen_ms, video.last_seen_ms), (500, 2000));
        assert_eq!(video.confidence, 0.9);
        assert_eq!(
            video.thumbnail.as_deref(),
            Some("/v1/jobs/j2/thumbnails/6"),
            "the thumbnail of the best read"
        );
        let json = serde_json::to_value(video).unwrap();
        assert_eq!(json["thumbnail"], "/v1/jobs/j2/thumbnails/6");
    }
}
