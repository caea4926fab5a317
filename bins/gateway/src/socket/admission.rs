//! Admission to the Socket.IO namespaces, shared by `/progress` and the compatibility
//! namespaces: the handshake token, the per-IP connection limit, the per-connection subscribe
//! rate and subscription limits, and the user room a token's `sub` joins.

use std::collections::HashSet;
use std::sync::Arc;

use socketioxide::extract::SocketRef;

use super::SocketState;
use crate::auth::{AuthError, Claims};
use crate::limits::Limits;

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

/// Checks the per-connection limits of a subscribe call to `room`: `Some(message)` of the
/// `rate_limited` refusal when the call is over them.
pub(crate) fn over_limits(socket: &SocketRef, limits: &Limits, room: &str) -> Option<String> {
    let allowed = socket
        .extensions
        .get::<Arc<governor::DefaultDirectRateLimiter>>()
        .is_none_or(|limiter| limiter.check().is_ok());
    if !allowed {
        return Some("too many subscribe calls; slow down".to_owned());
    }
    let subscriptions = Subscriptions::of(socket);
    let rooms = subscriptions.rooms();
    if !rooms.contains(room) && rooms.len() >= limits.max_subscriptions {
        let most = limits.max_subscriptions;
        return Some(format!("at most {most} subscriptions per connection"));
    }
    None
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
