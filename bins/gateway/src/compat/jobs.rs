//! `/jobs` (seed 002, a NestJS gateway over Redis): a client subscribes to a job, to a user's
//! jobs, or (admins) to every job, and gets status, progress, completion and error events.
//!
//! | seed 002 | finishline |
//! | --- | --- |
//! | `subscribe:jobs { jobId }` | (`since` replays, see [`super::follow`]) room `job:<jobId>`: the token may watch the job's event or owns the job; the ack also holds the job's current `status` |
//! | `subscribe:jobs { userId }` | room `user:<userId>`: the token's own `sub`, or an `admin` token |
//! | `subscribe:jobs {}` | room `all-jobs`: `admin` tokens only |
//! | ack | `{ success, room, message }`; refused: `{ success: false, message, error: { code, message } }` |
//! | `unsubscribe:jobs` | the same payloads; leaves the room |
//! | `job:update` | `job:queued` → `status: "queued"`, `data: { position, kind, photoId \| videoId }`; `job:started` → `status: "started"`, `data: { attempt, message }` |
//! | `job:progress` | `*:progress` → `{ status: "in_progress", progress, message: <stage>, stage }` |
//! | `job:completed` | `*:completed` → `{ status: "completed", result: <the message's body> }` |
//! | `job:error` | `*:failed` → `{ status: "failed", error, code }`; `*:cancelled` → `{ status: "failed", error: "cancelled" }` |
//!
//! Every event carries `jobId` and `timestamp` (the message's `ts`), plus `eventId`,
//! `requestId` and `seq`.

use finishline_wire::{ALL_JOBS_ROOM, JobId, MessageName, UserId, job_room, user_room};
use serde::Deserialize;
use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, SocketRef, State, TryData};

use super::{Connected, JobMessage, emit_to, may_follow};
use crate::auth::Claims;
use crate::socket::{SocketState, claims, note_subscription, over_limits};

pub const NAMESPACE: &str = "/jobs";

pub static CONNECTED: Connected = Connected::new();

/// This namespace's handlers, registered by its connect middleware (see [`super::register`]).
pub fn setup(socket: &SocketRef, _claims: &Claims) {
    socket.on("subscribe:jobs", subscribe);
    socket.on("unsubscribe:jobs", unsubscribe);
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobsRequest {
    job_id: Option<JobId>,
    user_id: Option<UserId>,
    /// With `jobId`: the last `seq` seen; the job's later messages are replayed first.
    since: Option<u64>,
}

fn refused(room: Option<&str>, code: &str, message: String) -> Value {
    json!({
        "success": false,
        "room": room,
        "message": message,
        "error": { "code": code, "message": message },
    })
}

/// The room a request names, once the socket's token allows it; the job's status for a job.
async fn room_for(
    socket: &SocketRef,
    state: &SocketState,
    request: &JobsRequest,
) -> Result<(String, Option<Value>), Value> {
    let Some(claims) = claims(socket) else {
        return Err(refused(None, "forbidden", "not authenticated".into()));
    };
    if let Some(job_id) = &request.job_id {
        let status = state.bus.job_status(job_id).await.map_err(|err| {
            tracing::error!(error = %err, job_id = %job_id, "job lookup failed");
            refused(
                None,
                "internal",
                "the progress store is unavailable; try again".into(),
            )
        })?;
        let Some(mut status) = status.filter(|s| may_follow(&claims, s)) else {
            return Err(refused(None, "not_found", format!("no job {job_id}")));
        };
        status.history.clear();
        return Ok((job_room(job_id), Some(json!(status))));
    }
    if let Some(user_id) = &request.user_id {
        let own = claims.sub.as_deref() == Some(user_id.as_str());
        if !(own || claims.has_scope("admin")) {
            let message = format!("only {user_id} or an admin may watch {user_id}'s jobs");
            return Err(refused(None, "forbidden", message));
        }
        return Ok((user_room(user_id), None));
    }
    if !claims.has_scope("admin") {
        let message = "all jobs can be watched with an admin token only".to_owned();
        return Err(refused(Some(ALL_JOBS_ROOM), "forbidden", message));
    }
    Ok((ALL_JOBS_ROOM.to_owned(), None))
}

async fn subscribe(
    socket: SocketRef,
    TryData(payload): TryData<Value>,
    ack: AckSender,
    State(state): State<SocketState>,
) {
    // Seed 002 subscribes to all jobs with `{}` or no payload at all.
    let request = match payload {
        Ok(Value::Null) | Err(_) => Ok(JobsRequest::default()),
        Ok(value) => serde_json::from_value::<JobsRequest>(value),
    };
    let request = match request {
        Ok(request) => request,
        Err(err) => {
            let example = r#"{ "jobId": "01K…" }, { "userId": "u1" } or {}"#;
            let message = format!("{err}; expected {example}");
            let _ = ack.send(&refused(None, "invalid_payload", message));
            return;
        }
    };
    let (room, status) = match room_for(&socket, &state, &request).await {
        Ok(found) => found,
        Err(refusal) => {
            let _ = ack.send(&refusal);
            return;
        }
    };
    if let Some(message) = over_limits(&socket, &state.limits, &room) {
        let _ = ack.send(&refused(Some(&room), "rate_limited", message));
        return;
    }
    note_subscription(&socket, &room, true);
    match (&request.job_id, request.since) {
        (Some(job_id), Some(since)) => {
            super::follow::follow(socket.clone(), state.clone(), job_id.clone(), since, map);
        }
        _ => socket.join(room.clone()),
    }
    let mut answer = json!({
        "success": true,
        "room": room,
        "message": format!("Subscribed to {room}"),
    });
    if let Some(status) = status {
        answer["status"] = status;
    }
    let _ = ack.send(&answer);
}

async fn unsubscribe(socket: SocketRef, TryData(payload): TryData<Value>, ack: AckSender) {
    let request = match payload {
        Ok(Value::Null) | Err(_) => JobsRequest::default(),
        Ok(value) => serde_json::from_value(value).unwrap_or_default(),
    };
    let room = match (&request.job_id, &request.user_id) {
        (Some(job_id), _) => job_room(job_id),
        (None, Some(user_id)) => user_room(user_id),
        (None, None) => ALL_JOBS_ROOM.to_owned(),
    };
    socket.leave(room.clone());
    note_subscription(&socket, &room, false);
    let message = format!("Unsubscribed from {room}");
    let _ = ack.send(&json!({ "success": true, "room": room, "message": message }));
}

/// Maps a job's message to seed 002's event, to the rooms of the job, its owner, and all jobs.
pub async fn relay(io: &SocketIo, job: &JobMessage<'_>) {
    let Some((event, payload)) = map(job) else {
        return;
    };
    let mut rooms = vec![job_room(job.job_id), ALL_JOBS_ROOM.to_owned()];
    if let Some(owner) = job.owner {
        rooms.push(user_room(owner));
    }
    emit_to(io, NAMESPACE, rooms, event, &payload).await;
}

/// Seed 002's event and payload for a job's message; `None` for messages it has none for.
pub fn map(job: &JobMessage<'_>) -> Option<(&'static str, Value)> {
    let (event, mut payload) = match job.name {
        MessageName::JobQueued => {
            let mut data = json!({ "position": job.field("position"), "kind": job.field("kind") });
            for media in ["photoId", "videoId"] {
                if let Some(id) = job.data.get(media) {
                    data[media] = id.clone();
                }
            }
            ("job:update", json!({ "status": "queued", "data": data }))
        }
        MessageName::JobStarted => (
            "job:update",
            json!({ "status": "started", "data": {
                "attempt": job.field("attempt"),
                "message": "Job processing started",
            }}),
        ),
        MessageName::PhotoProgress | MessageName::VideoProgress => (
            "job:progress",
            json!({
                "status": "in_progress",
                "progress": job.field("progress"),
                "message": job.field("stage"),
                "stage": job.field("stage"),
            }),
        ),
        MessageName::PhotoCompleted | MessageName::VideoCompleted => (
            "job:completed",
            json!({ "status": "completed", "result": job.result() }),
        ),
        MessageName::PhotoFailed | MessageName::VideoFailed => (
            "job:error",
            json!({ "status": "failed", "error": job.field("error"), "code": job.field("code") }),
        ),
        MessageName::PhotoCancelled | MessageName::VideoCancelled => (
            "job:error",
            json!({ "status": "failed", "error": "cancelled", "code": "cancelled" }),
        ),
        MessageName::EventProgress | MessageName::EventCompleted => return None,
    };
    payload["jobId"] = json!(job.job_id);
    payload["timestamp"] = job.field("ts");
    for common in ["eventId", "requestId", "seq"] {
        payload[common] = job.field(common);
    }
    Some((event, payload))
}
