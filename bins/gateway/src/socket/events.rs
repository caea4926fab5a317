//! `subscribe:event` and `unsubscribe:event` of `/progress`: the ack with the event's snapshot
//! and `recovered`, then the replay and the hand-over to the room (see `relay.rs`).

use finishline_wire::{EventId, EventSnapshot, event_room};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use socketioxide::extract::{AckSender, SocketRef};

use super::{
    SocketState, admit_to, claims, failure, invalid_payload_ack, note_subscription, on_request,
    store_unavailable,
};
use crate::resume::Resume;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubscribeEvent {
    event_id: EventId,
    since: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UnsubscribeEvent {
    event_id: EventId,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SubscribeAck<'a> {
    success: bool,
    room: String,
    snapshot: &'a EventSnapshot,
    #[serde(skip_serializing_if = "Option::is_none")]
    recovered: Option<bool>,
}

/// Registers `subscribe:event` and `unsubscribe:event` on a socket of `/progress`.
pub(super) fn register(socket: &SocketRef) {
    let example = r#"{ "eventId": "evt_1", "since": 42 }"#;
    on_request(
        socket,
        "subscribe:event",
        invalid_payload_ack(example),
        subscribe,
    );
    let example = r#"{ "eventId": "evt_1" }"#;
    on_request(
        socket,
        "unsubscribe:event",
        invalid_payload_ack(example),
        unsubscribe,
    );
}

async fn subscribe(socket: SocketRef, state: SocketState, request: SubscribeEvent, ack: AckSender) {
    let admitted = admit_event(&socket, &state, &request).await;
    let (snapshot, Resume { after, recovered }) = match admitted {
        Ok(admitted) => admitted,
        Err(refusal) => {
            let _ = ack.send(&refusal);
            return;
        }
    };
    note_subscription(&socket, &event_room(&request.event_id), true);
    let _ = ack.send(&SubscribeAck {
        success: true,
        room: event_room(&request.event_id),
        snapshot: &snapshot,
        recovered,
    });
    if let Err(err) = state
        .gate
        .subscribe(&state.bus, &socket, &request.event_id, after)
        .await
    {
        tracing::error!(error = %err, event_id = %request.event_id, "replay failed; subscribing live only");
        socket.join(event_room(&request.event_id));
    }
    metrics::counter!("finishline_gateway_subscriptions_total", "kind" => "event").increment(1);
}

/// The checks and reads before an event subscription: the event's snapshot and where its
/// replay starts, or the failure ack.
async fn admit_event(
    socket: &SocketRef,
    state: &SocketState,
    request: &SubscribeEvent,
) -> Result<(EventSnapshot, Resume), Value> {
    admit_to(socket, state, &event_room(&request.event_id))?;
    if !claims(socket).is_some_and(|c| c.may_watch(request.event_id.as_str())) {
        return Err(failure(
            "forbidden",
            format!(
                "your token does not allow watching event {}",
                request.event_id
            ),
        ));
    }
    let snapshot = state.bus.snapshot(&request.event_id).await.map_err(|err| {
        tracing::error!(error = %err, event_id = %request.event_id, "snapshot failed");
        store_unavailable()
    })?;
    let resume = Resume::of(
        &state.bus,
        &request.event_id,
        snapshot.last_seq,
        request.since,
    );
    let resume = resume.await.map_err(|err| {
        tracing::error!(error = %err, "history lookup failed");
        store_unavailable()
    })?;
    Ok((snapshot, resume))
}

async fn unsubscribe(
    socket: SocketRef,
    state: SocketState,
    request: UnsubscribeEvent,
    ack: AckSender,
) {
    socket.leave(event_room(&request.event_id));
    note_subscription(&socket, &event_room(&request.event_id), false);
    state.gate.forget(socket.id).await;
    let _ = ack.send(&serde_json::json!({ "success": true }));
}
