//! The event settings a job applies when its `ocr` stage ends, read from Redis through a
//! short per-event cache: a change reaches jobs that start after it within [`FRESH_FOR`],
//! and a busy event costs one read per that period instead of one per job.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use finishline_bus::{BusError, ProgressBus};
use finishline_media::{BibRead, apply_event_settings};
use finishline_wire::{EventId, EventSettings};

/// How long settings read from Redis are used before they are read again.
pub const FRESH_FOR: Duration = Duration::from_secs(2);

/// Events remembered at most; older entries are forgotten first.
const MAX_EVENTS: usize = 1024;

/// Settings by event, each with when it was read.
pub struct SettingsCache {
    bus: ProgressBus,
    entries: Mutex<HashMap<EventId, (Instant, Arc<EventSettings>)>>,
}

impl SettingsCache {
    pub fn new(bus: ProgressBus) -> Self {
        Self {
            bus,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Applies the event's settings to the reads of a job (rejections and corrections are
    /// logged in the caller's span). Without settings the reads are returned unchanged.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached (the run is retried like any bus failure).
    pub async fn apply<P: BibRead>(
        &self,
        event_id: &EventId,
        plates: Vec<P>,
    ) -> Result<Vec<P>, BusError> {
        let settings = self.get(event_id).await?;
        if settings.is_empty() || plates.is_empty() {
            return Ok(plates);
        }
        let before = plates.len();
        let plates = apply_event_settings(plates, &settings);
        tracing::debug!(before, after = plates.len(), "event settings applied");
        Ok(plates)
    }

    /// The settings of an event, from the cache while fresh. Settings in Redis that do not
    /// parse (never written by the gateway) count as none, with a warning.
    async fn get(&self, event_id: &EventId) -> Result<Arc<EventSettings>, BusError> {
        if let Some((read_at, settings)) = self.lock().get(event_id)
            && read_at.elapsed() < FRESH_FOR
        {
            return Ok(settings.clone());
        }
        let mut settings = match self.bus.event_settings(event_id).await {
            Ok(settings) => settings,
            Err(BusError::Malformed(reason)) => {
                tracing::warn!(%reason, "event settings unreadable; reads are not filtered");
                EventSettings::default()
            }
            Err(err) => return Err(err),
        };
        if let Some(list) = settings.start_list.as_mut() {
            // Sorted once here rather than for every job.
            list.sort_unstable();
            list.dedup();
        }
        let settings = Arc::new(settings);
        let mut entries = self.lock();
        if entries.len() >= MAX_EVENTS && !entries.contains_key(event_id) {
            entries.retain(|_, (read_at, _)| read_at.elapsed() < FRESH_FOR);
            if entries.len() >= MAX_EVENTS
                && let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, (read_at, _))| *read_at)
                    .map(|(id, _)| id.clone())
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(event_id.clone(), (Instant::now(), settings.clone()));
        Ok(settings)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<EventId, (Instant, Arc<EventSettings>)>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
