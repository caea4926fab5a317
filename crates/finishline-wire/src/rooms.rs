//! Room names. The only place that knows how a room is spelled.

/// The Socket.IO room of one event: `event:<eventId>`.
pub fn event_room(event_id: impl AsRef<str>) -> String {
    format!("event:{}", event_id.as_ref())
}

/// The Socket.IO room of one job: `job:<jobId>`.
pub fn job_room(job_id: impl AsRef<str>) -> String {
    format!("job:{}", job_id.as_ref())
}
