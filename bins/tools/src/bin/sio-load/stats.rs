//! The counters and latency histograms of sio-load: every connection records its deliveries
//! here, and `report` turns them into one JSON line.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

/// Latency histogram: 10 µs buckets up to 5 s, then one overflow bucket.
const BUCKET_US: u64 = 10;
const BUCKETS: usize = 500_001;

/// Message names counted separately; anything else counts as `other`.
const NAMES: [&str; 7] = [
    "photo:progress",
    "photo:completed",
    "event:progress",
    "event:completed",
    "job:queued",
    "job:started",
    "other",
];

/// Counters shared by every connection.
pub(crate) struct Stats {
    pub(crate) connected: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) retried: AtomicU64,
    /// Retries by the stage their attempt had reached.
    pub(crate) retried_by_stage: std::sync::Mutex<std::collections::BTreeMap<&'static str, u64>>,
    /// Connected clients per event (index = event number), so expected deliveries are exact.
    pub(crate) per_event: Vec<AtomicU64>,
    pub(crate) closed: AtomicU64,
    pub(crate) deliveries: AtomicU64,
    pub(crate) by_name: [AtomicU64; NAMES.len()],
    pub(crate) first_us: AtomicU64,
    pub(crate) last_us: AtomicU64,
    /// One histogram per message name (index as in `NAMES`): the benchmark compares p99
    /// per name, since the two sides may send different mixes of names.
    pub(crate) latency: Vec<Vec<AtomicU64>>,
    pub(crate) latency_unparsed: AtomicU64,
    /// Deliveries in the histograms, so a report without latency skips reading them.
    pub(crate) latency_samples: AtomicU64,
}

pub(crate) fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

impl Stats {
    pub(crate) fn new(events: usize) -> Self {
        Self {
            per_event: (0..events).map(|_| AtomicU64::new(0)).collect(),
            connected: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            retried: AtomicU64::new(0),
            retried_by_stage: Default::default(),
            closed: AtomicU64::new(0),
            deliveries: AtomicU64::new(0),
            by_name: Default::default(),
            first_us: AtomicU64::new(u64::MAX),
            last_us: AtomicU64::new(0),
            latency: NAMES
                .iter()
                .map(|_| (0..BUCKETS).map(|_| AtomicU64::new(0)).collect())
                .collect(),
            latency_unparsed: AtomicU64::new(0),
            latency_samples: AtomicU64::new(0),
        }
    }

    pub(crate) fn retry_at(&self, stage: &'static str) {
        *self
            .retried_by_stage
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(stage)
            .or_default() += 1;
    }

    pub(crate) fn reset(&self) {
        self.deliveries.store(0, Ordering::Relaxed);
        self.by_name
            .iter()
            .for_each(|c| c.store(0, Ordering::Relaxed));
        self.first_us.store(u64::MAX, Ordering::Relaxed);
        self.last_us.store(0, Ordering::Relaxed);
        self.latency
            .iter()
            .flatten()
            .for_each(|c| c.store(0, Ordering::Relaxed));
        self.latency_unparsed.store(0, Ordering::Relaxed);
        self.latency_samples.store(0, Ordering::Relaxed);
    }

    /// Counts one `42/progress,["name",{…}]` packet received at `at` (µs since the epoch).
    pub(crate) fn record(&self, packet: &str, at: u64, latency: bool) {
        self.deliveries.fetch_add(1, Ordering::Relaxed);
        self.first_us.fetch_min(at, Ordering::Relaxed);
        self.last_us.fetch_max(at, Ordering::Relaxed);
        let name = packet
            .strip_prefix("[\"")
            .and_then(|rest| rest.split('"').next())
            .unwrap_or("");
        let index = NAMES[..NAMES.len() - 1]
            .iter()
            .position(|n| *n == name)
            .unwrap_or(NAMES.len() - 1);
        self.by_name[index].fetch_add(1, Ordering::Relaxed);
        if latency {
            match published_us(packet) {
                Some(published) => {
                    let bucket = (at.saturating_sub(published) / BUCKET_US) as usize;
                    self.latency[index][bucket.min(BUCKETS - 1)].fetch_add(1, Ordering::Relaxed);
                    self.latency_samples.fetch_add(1, Ordering::Relaxed);
                }
                None => {
                    self.latency_unparsed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    fn percentile_ms(&self, counts: &[u64], total: u64, q: f64) -> f64 {
        let rank = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (bucket, count) in counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return (bucket as u64 * BUCKET_US) as f64 / 1000.0;
            }
        }
        f64::NAN
    }

    pub(crate) fn report(&self) -> serde_json::Value {
        let sampled = self.latency_samples.load(Ordering::Relaxed) > 0;
        let by_name_counts: Vec<Vec<u64>> = self
            .latency
            .iter()
            .filter(|_| sampled)
            .map(|h| h.iter().map(|c| c.load(Ordering::Relaxed)).collect())
            .collect();
        let counts: Vec<u64> = (0..if sampled { BUCKETS } else { 0 })
            .map(|b| by_name_counts.iter().map(|h| h[b]).sum())
            .collect();
        let summary = |counts: &[u64]| {
            let samples: u64 = counts.iter().sum();
            (samples > 0).then(|| {
                json!({
                    "samples": samples,
                    "p50Ms": self.percentile_ms(counts, samples, 0.50),
                    "p99Ms": self.percentile_ms(counts, samples, 0.99),
                    "maxMs": self.percentile_ms(counts, samples, 1.0),
                })
            })
        };
        let mut latency = summary(&counts);
        if let Some(serde_json::Value::Object(all)) = latency.as_mut() {
            all.insert(
                "unparsed".into(),
                self.latency_unparsed.load(Ordering::Relaxed).into(),
            );
            let per_name: serde_json::Map<String, serde_json::Value> = NAMES
                .iter()
                .zip(&by_name_counts)
                .filter_map(|(n, h)| summary(h).map(|v| ((*n).to_owned(), v)))
                .collect();
            all.insert("byName".into(), per_name.into());
        }
        let by_name: serde_json::Map<String, serde_json::Value> = NAMES
            .iter()
            .zip(&self.by_name)
            .map(|(n, c)| ((*n).to_owned(), c.load(Ordering::Relaxed).into()))
            .collect();
        let first = self.first_us.load(Ordering::Relaxed);
        json!({
            "connected": self.connected.load(Ordering::Relaxed),
            "failed": self.failed.load(Ordering::Relaxed),
            "closed": self.closed.load(Ordering::Relaxed),
            "deliveries": self.deliveries.load(Ordering::Relaxed),
            "byName": by_name,
            "firstUs": (first != u64::MAX).then_some(first),
            "lastUs": self.last_us.load(Ordering::Relaxed),
            "latency": latency,
        })
    }
}

/// The publisher's `ts` (RFC 3339 with milliseconds) of a packet, in µs since the epoch.
fn published_us(packet: &str) -> Option<u64> {
    let start = packet.find("\"ts\":\"")? + 6;
    let end = start + packet[start..].find('"')?;
    let ts = chrono::DateTime::parse_from_rfc3339(&packet[start..end]).ok()?;
    u64::try_from(ts.timestamp_micros()).ok()
}
