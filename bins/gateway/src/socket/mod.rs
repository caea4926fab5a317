//! The Socket.IO namespace `/progress`: subscribe and unsubscribe, with the acks of
//! PROTOCOL.md. Malformed payloads are answered with `invalid_payload`, never dropped.
//!
//! [`admission`] is what every namespace's connect middleware shares (token, limits, user
//! room); [`events`] and [`jobs`] are the event and job subscriptions of `/progress`.

mod admission;
mod events;
mod jobs;

use std::sync::Arc;

use finishline_bus::ProgressBus;
use serde::Deserialize;
use serde_json::Value;
use socketioxide::extract::{AckSender, SocketRef, State, TryData};

pub(crate) use admission::{
    admit, claims, is_subscribed, join_user_room, note_subscription, over_limits, release,
};

use crate::auth::{AuthError, Authenticator};
use crate::limits::Limits;
use crate::relay::Gate;

/// What the namespace handlers share.
#[derive(Clone)]
pub struct SocketState {
    pub bus: ProgressBus,
    pub gate: Arc<Gate>,
    pub auth: Authenticator,
    pub limits: Arc<Limits>,
}

#[derive(Debug, Deserialize)]
pub struct HandshakeAuth {
    pub token: Option<String>,
}

/// Connect middleware: verifies `auth.token` and keeps its claims on the socket. A refusal
/// reaches the client as `connect_error` with a message starting `unauthorized:`.
pub async fn authenticate(
    socket: SocketRef,
    TryData(auth): TryData<HandshakeAuth>,
    State(state): State<SocketState>,
) -> Result<(), AuthError> {
    let claims = admit(&socket, auth.ok().and_then(|a| a.token), &state)?;
    join_user_room(&socket, &claims);
    register_handlers(&socket);
    Ok(())
}

/// A failure ack: `{ success: false, error: { code, message } }`.
pub fn failure(code: &str, message: impl Into<String>) -> Value {
    serde_json::json!({ "success": false, "error": { "code": code, "message": message.into() } })
}

pub(crate) fn invalid_payload(err: &dyn std::fmt::Display, example: &str) -> Value {
    failure(
        "invalid_payload",
        format!("{err}; expected a payload like {example}"),
    )
}

/// Logs a connected socket. Its handlers are already registered, by [`authenticate`].
pub async fn on_connect(socket: SocketRef) {
    tracing::debug!(socket = %socket.id, "client connected");
}

/// Registers the handlers of one accepted socket. This runs inside the connect middleware,
/// before socketioxide sends the namespace CONNECT packet: socketioxide spawns the connect
/// handler after sending that packet, so a client that emits as soon as it is connected (the
/// dashboard does) could otherwise be heard before any handler exists, and its call would be
/// dropped without an ack.
fn register_handlers(socket: &SocketRef) {
    events::register(socket);
    jobs::register(socket);
    socket.on_fallback(|ack: AckSender| async move {
        let _ = ack.send(&failure(
            "invalid_payload",
            "unknown event; see docs/PROTOCOL.md for the events of /progress",
        ));
    });
    socket.on_disconnect(
        |socket: SocketRef, State(state): State<SocketState>| async move {
            state.gate.forget(socket.id).await;
            release(&socket, &state);
        },
    );
}
