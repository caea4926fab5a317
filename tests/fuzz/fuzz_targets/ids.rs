//! Ids from clients: validation never panics and accepts exactly the protocol's alphabet.
#![no_main]

use finishline_wire::{EventId, validate_id};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let ok = validate_id("eventId", text).is_ok();
        let expected = !text.is_empty()
            && text.chars().count() <= 128
            && text.chars().all(|c| c.is_ascii_alphanumeric() || ".:_-".contains(c));
        assert_eq!(ok, expected);
        assert_eq!(EventId::parse(text).is_ok(), ok);
    }
});
