//! The native WebSocket route `GET /ws/events/{eventId}?token=…&since=…` for clients that do
//! not speak Socket.IO: a first `{ type: "snapshot", data }` frame, then the same messages as
//! Socket.IO, as `{ type, data }` text frames, in `seq` order; `ping` is answered with `pong`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use finishline_bus::ProgressBus;
use finishline_wire::EventId;
use serde::Deserialize;
use serde_json::json;

use crate::auth::{Authenticator, Claims, bearer_token};
use crate::relay::{Gate, native_frame};
use crate::resume::Resume;

/// What the route needs.
#[derive(Clone)]
pub struct NativeState {
    pub bus: ProgressBus,
    pub gate: Arc<Gate>,
    pub auth: Authenticator,
    pub buffer: usize,
}

#[derive(Debug, Deserialize)]
pub struct NativeQuery {
    token: Option<String>,
    since: Option<u64>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) fn refuse(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        axum::Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

/// The id in a native WebSocket's path and the claims of its token (query `token`, else
/// `Authorization: Bearer`), or the refusal to answer the upgrade with: 400 for a bad id, 401
/// for a bad token.
#[allow(clippy::result_large_err)] // the refusal is the upgrade's whole answer
pub(crate) fn authorize<Id, E: std::fmt::Display>(
    auth: &Authenticator,
    id: Result<Id, E>,
    query_token: Option<&str>,
    headers: &HeaderMap,
) -> Result<(Id, Claims), Response> {
    let id =
        id.map_err(|err| refuse(StatusCode::BAD_REQUEST, "invalid_payload", err.to_string()))?;
    let token = query_token.or_else(|| bearer_token(headers));
    let claims = auth
        .verify(token)
        .map_err(|err| refuse(StatusCode::UNAUTHORIZED, "unauthorized", err.to_string()))?;
    Ok((id, claims))
}

pub async fn upgrade(
    State(state): State<NativeState>,
    Path(event_id): Path<String>,
    query: Result<Query<NativeQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, Response> {
    let Ok(Query(query)) = query else {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "invalid_payload",
            "since must be a number".into(),
        ));
    };
    let (event_id, claims) = authorize(
        &state.auth,
        EventId::parse(event_id),
        query.token.as_deref(),
        &headers,
    )?;
    if !claims.may_watch(event_id.as_str()) {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("your token does not allow watching event {event_id}"),
        ));
    }
    Ok(ws
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| serve(socket, state, event_id, query.since)))
}

async fn serve(mut socket: WebSocket, state: NativeState, event_id: EventId, since: Option<u64>) {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    // Attach first: from here on every live message of the event reaches the channel.
    let mut live = state.gate.attach_native(&event_id, id, state.buffer);
    let result = run(&mut socket, &state, &event_id, since, &mut live).await;
    state.gate.detach_native(&event_id, id);
    close(&mut socket, result, id, &event_id).await;
}

/// Ends a native WebSocket (watcher `id` of event or job `of`): logs why, when the server
/// ended it, and sends the close frame.
pub(crate) async fn close(
    socket: &mut WebSocket,
    result: Result<(), &'static str>,
    id: u64,
    of: &(dyn std::fmt::Display + Sync),
) {
    if let Err(reason) = result {
        tracing::debug!(watcher = id, of = %of, reason, "native websocket closed");
    }
    let _ = socket.send(Message::Close(None)).await;
}

async fn run(
    socket: &mut WebSocket,
    state: &NativeState,
    event_id: &EventId,
    since: Option<u64>,
    live: &mut tokio::sync::mpsc::Receiver<(u64, Arc<str>)>,
) -> Result<(), &'static str> {
    let snapshot = state
        .bus
        .snapshot(event_id)
        .await
        .map_err(|_| "store unavailable")?;
    let resume = Resume::of(&state.bus, event_id, snapshot.last_seq, since).await;
    let Resume {
        after: mut last,
        recovered,
    } = resume.map_err(|_| "store unavailable")?;
    let mut first = json!({ "type": "snapshot", "data": snapshot });
    if let Some(recovered) = recovered {
        first["recovered"] = json!(recovered);
    }
    send(socket, first.to_string()).await?;
    loop {
        let batch = state
            .bus
            .history_range(event_id, last, u64::MAX, 1000)
            .await
            .map_err(|_| "store unavailable")?;
        for message in &batch {
            send(socket, native_frame(message).to_string()).await?;
            last = message.seq;
        }
        if batch.len() < 1000 {
            break;
        }
    }
    loop {
        tokio::select! {
            frame = live.recv() => {
                let Some((seq, frame)) = frame else { return Err("too slow: dropped by the relay") };
                if seq > last {
                    send(socket, frame.to_string()).await?;
                    last = seq;
                }
            }
            incoming = socket.recv() => if !answer(socket, incoming).await? {
                return Ok(());
            },
        }
    }
}

/// Sends one text frame.
pub(crate) async fn send(socket: &mut WebSocket, text: String) -> Result<(), &'static str> {
    socket
        .send(Message::Text(text.into()))
        .await
        .map_err(|_| "send failed")
}

/// Answers what a client sent on a native WebSocket: `ping` (bare or as `{"type":"ping"}`)
/// gets `{"type":"pong"}`; anything else is ignored. `false` once the client has closed.
pub(crate) async fn answer(
    socket: &mut WebSocket,
    incoming: Option<Result<Message, axum::Error>>,
) -> Result<bool, &'static str> {
    match incoming {
        Some(Ok(Message::Text(text))) => {
            let text = text.as_str().trim();
            if text == "ping" || text.contains(r#""ping""#) {
                send(socket, r#"{"type":"pong"}"#.to_owned()).await?;
            }
            Ok(true)
        }
        Some(Ok(Message::Close(_))) | None => Ok(false),
        Some(Ok(_)) => Ok(true),
        Some(Err(_)) => Err("receive failed"),
    }
}
