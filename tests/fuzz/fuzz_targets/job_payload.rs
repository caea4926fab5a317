//! Job payloads as a worker reads them from Redis: decoding arbitrary bytes must never panic,
//! and a decoded job's ids and source must be valid.
#![no_main]

use finishline_wire::{MediaJob, validate_id};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(job) = serde_json::from_slice::<MediaJob>(data) {
        assert!(validate_id("eventId", job.event_id.as_str()).is_ok());
        assert!(validate_id(job.kind.id_field(), job.media_id.as_str()).is_ok());
        let _ = job.source.validate();
        let again = serde_json::to_vec(&job).expect("a decoded job encodes");
        let back: MediaJob = serde_json::from_slice(&again).expect("and decodes again");
        assert_eq!(back, job);
    }
});
