//! The Socket.IO namespace `/progress`: subscribe and unsubscribe, with the acks of
//! PROTOCOL.md. Malformed payloads are answered with `invalid_payload`, never dropped.
//!
//! [`admission`] is what every namespace's connect middleware shares (token, limits, user
//! room); [`events`] and [`jobs`] are the event and job subscriptions of `/progress`.

mod admission;
mod events;
mod jobs;

use std::future::Future;
use std::sync::Arc;

use finishline_bus::ProgressBus;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use socketioxide::ParserError;
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

/// `Err` with a `rate_limited` failure ack when the socket may not join `room` now (see
/// [`over_limits`]).
fn admit_to(socket: &SocketRef, state: &SocketState, room: &str) -> Result<(), Value> {
    match over_limits(socket, &state.limits, room) {
        Some(refusal) => Err(failure("rate_limited", refusal)),
        None => Ok(()),
    }
}

/// The failure ack when the progress store does not answer (the caller logs the cause).
fn store_unavailable() -> Value {
    failure("internal", "the progress store is unavailable; try again")
}

/// Registers `event` on `socket`: its payload, read as `T`, goes to `handle` with the socket,
/// the state and the ack; a payload that does not read is answered by `refuse` instead (each
/// namespace words that answer its own way) and `handle` is not called.
pub(crate) fn on_request<T, R, H, Fut>(
    socket: &SocketRef,
    event: &'static str,
    refuse: R,
    handle: H,
) where
    T: DeserializeOwned + Send + Sync + 'static,
    R: FnOnce(&SocketRef, AckSender, ParserError) + Clone + Send + Sync + 'static,
    H: FnOnce(SocketRef, SocketState, T, AckSender) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    socket.on(
        event,
        move |socket: SocketRef,
              TryData(payload): TryData<T>,
              ack: AckSender,
              State(state): State<SocketState>| async move {
            match payload {
                Ok(request) => handle(socket, state, request, ack).await,
                Err(err) => refuse(&socket, ack, err),
            }
        },
    );
}

/// The `refuse` of [`on_request`] for `/progress`: an `invalid_payload` failure ack that shows
/// `example`.
fn invalid_payload_ack(
    example: &'static str,
) -> impl FnOnce(&SocketRef, AckSender, ParserError) + Clone + Send + Sync + 'static {
    move |_, ack, err| {
        let _ = ack.send(&invalid_payload(&err, example));
    }
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
