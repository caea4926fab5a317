//! The relay: tails the global progress stream and emits each message to its event's room,
//! in `seq` order, and hands subscribers over from history replay to live delivery with no gap
//! and no duplicate.
//!
//! The hand-over works like this. A subscriber first registers as *pending* for its event
//! (under the gate lock); from then on the relay copies every message of that event into the
//! subscriber's buffer. The subscriber replays the event's history from Redis up to the newest
//! message (seq H), then, under the gate lock again, emits the buffered messages with seq > H
//! and becomes a *joiner* that has everything up to some seq F. It does not join the room
//! itself: the relay may already hold a batch read from the stream before the subscriber
//! registered, with messages the replay also sent. Instead the relay, when it is about to emit
//! the first message of that event with seq > F, joins the socket to the room first. Every
//! message is thus delivered exactly once: from history if it was in Redis at replay time,
//! else from the buffer or the room. (Per event, the stream carries messages in seq order: one
//! Lua script stamps the seq and appends to both.) A socket can already be in other rooms a
//! message goes to (its user's room `user:<userId>`, a job's room): during its hand-over it is
//! also in `replay:<eventId>`, which every emit of that event leaves out.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use finishline_bus::{ProgressBus, StreamMessage, StreamTail};
use finishline_wire::{EventId, event_room, job_room, replay_room, user_room};
use socketioxide::SocketIo;
use socketioxide::extract::SocketRef;
use socketioxide::socket::Sid;
use socketioxide::{SendError, SocketError};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// Namespace of the progress relay.
pub const NAMESPACE: &str = "/progress";

/// Most messages buffered for one subscriber during its replay.
const PENDING_LIMIT: usize = 100_000;

struct Pending {
    socket: Sid,
    buffer: Vec<StreamMessage>,
    overflowed: bool,
}

/// A subscriber that has every message of its event up to `has`, waiting for the relay to
/// join it to the room just before the next one.
struct Joiner {
    socket: SocketRef,
    has: u64,
}

/// Subscribers between registration and the room, per event.
#[derive(Default)]
struct Waiting {
    pending: HashMap<Arc<str>, Vec<Pending>>,
    joiners: HashMap<Arc<str>, Vec<Joiner>>,
}

/// Subscribers in the middle of a hand-over; the relay holds this lock while it emits.
#[derive(Default)]
pub struct Gate {
    waiting: Mutex<Waiting>,
    /// Native WebSocket subscribers per event: each gets `(seq, frame)` through a bounded
    /// channel; one that cannot keep up is dropped (its connection closes), never waited for.
    native: std::sync::Mutex<HashMap<Arc<str>, Vec<NativeSubscriber>>>,
    /// Watchers of single jobs (`/ws/jobs/{jobId}`).
    pub jobs: crate::job_ws::JobWatchers,
}

struct NativeSubscriber {
    id: u64,
    tx: tokio::sync::mpsc::Sender<(u64, Arc<str>)>,
}

/// The `{ type, data }` frame of the native WebSocket route, built once per message.
pub fn native_frame(message: &StreamMessage) -> Arc<str> {
    Arc::from(format!(
        r#"{{"type":"{}","data":{}}}"#,
        message.name.as_str(),
        message.data.get()
    ))
}

/// Emits one stored message to one socket.
pub fn emit_to_socket(socket: &SocketRef, message: &StreamMessage) -> bool {
    socket.emit(message.name.as_str(), &*message.data).is_ok()
}

/// How long a replay waits for a client to drain its buffer before giving up on it.
const REPLAY_STALL_LIMIT: Duration = Duration::from_secs(10);

/// Emits one message of a replay, waiting while the socket's buffer is full: a replay can be
/// far longer than the buffer, and a message dropped here would be a gap the client never
/// learns of. A client that stays full for [`REPLAY_STALL_LIMIT`] is disconnected, so it
/// reconnects and resubscribes with `since` instead of silently missing messages.
async fn emit_replayed(socket: &SocketRef, message: &StreamMessage) -> bool {
    let started = tokio::time::Instant::now();
    loop {
        match socket.emit(message.name.as_str(), &*message.data) {
            Ok(()) => return true,
            Err(SendError::Socket(SocketError::InternalChannelFull))
                if started.elapsed() < REPLAY_STALL_LIMIT =>
            {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err(err) => {
                tracing::info!(socket = %socket.id, error = %err, "replay could not reach the client; disconnecting it so it resubscribes");
                let _ = socket.clone().disconnect();
                return false;
            }
        }
    }
}

impl Gate {
    /// Subscribes `socket` to `event_id` live, after replaying every message with seq > `after`.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached during the replay; the socket is then not subscribed.
    pub async fn subscribe(
        &self,
        bus: &ProgressBus,
        socket: &SocketRef,
        event_id: &EventId,
        after: u64,
    ) -> Result<(), finishline_bus::BusError> {
        let key: Arc<str> = Arc::from(event_id.as_str());
        self.waiting
            .lock()
            .await
            .pending
            .entry(key.clone())
            .or_default()
            .push(Pending {
                socket: socket.id,
                buffer: Vec::new(),
                overflowed: false,
            });
        socket.join(replay_room(event_id));
        let replayed = self.replay(bus, socket, event_id, after).await;
        let mut waiting = self.waiting.lock().await;
        let mine = waiting.pending.get_mut(&key).and_then(|list| {
            let index = list.iter().position(|p| p.socket == socket.id)?;
            Some(list.swap_remove(index))
        });
        if waiting.pending.get(&key).is_some_and(Vec::is_empty) {
            waiting.pending.remove(&key);
        }
        let mut last = match replayed {
            Ok(last) => last,
            Err(err) => {
                socket.leave(replay_room(event_id));
                return Err(err);
            }
        };
        let Some(mine) = mine else {
            // Forgotten meanwhile: the socket left or unsubscribed.
            socket.leave(replay_room(event_id));
            return Ok(());
        };
        if mine.overflowed {
            tracing::warn!(socket = %socket.id, event_id = %event_id, "replay buffer overflowed; disconnecting the client so it resubscribes");
            let _ = socket.clone().disconnect();
            return Ok(());
        }
        for message in &mine.buffer {
            if message.seq > last {
                if !emit_to_socket(socket, message) {
                    // Under the gate lock we cannot wait for the client; rather than leave a
                    // gap, close it: it reconnects and resubscribes with `since`.
                    tracing::info!(socket = %socket.id, event_id = %event_id, "client buffer full at hand-over; disconnecting it so it resubscribes");
                    let _ = socket.clone().disconnect();
                    return Ok(());
                }
                last = message.seq;
            }
        }
        waiting.joiners.entry(key).or_default().push(Joiner {
            socket: socket.clone(),
            has: last,
        });
        Ok(())
    }

    async fn replay(
        &self,
        bus: &ProgressBus,
        socket: &SocketRef,
        event_id: &EventId,
        mut after: u64,
    ) -> Result<u64, finishline_bus::BusError> {
        loop {
            let batch = bus.history_range(event_id, after, u64::MAX, 1000).await?;
            let Some(last) = batch.last() else {
                return Ok(after);
            };
            after = last.seq;
            for message in &batch {
                if !emit_replayed(socket, message).await {
                    return Ok(after);
                }
            }
            if batch.len() < 1000 {
                return Ok(after);
            }
        }
    }

    /// Registers a native WebSocket subscriber of an event; live frames arrive on the returned
    /// channel from now on (the caller replays history first and skips what it already sent).
    pub fn attach_native(
        &self,
        event_id: &EventId,
        id: u64,
        capacity: usize,
    ) -> tokio::sync::mpsc::Receiver<(u64, Arc<str>)> {
        let (tx, rx) = tokio::sync::mpsc::channel(capacity.max(16));
        self.native
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(Arc::from(event_id.as_str()))
            .or_default()
            .push(NativeSubscriber { id, tx });
        rx
    }

    /// Forgets a native subscriber.
    pub fn detach_native(&self, event_id: &EventId, id: u64) {
        let mut native = self.native.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(list) = native.get_mut(event_id.as_str()) {
            list.retain(|s| s.id != id);
            if list.is_empty() {
                native.remove(event_id.as_str());
            }
        }
    }

    fn deliver_native(&self, message: &StreamMessage) {
        let mut native = self.native.lock().unwrap_or_else(|e| e.into_inner());
        let Some(list) = native.get_mut(&message.event_id) else {
            return;
        };
        let frame = native_frame(message);
        list.retain(|s| match s.tx.try_send((message.seq, frame.clone())) {
            Ok(()) => true,
            Err(_) => {
                tracing::info!(
                    subscriber = s.id,
                    "native subscriber too slow or gone; dropping it"
                );
                false
            }
        });
        if list.is_empty() {
            native.remove(&message.event_id);
        }
    }

    /// Removes a socket from every hand-over (it disconnected or unsubscribed).
    pub async fn forget(&self, socket: Sid) {
        let mut waiting = self.waiting.lock().await;
        waiting.pending.retain(|_, list| {
            list.retain(|p| p.socket != socket);
            !list.is_empty()
        });
        waiting.joiners.retain(|event_id, list| {
            list.retain(|j| {
                let keep = j.socket.id != socket;
                if !keep {
                    j.socket.leave(replay_room(&**event_id));
                }
                keep
            });
            !list.is_empty()
        });
    }

    /// Copies a message into the buffers of its event's pending subscribers and joins to the
    /// room every joiner that lacks it, so the room emit that follows reaches them. Returns
    /// whether sockets are still in a hand-over to the event (the emit must leave them out).
    fn admit(waiting: &mut Waiting, message: &StreamMessage) -> bool {
        let pending = waiting.pending.contains_key(&message.event_id);
        if let Some(list) = waiting.pending.get_mut(&message.event_id) {
            for p in list.iter_mut() {
                if p.buffer.len() < PENDING_LIMIT {
                    p.buffer.push(message.clone());
                } else {
                    p.overflowed = true;
                }
            }
        }
        if let Some(list) = waiting.joiners.get_mut(&message.event_id) {
            list.retain(|j| {
                if message.seq > j.has {
                    j.socket.join(event_room(&*message.event_id));
                    j.socket.leave(replay_room(&*message.event_id));
                    false
                } else {
                    true
                }
            });
            if list.is_empty() {
                waiting.joiners.remove(&message.event_id);
            }
        }
        pending || waiting.joiners.contains_key(&message.event_id)
    }
}

/// Tails the progress stream until `stop`, emitting to rooms. Redis errors are retried with
/// backoff from the same stream position.
pub async fn run_relay(
    mut tail: StreamTail,
    io: SocketIo,
    gate: Arc<Gate>,
    stop: CancellationToken,
) {
    let mut failures = 0u32;
    loop {
        let batch = tokio::select! {
            () = stop.cancelled() => return,
            batch = tail.next_batch(Duration::from_secs(2), 1000) => batch,
        };
        let batch = match batch {
            Ok(batch) => {
                if failures > 0 {
                    tracing::info!(
                        position = tail.position(),
                        "progress stream reachable again; resuming"
                    );
                    failures = 0;
                }
                batch
            }
            Err(err) => {
                failures += 1;
                let backoff = Duration::from_millis(100 * 2u64.pow(failures.min(6)));
                tracing::warn!(error = %err, ?backoff, position = tail.position(), "reading the progress stream failed; retrying");
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(backoff) => continue,
                }
            }
        };
        if batch.is_empty() {
            continue;
        }
        let Some(namespace) = io.of(NAMESPACE) else {
            continue;
        };
        let mut waiting = gate.waiting.lock().await;
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        metrics::counter!("finishline_gateway_messages_relayed_total")
            .increment(batch.len() as u64);
        for message in batch {
            if let Some(published) = message.published_ms {
                metrics::histogram!("finishline_gateway_relay_lag_seconds")
                    .record(now_ms.saturating_sub(published) as f64 / 1000.0);
            }
            let in_hand_over = Gate::admit(&mut waiting, &message);
            gate.deliver_native(&message);
            gate.jobs.deliver(&message);
            let mut target = namespace.clone().to(event_room(&*message.event_id));
            let job = message.job_id.as_deref().map(job_room);
            let owner = message.owner.as_deref().map(user_room);
            for room in [job, owner].into_iter().flatten() {
                // Most messages have nobody in their job's or owner's room. Naming only rooms
                // with members spares the emit its de-duplication of sockets across rooms (a
                // set of every socket reached, built per message).
                if !namespace.clone().to(room.clone()).sockets().is_empty() {
                    target = target.to(room);
                }
            }
            if in_hand_over {
                target = target.except(replay_room(&*message.event_id));
            }
            metrics::counter!("finishline_gateway_messages_emitted_total").increment(1);
            if let Err(err) = target.emit(message.name.as_str(), &*message.data).await {
                tracing::debug!(error = %err, "emit to room failed for some sockets");
            }
            crate::compat::relay(&io, &message).await;
        }
        drop(waiting);
    }
}
