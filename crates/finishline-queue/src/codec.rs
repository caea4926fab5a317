//! A codec that never fails the worker on a bad payload.
//!
//! apalis-redis decodes each task's bytes before the handler sees them; with the stock JSON
//! codec a payload that is not a valid job (a "poison" job) is an error of the worker itself.
//! This codec turns it into a [`Delivery::Poison`] that the handler fails cleanly and acks.

use apalis::prelude::Codec;
use finishline_wire::{JobId, PhotoJob};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A delivered task: a job (a [`PhotoJob`] or a `VideoJob`), or bytes that are not one.
#[derive(Debug, Clone)]
pub enum Delivery<J = PhotoJob> {
    Job(J),
    Poison {
        /// The job id, when the bytes were JSON with a valid `jobId`.
        job_id: Option<JobId>,
        error: String,
    },
}

/// JSON codec of [`Delivery`]; decoding never fails.
#[derive(Debug, Clone, Copy, Default)]
pub struct LenientJson;

impl<J: Serialize + DeserializeOwned> Codec<Delivery<J>> for LenientJson {
    type Error = serde_json::Error;
    type Compact = Vec<u8>;

    fn encode(&self, delivery: &Delivery<J>) -> Result<Vec<u8>, serde_json::Error> {
        match delivery {
            Delivery::Job(job) => serde_json::to_vec(job),
            Delivery::Poison { .. } => Ok(b"null".to_vec()),
        }
    }

    fn decode(&self, bytes: &Vec<u8>) -> Result<Delivery<J>, serde_json::Error> {
        Ok(match serde_json::from_slice::<J>(bytes) {
            Ok(job) => Delivery::Job(job),
            Err(err) => Delivery::Poison {
                job_id: serde_json::from_slice::<serde_json::Value>(bytes)
                    .ok()
                    .and_then(|v| v.get("jobId")?.as_str().map(str::to_owned))
                    .and_then(|id| JobId::parse(id).ok()),
                error: format!("invalid job payload: {err}"),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use finishline_wire::VideoJob;

    fn decode(bytes: &[u8]) -> Result<Delivery<PhotoJob>, serde_json::Error> {
        LenientJson.decode(&bytes.to_vec())
    }

    #[test]
    fn a_video_payload_decodes_as_a_video_job_and_a_photo_payload_does_not() {
        let video = br#"{"jobId":"01J","eventId":"e","videoId":"v","requestId":"r","source":{"path":"v.mp4"}}"#.to_vec();
        let decoded: Delivery<VideoJob> = LenientJson.decode(&video).unwrap();
        assert!(matches!(decoded, Delivery::Job(job) if job.video_id.as_str() == "v"));
        let photo = br#"{"jobId":"01J","eventId":"e","photoId":"p","requestId":"r","source":{"path":"p.jpg"}}"#.to_vec();
        let decoded: Delivery<VideoJob> = LenientJson.decode(&photo).unwrap();
        assert!(matches!(
            decoded,
            Delivery::Poison {
                job_id: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn garbage_decodes_as_poison_and_keeps_the_job_id_when_it_can() {
        assert!(matches!(
            decode(b"\xff\x00 not json"),
            Ok(Delivery::Poison { job_id: None, .. })
        ));
        let partial = br#"{"jobId":"01ABC","eventId":42}"#;
        match decode(partial) {
            Ok(Delivery::Poison {
                job_id: Some(id),
                error,
            }) => {
                assert_eq!(id.as_str(), "01ABC");
                assert!(error.contains("invalid job payload"));
            }
            other => panic!("{other:?}"),
        }
        let good = br#"{"jobId":"01J","eventId":"e","photoId":"p","requestId":"r","source":{"path":"p.jpg"}}"#;
        assert!(matches!(decode(good), Ok(Delivery::Job(_))));
    }
}
