//! `/queue` (seed 004, JWT queue updates): no subscription; every socket whose token has a
//! `sub` gets `queue-update` for each change of that user's jobs (room `user:<sub>`, joined on
//! connect).
//!
//! | seed 004 `eventType` | finishline message | fields |
//! | --- | --- | --- |
//! | `job-queued` | `job:queued` | `progress: 0`, `message: "Job queued at position N"`, `metadata.position` |
//! | `job-started` | `job:started` | `progress: 0`, `message: "Job processing started"`, `metadata.attempt` |
//! | `job-progress` | `photo:progress` / `video:progress` | `progress`, `stage`, `message: <stage>` |
//! | `job-completed` | `photo:completed` / `video:completed` | `progress: 100`, `result: <the message's body>` |
//! | `job-failed` | `photo:failed` / `video:failed` | `error`, `message: <error>`, `metadata.code` |
//! | `job-cancelled` | `photo:cancelled` / `video:cancelled` | `message: "Job cancelled"` |
//!
//! `metadata` always holds `jobType` (`photo` or `video`), `eventId`, `photoId` or `videoId`,
//! `requestId`, `seq` and `ts`.

use finishline_wire::{MessageName, user_room};
use serde_json::{Map, Value, json};
use socketioxide::SocketIo;
use socketioxide::extract::SocketRef;

use super::{Connected, JobMessage, emit_to};
use crate::auth::Claims;
use crate::socket::join_user_room;

pub const NAMESPACE: &str = "/queue";

pub static CONNECTED: Connected = Connected::new();

/// This namespace's set-up on connect (see [`super::register`]): the user's room.
pub fn setup(socket: &SocketRef, claims: &Claims) {
    join_user_room(socket, claims);
}

/// Maps a job's message to seed 004's `queue-update`, to its owner's room.
pub async fn relay(io: &SocketIo, job: &JobMessage<'_>) {
    let Some(owner) = job.owner else {
        return;
    };
    let mut metadata = Map::new();
    metadata.insert("jobType".into(), job.field("kind"));
    for field in ["eventId", "photoId", "videoId", "requestId", "seq", "ts"] {
        if let Some(value) = job.data.get(field) {
            metadata.insert(field.into(), value.clone());
        }
    }
    if metadata["jobType"].is_null() {
        let kind = if job.data.contains_key("videoId") {
            "video"
        } else {
            "photo"
        };
        metadata.insert("jobType".into(), json!(kind));
    }
    let mut update = json!({ "jobId": job.job_id });
    let event_type = match job.name {
        MessageName::JobQueued => {
            let position = job.field("position");
            metadata.insert("position".into(), position.clone());
            update["progress"] = json!(0);
            update["message"] = json!(format!("Job queued at position {position}"));
            "job-queued"
        }
        MessageName::JobStarted => {
            metadata.insert("attempt".into(), job.field("attempt"));
            update["progress"] = json!(0);
            update["message"] = json!("Job processing started");
            "job-started"
        }
        MessageName::PhotoProgress | MessageName::VideoProgress => {
            update["progress"] = job.field("progress");
            update["stage"] = job.field("stage");
            update["message"] = job.field("stage");
            "job-progress"
        }
        MessageName::PhotoCompleted | MessageName::VideoCompleted => {
            update["progress"] = json!(100);
            update["message"] = json!("Job completed successfully");
            update["result"] = job.result();
            "job-completed"
        }
        MessageName::PhotoFailed | MessageName::VideoFailed => {
            update["error"] = job.field("error");
            update["message"] = job.field("error");
            metadata.insert("code".into(), job.field("code"));
            "job-failed"
        }
        MessageName::PhotoCancelled | MessageName::VideoCancelled => {
            update["message"] = json!("Job cancelled");
            "job-cancelled"
        }
        MessageName::EventProgress | MessageName::EventCompleted => return,
    };
    update["eventType"] = json!(event_type);
    update["metadata"] = Value::Object(metadata);
    emit_to(
        io,
        NAMESPACE,
        vec![user_room(owner)],
        "queue-update",
        &update,
    )
    .await;
}
