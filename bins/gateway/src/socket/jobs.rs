//! `subscribe:job` and `unsubscribe:job` of `/progress`: one job's messages, live, with its
//! current status in the ack.

use finishline_wire::{JobId, job_room};
use serde::Deserialize;
use serde_json::Value;
use socketioxide::extract::{AckSender, SocketRef};

use super::{
    SocketState, admit_to, claims, failure, invalid_payload_ack, note_subscription, on_request,
    store_unavailable,
};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobRequest {
    job_id: JobId,
}

const EXAMPLE: &str = r#"{ "jobId": "01K…" }"#;

/// Registers `subscribe:job` and `unsubscribe:job` on a socket of `/progress`.
pub(super) fn register(socket: &SocketRef) {
    on_request(
        socket,
        "subscribe:job",
        invalid_payload_ack(EXAMPLE),
        subscribe,
    );
    on_request(
        socket,
        "unsubscribe:job",
        invalid_payload_ack(EXAMPLE),
        unsubscribe,
    );
}

async fn subscribe(socket: SocketRef, state: SocketState, request: JobRequest, ack: AckSender) {
    let answer = join(&socket, &state, &request.job_id).await;
    let _ = ack.send(&answer.unwrap_or_else(|refusal| refusal));
}

/// Joins the job's room when the socket may watch the job; the ack: the job's status without
/// its history, or the failure.
async fn join(socket: &SocketRef, state: &SocketState, job_id: &JobId) -> Result<Value, Value> {
    admit_to(socket, state, &job_room(job_id))?;
    let status = state.bus.job_status(job_id).await.map_err(|err| {
        tracing::error!(error = %err, job_id = %job_id, "job lookup failed");
        store_unavailable()
    })?;
    let allowed = status
        .as_ref()
        .is_some_and(|s| claims(socket).is_some_and(|c| c.may_watch(&s.event_id)));
    let Some(mut status) = status.filter(|_| allowed) else {
        return Err(failure("not_found", format!("no job {job_id}")));
    };
    socket.join(job_room(job_id));
    note_subscription(socket, &job_room(job_id), true);
    status.history.clear();
    Ok(serde_json::json!({
        "success": true,
        "room": job_room(job_id),
        "status": status,
    }))
}

async fn unsubscribe(socket: SocketRef, _: SocketState, request: JobRequest, ack: AckSender) {
    socket.leave(job_room(&request.job_id));
    note_subscription(&socket, &job_room(&request.job_id), false);
    let _ = ack.send(&serde_json::json!({ "success": true }));
}
