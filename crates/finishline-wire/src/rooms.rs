//! Room names. The only place that knows how a room is spelled.

/// The Socket.IO room of one event: `event:<eventId>`.
pub fn event_room(event_id: impl AsRef<str>) -> String {
    format!("event:{}", event_id.as_ref())
}

/// The Socket.IO room of one job: `job:<jobId>`.
pub fn job_room(job_id: impl AsRef<str>) -> String {
    format!("job:{}", job_id.as_ref())
}

/// The Socket.IO room of one user's jobs, whatever their event: `user:<userId>`.
pub fn user_room(user_id: impl AsRef<str>) -> String {
    format!("user:{}", user_id.as_ref())
}

/// The Socket.IO room of every job's messages, for `admin` tokens only.
pub const ALL_JOBS_ROOM: &str = "all-jobs";

/// The gateway's room of the sockets in the middle of a hand-over to one event (replaying its
/// history): left out of that event's live messages in every room until the relay joins them.
pub fn replay_room(event_id: impl AsRef<str>) -> String {
    format!("replay:{}", event_id.as_ref())
}
