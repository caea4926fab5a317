//! `subscribe:job` and `unsubscribe:job` of `/progress`: one job's messages, live, with its
//! current status in the ack.

use finishline_wire::{JobId, job_room};
use serde::Deserialize;
use socketioxide::extract::{AckSender, SocketRef};

use super::{
    SocketState, claims, failure, invalid_payload_ack, note_subscription, on_request, over_limits,
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
    if let Some(refusal) = over_limits(&socket, &state.limits, &job_room(&request.job_id)) {
        let _ = ack.send(&failure("rate_limited", refusal));
        return;
    }
    let status = match state.bus.job_status(&request.job_id).await {
        Ok(status) => status,
        Err(err) => {
            tracing::error!(error = %err, job_id = %request.job_id, "job lookup failed");
            let _ = ack.send(&failure(
                "internal",
                "the progress store is unavailable; try again",
            ));
            return;
        }
    };
    let allowed = status
        .as_ref()
        .is_some_and(|s| claims(&socket).is_some_and(|c| c.may_watch(&s.event_id)));
    let Some(mut status) = status.filter(|_| allowed) else {
        let _ = ack.send(&failure("not_found", format!("no job {}", request.job_id)));
        return;
    };
    socket.join(job_room(&request.job_id));
    note_subscription(&socket, &job_room(&request.job_id), true);
    status.history.clear();
    let _ = ack.send(&serde_json::json!({
        "success": true,
        "room": job_room(&request.job_id),
        "status": status,
    }));
}

async fn unsubscribe(socket: SocketRef, _: SocketState, request: JobRequest, ack: AckSender) {
    socket.leave(job_room(&request.job_id));
    note_subscription(&socket, &job_room(&request.job_id), false);
    let _ = ack.send(&serde_json::json!({ "success": true }));
}
