//! Enqueue bodies and client messages as the gateway parses them: arbitrary JSON into the
//! wire types never panics, and what parses validates without panicking.
#![no_main]

use finishline_wire::{MediaId, MediaSource};
use libfuzzer_sys::fuzz_target;

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Item {
    #[serde(rename = "photoId")]
    photo_id: MediaId,
    source: MediaSource,
}

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(item) = serde_json::from_value::<Item>(value.clone()) {
            let _ = item.source.validate();
        }
        let _ = serde_json::from_value::<Vec<Item>>(value);
    }
});
