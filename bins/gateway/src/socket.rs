//! The Socket.IO namespace `/progress`: subscribe and unsubscribe, with the acks of
//! PROTOCOL.md. Malformed payloads are answered with `invalid_payload`, never dropped.

use std::collections::HashSet;
use std::sync::Arc;

use finishline_bus::ProgressBus;
use finishline_wire::{EventId, EventSnapshot, JobId, event_room, job_room};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use socketioxide::extract::{AckSender, SocketRef, State, TryData};

use crate::auth::{AuthError, Authenticator, Claims};
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

/// The client address of a connection that was counted against its IP's limit.
#[derive(Debug, Clone, Copy)]
struct CountedIp(std::net::IpAddr);

/// The rooms a connection subscribed to. Counted here rather than from `socket.rooms()`: a
/// subscriber waits for the relay to join it to its event room (see `relay.rs`).
#[derive(Debug, Clone, Default)]
struct Subscriptions(Arc<std::sync::Mutex<HashSet<String>>>);

impl Subscriptions {
    fn of(socket: &SocketRef) -> Self {
        socket.extensions.get::<Self>().unwrap_or_default()
    }

    fn rooms(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Checks the per-connection limits of a subscribe call to `room`; `Some(ack)` when refused.
pub(crate) fn over_limits(socket: &SocketRef, limits: &Limits, room: &str) -> Option<Value> {
    let allowed = socket
        .extensions
        .get::<Arc<governor::DefaultDirectRateLimiter>>()
        .is_none_or(|limiter| limiter.check().is_ok());
    if !allowed {
        return Some(failure(
            "rate_limited",
            "too many subscribe calls; slow down",
        ));
    }
    let subscriptions = Subscriptions::of(socket);
    let rooms = subscriptions.rooms();
    if !rooms.contains(room) && rooms.len() >= limits.max_subscriptions {
        return Some(failure(
            "rate_limited",
            format!(
                "at most {} subscriptions per connection",
                limits.max_subscriptions
            ),
        ));
    }
    None
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

/// What every namespace's connect middleware does first: verifies the handshake's token,
/// applies the per-IP connection limit, and keeps the claims, the subscribe rate limiter and
/// the subscription count on the socket. Pair with [`release`] on disconnect.
///
/// # Errors
/// The refusal the client gets as `connect_error`.
pub(crate) fn admit(
    socket: &SocketRef,
    token: Option<String>,
    state: &SocketState,
) -> Result<Arc<Claims>, AuthError> {
    let claims = match state.auth.verify(token.as_deref()) {
        Ok(claims) => Arc::new(claims),
        Err(err) => {
            metrics::counter!("finishline_gateway_auth_refusals_total", "transport" => "socketio")
                .increment(1);
            tracing::info!(socket = %socket.id, ns = socket.ns(), reason = %err, "connection refused");
            return Err(err);
        }
    };
    let ip = socket
        .req_parts()
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip());
    if let Some(ip) = ip {
        if !state.limits.admit_connection(ip) {
            metrics::counter!("finishline_gateway_connections_refused_total", "reason" => "per_ip_limit").increment(1);
            tracing::info!(socket = %socket.id, %ip, "connection refused: too many from this address");
            return Err(AuthError::Limited);
        }
        socket.extensions.insert(CountedIp(ip));
    }
    tracing::debug!(socket = %socket.id, ns = socket.ns(), sub = ?claims.sub, "client authenticated");
    socket.extensions.insert(claims.clone());
    socket.extensions.insert(state.limits.subscribe_limiter());
    socket.extensions.insert(Subscriptions::default());
    metrics::gauge!("finishline_gateway_connections").increment(1.0);
    Ok(claims)
}

/// Gives back what [`admit`] took: the connection's place in its IP's limit.
pub(crate) fn release(socket: &SocketRef, state: &SocketState) {
    if let Some(CountedIp(ip)) = socket.extensions.get::<CountedIp>() {
        state.limits.release_connection(ip);
    }
    metrics::gauge!("finishline_gateway_connections").decrement(1.0);
    tracing::debug!(socket = %socket.id, ns = socket.ns(), "client disconnected");
}

/// Whether a socket is (still) subscribed to `room`.
pub(crate) fn is_subscribed(socket: &SocketRef, room: &str) -> bool {
    Subscriptions::of(socket).rooms().contains(room)
}

/// Notes a room a socket subscribed to, for the per-connection subscription limit.
pub(crate) fn note_subscription(socket: &SocketRef, room: &str, subscribed: bool) {
    let subscriptions = Subscriptions::of(socket);
    let mut rooms = subscriptions.rooms();
    if subscribed {
        rooms.insert(room.to_owned());
    } else {
        rooms.remove(room);
    }
}

/// Joins a socket whose token has a `sub` to its user's room `user:<sub>`: the messages of
/// every job that user owns reach it, whatever their event. A `sub` that cannot own jobs
/// (not a valid id) joins nothing.
pub(crate) fn join_user_room(socket: &SocketRef, claims: &Claims) {
    let Some(sub) = claims.sub.as_deref() else {
        return;
    };
    match finishline_wire::UserId::parse(sub) {
        Ok(user) => socket.join(finishline_wire::user_room(user)),
        Err(err) => {
            tracing::info!(socket = %socket.id, error = %err, "token sub is not a user id; no user room");
        }
    }
}

pub(crate) fn claims(socket: &SocketRef) -> Option<Arc<Claims>> {
    socket.extensions.get::<Arc<Claims>>()
}

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

/// A failure ack: `{ success: false, error: { code, message } }`.
pub fn failure(code: &str, message: impl Into<String>) -> Value {
    serde_json::json!({ "success": false, "error": { "code": code, "message": message.into() } })
}

fn invalid_payload(err: &dyn std::fmt::Display, example: &str) -> Value {
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
    socket.on("subscribe:event", subscribe_event);
    socket.on("unsubscribe:event", unsubscribe_event);
    socket.on("subscribe:job", subscribe_job);
    socket.on("unsubscribe:job", unsubscribe_job);
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

async fn subscribe_event(
    socket: SocketRef,
    TryData(payload): TryData<SubscribeEvent>,
    ack: AckSender,
    State(state): State<SocketState>,
) {
    let request = match payload {
        Ok(request) => request,
        Err(err) => {
            let _ = ack.send(&invalid_payload(
                &err,
                r#"{ "eventId": "evt_1", "since": 42 }"#,
            ));
            return;
        }
    };
    if let Some(refusal) = over_limits(&socket, &state.limits, &event_room(&request.event_id)) {
        let _ = ack.send(&refusal);
        return;
    }
    if !claims(&socket).is_some_and(|c| c.may_watch(request.event_id.as_str())) {
        let _ = ack.send(&failure(
            "forbidden",
            format!(
                "your token does not allow watching event {}",
                request.event_id
            ),
        ));
        return;
    }
    let snapshot = match state.bus.snapshot(&request.event_id).await {
        Ok(snapshot) => snapshot,
        Err(err) => {
            tracing::error!(error = %err, event_id = %request.event_id, "snapshot failed");
            let _ = ack.send(&failure(
                "internal",
                "the progress store is unavailable; try again",
            ));
            return;
        }
    };
    let (after, recovered) = match request.since {
        None => (snapshot.last_seq, None),
        Some(since) if since >= snapshot.last_seq => {
            // Nothing newer exists; a `since` beyond the last seq means the history was lost.
            (snapshot.last_seq, Some(since == snapshot.last_seq))
        }
        Some(since) => match state.bus.history_start(&request.event_id).await {
            Ok(Some(first)) if first <= since + 1 => (since, Some(true)),
            Ok(_) => (snapshot.last_seq, Some(false)),
            Err(err) => {
                tracing::error!(error = %err, "history lookup failed");
                let _ = ack.send(&failure(
                    "internal",
                    "the progress store is unavailable; try again",
                ));
                return;
            }
        },
    };
    Subscriptions::of(&socket)
        .rooms()
        .insert(event_room(&request.event_id));
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

async fn unsubscribe_event(
    socket: SocketRef,
    TryData(payload): TryData<UnsubscribeEvent>,
    ack: AckSender,
    State(state): State<SocketState>,
) {
    match payload {
        Ok(request) => {
            socket.leave(event_room(&request.event_id));
            Subscriptions::of(&socket)
                .rooms()
                .remove(&event_room(&request.event_id));
            state.gate.forget(socket.id).await;
            let _ = ack.send(&serde_json::json!({ "success": true }));
        }
        Err(err) => {
            let _ = ack.send(&invalid_payload(&err, r#"{ "eventId": "evt_1" }"#));
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobRequest {
    job_id: JobId,
}

async fn subscribe_job(
    socket: SocketRef,
    TryData(payload): TryData<JobRequest>,
    ack: AckSender,
    State(state): State<SocketState>,
) {
    let request = match payload {
        Ok(request) => request,
        Err(err) => {
            let _ = ack.send(&invalid_payload(&err, r#"{ "jobId": "01K…" }"#));
            return;
        }
    };
    if let Some(refusal) = over_limits(&socket, &state.limits, &job_room(&request.job_id)) {
        let _ = ack.send(&refusal);
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
    Subscriptions::of(&socket)
        .rooms()
        .insert(job_room(&request.job_id));
    status.history.clear();
    let _ = ack.send(&serde_json::json!({
        "success": true,
        "room": job_room(&request.job_id),
        "status": status,
    }));
}

async fn unsubscribe_job(socket: SocketRef, TryData(payload): TryData<JobRequest>, ack: AckSender) {
    match payload {
        Ok(request) => {
            socket.leave(job_room(&request.job_id));
            Subscriptions::of(&socket)
                .rooms()
                .remove(&job_room(&request.job_id));
            let _ = ack.send(&serde_json::json!({ "success": true }));
        }
        Err(err) => {
            let _ = ack.send(&invalid_payload(&err, r#"{ "jobId": "01K…" }"#));
        }
    }
}
