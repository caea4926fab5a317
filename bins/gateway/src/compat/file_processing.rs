//! `/file-processing` (seed 000, a NestJS gateway): a client subscribes to one file and gets
//! its processing events.
//!
//! | seed 000 | finishline |
//! | --- | --- |
//! | `subscribe:file { fileId }` | (`since` replays, see [`super::follow`]) `fileId` = a job id, or a photo's / video's id (with `eventId` when the token may watch more than its listed events); the socket joins the job's room |
//! | `unsubscribe:file { fileId }` | leaves it |
//! | `subscribed` | `{ fileId, jobId, room, status }` (`status` as `GET /v1/jobs/{jobId}`, without history; also the ack, when the client asks for one) |
//! | `processing:started` | `job:started`: `{ fileId, jobId, attempt, … }` |
//! | `processing:progress` | `photo:progress` / `video:progress`: `{ fileId, jobId, progress, stage, … }` |
//! | `processing:completed` | `photo:completed` / `video:completed`, its whole body plus `fileId` |
//! | `processing:failed` | `*:failed` (`error`, `code`) and `*:cancelled` (`error: "cancelled"`) |
//!
//! `fileId` in messages is the photo's or video's id (what seed 000's upload returns); every
//! message keeps finishline's fields too (`eventId`, `requestId`, `seq`, `ts`). A refused
//! subscription is answered with NestJS's `exception` event `{ status: "error", message }`.

use finishline_wire::{EventId, JobId, JobKind, MediaId, MessageName, job_room};
use serde::Deserialize;
use serde_json::{Value, json};
use socketioxide::ParserError;
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, SocketRef};

use super::{Connected, JobMessage, emit_to, may_follow};
use crate::auth::Claims;
use crate::socket::{SocketState, claims, note_subscription, on_request, over_limits};

pub const NAMESPACE: &str = "/file-processing";

pub static CONNECTED: Connected = Connected::new();

/// This namespace's handlers, registered by its connect middleware (see [`super::register`]).
pub fn setup(socket: &SocketRef, _claims: &Claims) {
    let invalid = |socket: &SocketRef, ack, err: ParserError| {
        let message = format!("{err}; expected a payload like {{ \"fileId\": \"v1\" }}");
        refuse(socket, ack, "invalid_payload", message);
    };
    on_request(socket, "subscribe:file", invalid, subscribe);
    let invalid = |socket: &SocketRef, ack, err: ParserError| {
        refuse(socket, ack, "invalid_payload", err.to_string());
    };
    on_request(socket, "unsubscribe:file", invalid, unsubscribe);
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileRequest {
    file_id: String,
    event_id: Option<EventId>,
    /// The last `seq` seen; the job's later messages are replayed first.
    since: Option<u64>,
}

fn refuse(socket: &SocketRef, ack: AckSender, code: &str, message: String) {
    let body = json!({ "status": "error", "message": message, "code": code });
    let _ = socket.emit("exception", &body);
    let _ = ack.send(&json!({ "success": false, "error": { "code": code, "message": message } }));
}

/// The job a file id names: a job id, or a photo's or video's id in the given event or in one
/// of the events the token lists.
async fn resolve(
    state: &SocketState,
    socket: &SocketRef,
    request: &FileRequest,
) -> Result<Option<finishline_wire::JobStatus>, finishline_bus::BusError> {
    if let Ok(job_id) = JobId::parse(request.file_id.as_str())
        && let Some(status) = state.bus.job_status(&job_id).await?
    {
        return Ok(Some(status));
    }
    let Ok(media_id) = MediaId::parse(request.file_id.as_str()) else {
        return Ok(None);
    };
    let events: Vec<EventId> = match &request.event_id {
        Some(event) => vec![event.clone()],
        None => claims(socket)
            .map(|c| c.events.clone())
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e != "*")
            .take(20)
            .filter_map(|e| EventId::parse(e).ok())
            .collect(),
    };
    for event in &events {
        for kind in [JobKind::Photo, JobKind::Video] {
            if let Some(job) = state.bus.job_of_media(event, kind, &media_id).await?
                && let Ok(job_id) = JobId::parse(job)
                && let Some(status) = state.bus.job_status(&job_id).await?
            {
                return Ok(Some(status));
            }
        }
    }
    Ok(None)
}

async fn subscribe(socket: SocketRef, state: SocketState, request: FileRequest, ack: AckSender) {
    let status = match resolve(&state, &socket, &request).await {
        Ok(status) => status,
        Err(err) => {
            tracing::error!(error = %err, "file lookup failed");
            let message = "the progress store is unavailable; try again".to_owned();
            return refuse(&socket, ack, "internal", message);
        }
    };
    let allowed = status
        .as_ref()
        .is_some_and(|s| claims(&socket).is_some_and(|c| may_follow(&c, s)));
    let Some(status) = status.filter(|_| allowed) else {
        let message = format!("no file {} (give eventId with a media id)", request.file_id);
        return refuse(&socket, ack, "not_found", message);
    };
    let room = job_room(&status.job_id);
    if let Some(message) = over_limits(&socket, &state.limits, &room) {
        return refuse(&socket, ack, "rate_limited", message);
    }
    note_subscription(&socket, &room, true);
    match (request.since, JobId::parse(status.job_id.as_str())) {
        (Some(since), Ok(job_id)) => {
            super::follow::follow(socket.clone(), state.clone(), job_id, since, map);
        }
        _ => socket.join(room.clone()),
    }
    let mut current = json!(status);
    current["history"] = json!([]);
    let subscribed = json!({
        "fileId": request.file_id,
        "jobId": status.job_id,
        "room": room,
        "status": current,
    });
    let _ = ack.send(&subscribed);
    let _ = socket.emit("subscribed", &subscribed);
}

async fn unsubscribe(socket: SocketRef, state: SocketState, request: FileRequest, ack: AckSender) {
    if let Ok(Some(status)) = resolve(&state, &socket, &request).await {
        let room = job_room(&status.job_id);
        socket.leave(room.clone());
        note_subscription(&socket, &room, false);
    }
    let _ = ack.send(&json!({ "success": true }));
}

/// Maps a job's message to seed 000's event, to the job's room.
pub async fn relay(io: &SocketIo, job: &JobMessage<'_>) {
    if let Some((event, payload)) = map(job) {
        emit_to(io, NAMESPACE, vec![job_room(job.job_id)], event, &payload).await;
    }
}

/// Seed 000's event and payload for a job's message; `None` for messages it has none for.
pub fn map(job: &JobMessage<'_>) -> Option<(&'static str, Value)> {
    let event = match job.name {
        MessageName::JobStarted => "processing:started",
        MessageName::PhotoProgress | MessageName::VideoProgress => "processing:progress",
        MessageName::PhotoCompleted | MessageName::VideoCompleted => "processing:completed",
        MessageName::PhotoFailed
        | MessageName::VideoFailed
        | MessageName::PhotoCancelled
        | MessageName::VideoCancelled => "processing:failed",
        MessageName::JobQueued | MessageName::EventProgress | MessageName::EventCompleted => {
            return None;
        }
    };
    let mut payload = job.data.clone();
    payload.insert("fileId".into(), job.media_id());
    if matches!(
        job.name,
        MessageName::PhotoCancelled | MessageName::VideoCancelled
    ) {
        payload.insert("error".into(), json!("cancelled"));
    }
    Some((event, Value::Object(payload)))
}
