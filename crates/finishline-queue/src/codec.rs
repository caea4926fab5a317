//! Decoding a task's payload without ever failing the worker on a bad one.
//!
//! A payload that is not a valid job (a "poison" job) becomes a [`Delivery::Poison`] that the
//! handler fails cleanly and settles, instead of an error of the worker itself.

use finishline_wire::{JobId, MediaJob};
use serde::de::DeserializeOwned;

/// A delivered task: a job (a [`MediaJob`]), or bytes that are not one.
#[derive(Debug, Clone)]
pub enum Delivery<J = MediaJob> {
    Job(J),
    Poison {
        /// The job id, when the bytes were JSON with a valid `jobId`.
        job_id: Option<JobId>,
        error: String,
    },
}

/// Decodes a task's JSON payload as a job of type `J`, or as poison; never fails.
pub fn decode_delivery<J: DeserializeOwned>(bytes: &[u8]) -> Delivery<J> {
    match serde_json::from_slice::<J>(bytes) {
        Ok(job) => Delivery::Job(job),
        Err(err) => Delivery::Poison {
            job_id: serde_json::from_slice::<serde_json::Value>(bytes)
                .ok()
                .and_then(|v| v.get("jobId")?.as_str().map(str::to_owned))
                .and_then(|id| JobId::parse(id).ok()),
            error: format!("invalid job payload: {err}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use finishline_wire::JobKind;

    fn decode(bytes: &[u8]) -> Delivery<MediaJob> {
        decode_delivery(bytes)
    }

    #[test]
    fn a_video_payload_decodes_as_a_video_job_and_one_without_a_media_id_does_not() {
        let video = br#"{"jobId":"01J","eventId":"e","videoId":"v","requestId":"r","source":{"path":"v.mp4"}}"#;
        assert!(matches!(
            decode(video),
            Delivery::Job(job) if job.kind == JobKind::Video && job.media_id.as_str() == "v"
        ));
        let neither = br#"{"jobId":"01J","eventId":"e","requestId":"r","source":{"path":"p.jpg"}}"#;
        assert!(matches!(
            decode(neither),
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
            Delivery::Poison { job_id: None, .. }
        ));
        let partial = br#"{"jobId":"01ABC","eventId":42}"#;
        match decode(partial) {
            Delivery::Poison {
                job_id: Some(id),
                error,
            } => {
                assert_eq!(id.as_str(), "01ABC");
                assert!(error.contains("invalid job payload"));
            }
            other => panic!("{other:?}"),
        }
        let good = br#"{"jobId":"01J","eventId":"e","photoId":"p","requestId":"r","source":{"path":"p.jpg"}}"#;
        assert!(matches!(decode(good), Delivery::Job(_)));
    }
}
