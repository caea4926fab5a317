//! Compatibility namespaces: the Socket.IO APIs of the seeds finishline grew from, each a thin
//! mapping over the one relay (no second pipeline, no second read of the stream):
//!
//! - `/file-processing` (seed 000, [`file_processing`]): `subscribe:file { fileId }`,
//!   `processing:started|progress|completed|failed`;
//! - `/jobs` (seed 002, [`jobs`]): `subscribe:jobs { jobId } | { userId } | {}`, `job:update`,
//!   `job:progress`, `job:completed`, `job:error`;
//! - `/queue` (seed 004, [`queue`]): every socket gets `queue-update` for its user's jobs.
//!
//! The relay calls [`relay`] with every message after emitting it to `/progress`, so each
//! namespace sees messages in the same `seq` order. Connect-time auth is `/progress`'s (JWT in
//! `auth.token`, per-IP limit); per-job authorisation is the job's event (the token may watch
//! it) or its owner (the token's `sub`). A job subscription with `since` is replayed from the
//! job's history ([`follow`]); user and all-jobs rooms are live only (docs/PROTOCOL.md,
//! "Compatibility namespaces").

pub mod file_processing;
pub mod follow;
pub mod jobs;
pub mod queue;

use std::sync::atomic::{AtomicUsize, Ordering};

use finishline_bus::StreamMessage;
use finishline_wire::{JobStatus, MessageName};
use serde_json::{Map, Value};
use socketioxide::SocketIo;
use socketioxide::extract::{SocketRef, State, TryData};

use crate::auth::{AuthError, Claims};
use crate::socket::{HandshakeAuth, SocketState, admit};

/// Registers the three namespaces on `io`.
pub fn register(io: &SocketIo) {
    use socketioxide::handler::ConnectHandler;
    let connected = crate::socket::on_connect;
    io.ns(
        file_processing::NAMESPACE,
        connected.with(admission(
            &file_processing::CONNECTED,
            file_processing::setup,
        )),
    );
    io.ns(
        jobs::NAMESPACE,
        connected.with(admission(&jobs::CONNECTED, jobs::setup)),
    );
    io.ns(
        queue::NAMESPACE,
        connected.with(admission(&queue::CONNECTED, queue::setup)),
    );
}

/// A namespace's set-up of an admitted socket: its handlers, its rooms.
type Setup = fn(&SocketRef, &Claims);

/// The connect middleware of a compatibility namespace: `/progress`'s admission (token,
/// per-IP limit), the namespace's count of sockets, then its `setup`. All of it runs before
/// the namespace CONNECT is sent (as for `/progress`), so a client's first emit is heard.
fn admission(
    connected: &'static Connected,
    setup: Setup,
) -> impl FnOnce(
    SocketRef,
    TryData<HandshakeAuth>,
    State<SocketState>,
) -> std::future::Ready<Result<(), AuthError>>
+ Clone
+ Send
+ Sync
+ 'static {
    move |socket, TryData(auth), State(state)| {
        let admitted = admit(&socket, auth.ok().and_then(|a| a.token), &state);
        std::future::ready(admitted.map(|claims| {
            connected.track(&socket);
            setup(&socket, &claims);
        }))
    }
}

/// Sockets connected to one namespace; the relay maps nothing for a namespace nobody uses.
#[derive(Default)]
pub struct Connected(AtomicUsize);

impl Connected {
    pub const fn new() -> Self {
        Self(AtomicUsize::new(0))
    }

    fn any(&self) -> bool {
        self.0.load(Ordering::Relaxed) > 0
    }

    /// Counts a socket in, and out again when it disconnects.
    fn track(&'static self, socket: &SocketRef) {
        self.0.fetch_add(1, Ordering::Relaxed);
        socket.on_disconnect(
            move |socket: SocketRef, State(state): State<SocketState>| async move {
                self.0.fetch_sub(1, Ordering::Relaxed);
                crate::socket::release(&socket, &state);
            },
        );
    }
}

/// One relayed message of a job, parsed once for every namespace that maps it.
pub struct JobMessage<'a> {
    pub name: MessageName,
    pub job_id: &'a str,
    pub owner: Option<&'a str>,
    /// The message as stored: common fields and body.
    pub data: Map<String, Value>,
}

impl<'a> JobMessage<'a> {
    /// A relayed message of a job, parsed; `None` for event messages (no job) or a body that
    /// is not an object.
    pub fn of(message: &'a StreamMessage) -> Option<Self> {
        let job_id = message.job_id.as_deref()?;
        let Ok(Value::Object(data)) = serde_json::from_str::<Value>(message.data.get()) else {
            tracing::warn!(
                seq = message.seq,
                "relayed message is not a JSON object; not mapped"
            );
            return None;
        };
        Some(Self {
            name: message.name,
            job_id,
            owner: message.owner.as_deref(),
            data,
        })
    }
}

impl JobMessage<'_> {
    /// A field of the message, or null.
    pub fn field(&self, name: &str) -> Value {
        self.data.get(name).cloned().unwrap_or(Value::Null)
    }

    /// The photo's or video's id.
    pub fn media_id(&self) -> Value {
        self.data
            .get("photoId")
            .or_else(|| self.data.get("videoId"))
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// The body without the fields every message carries: a completed job's result.
    pub fn result(&self) -> Value {
        let mut result = self.data.clone();
        for common in ["eventId", "requestId", "seq", "ts", "jobId"] {
            result.remove(common);
        }
        Value::Object(result)
    }
}

/// Maps one relayed message into every compatibility namespace that has sockets. Messages
/// that are not about a job (`event:*`) have no counterpart in the seeds.
pub async fn relay(io: &SocketIo, message: &StreamMessage) {
    if message.job_id.is_none() {
        return;
    }
    let wanted = [
        file_processing::CONNECTED.any(),
        jobs::CONNECTED.any(),
        queue::CONNECTED.any() && message.owner.is_some(),
    ];
    if !wanted.contains(&true) {
        return;
    }
    let Some(job) = JobMessage::of(message) else {
        return;
    };
    if wanted[0] {
        file_processing::relay(io, &job).await;
    }
    if wanted[1] {
        jobs::relay(io, &job).await;
    }
    if wanted[2] {
        queue::relay(io, &job).await;
    }
}

/// Whether `claims` may follow a job: it may watch the job's event, or it owns the job.
pub fn may_follow(claims: &Claims, status: &JobStatus) -> bool {
    claims.may_watch(&status.event_id)
        || (claims.sub.is_some() && claims.sub.as_deref() == status.owner.as_deref())
}

/// Emits `event` with `payload` to `rooms` of `namespace`, logging (not failing) when some
/// sockets could not take it.
async fn emit_to(io: &SocketIo, namespace: &str, rooms: Vec<String>, event: &str, payload: &Value) {
    let Some(ns) = io.of(namespace) else {
        return;
    };
    metrics::counter!("finishline_gateway_compat_messages_total", "namespace" => namespace.to_owned())
        .increment(1);
    if let Err(err) = ns.to(rooms).emit(event, payload).await {
        tracing::debug!(error = %err, namespace, event, "emit to room failed for some sockets");
    }
}
