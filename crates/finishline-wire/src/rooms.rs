//! Room names. The only place that knows how a room is spelled.

use crate::{EventId, JobId};

/// The Socket.IO room of one event: `event:<eventId>`.
pub fn event_room(event_id: &EventId) -> String {
    format!("event:{event_id}")
}

/// The Socket.IO room of one job: `job:<jobId>`.
pub fn job_room(job_id: &JobId) -> String {
    format!("job:{job_id}")
}
