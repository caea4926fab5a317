//! An event's settings (what the organiser knows), stored as JSON next to the event's other
//! keys: written by the gateway, read by workers when a job's `ocr` stage ends. The key lives
//! for the retention period; every message of the event renews it with the event's TTLs.

use finishline_wire::{EventId, EventSettings};

use crate::{BusError, ProgressBus};

impl ProgressBus {
    /// The settings of an event; empty ones when none were set (or they expired).
    ///
    /// # Errors
    /// Fails when Redis cannot be reached or holds settings that do not parse.
    pub async fn event_settings(&self, event_id: &EventId) -> Result<EventSettings, BusError> {
        let stored: Option<String> = redis::cmd("GET")
            .arg(self.keys().event_settings(event_id))
            .query_async(&mut self.connection())
            .await?;
        match stored {
            None => Ok(EventSettings::default()),
            Some(json) => serde_json::from_str(&json)
                .map_err(|err| BusError::Malformed(format!("settings of event {event_id}: {err}"))),
        }
    }

    /// Replaces the settings of an event (empty settings remove them). The caller has
    /// validated them.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn set_event_settings(
        &self,
        event_id: &EventId,
        settings: &EventSettings,
    ) -> Result<(), BusError> {
        let key = self.keys().event_settings(event_id);
        let mut conn = self.connection();
        if settings.is_empty() {
            redis::cmd("DEL")
                .arg(key)
                .query_async::<()>(&mut conn)
                .await?;
            return Ok(());
        }
        let json = serde_json::to_string(settings)
            .map_err(|err| BusError::Malformed(format!("settings of event {event_id}: {err}")))?;
        redis::cmd("SET")
            .arg(key)
            .arg(json)
            .arg("EX")
            .arg(self.limits().retention.as_secs().max(1))
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }
}
