//! Wire types of finishline: ids, job payloads, progress messages and room names.
//!
//! This crate is the contract of `PROTOCOL.md` in Rust. It does no I/O, so producers,
//! workers, gateways and tests can all agree on the exact shapes without pulling in Redis or
//! Socket.IO. Every JSON field is camelCase.

mod bibs;
mod body;
mod ids;
mod job;
mod message;
mod rooms;
mod settings;

pub use bibs::{
    BibCounts, BibNumber, BibNumbers, BibPage, BibPhoto, BibVideo, photo_sightings, video_sightings,
};
pub use body::{
    FailedBody, ImageSize, MediaRef, PhotoCompletedBody, ProgressBody, VideoCompletedBody,
    VideoPlate,
};
pub use ids::{EventId, IdError, JobId, MediaId, RequestId, UserId, validate_id};
pub use job::{JobKind, JobState, JobStatus, MediaJob, MediaSource, Stage};
pub use message::{
    BoundingBox, ColorName, ColorShare, EventCounts, EventSnapshot, MessageName, Plate, now_rfc3339,
};
pub use rooms::{ALL_JOBS_ROOM, event_room, job_room, replay_room, user_room};
pub use settings::{EventSettings, MAX_BIB, MAX_START_LIST, SettingsError};
