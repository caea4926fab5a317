//! Replay for the job subscriptions of the compatibility namespaces: `subscribe:jobs
//! { jobId, since }` and `subscribe:file { fileId, since }` get every message of the job with a
//! larger `seq` that its history holds (its last 100), in order, then its live ones, with no gap
//! and no duplicate, like `/progress` with `since`.
//!
//! Such a subscriber does not join the job's room: it watches the job the way `/ws/jobs` does
//! (attached to the relay before the history is read, skipping what the history already gave)
//! and a task emits to its socket alone. The task ends with the job, the socket, or the
//! unsubscribe.

use finishline_bus::StreamMessage;
use finishline_wire::{JobId, MessageName, job_room};
use serde_json::Value;
use socketioxide::extract::SocketRef;

use super::JobMessage;
use crate::job_ws::{job_status, next_watcher_id};
use crate::socket::{SocketState, is_subscribed};

/// A namespace's mapping of a job's message to its event and payload.
pub type Mapper = fn(&JobMessage<'_>) -> Option<(&'static str, Value)>;

/// Most live messages held for one follower before it is dropped as too slow.
const FOLLOW_BUFFER: usize = 1024;

/// Replays the job's messages after `since` to `socket`, then follows it live.
pub fn follow(socket: SocketRef, state: SocketState, job_id: JobId, since: u64, map: Mapper) {
    tokio::spawn(async move {
        let id = next_watcher_id();
        let mut live = state.gate.jobs.attach(&job_id, id, FOLLOW_BUFFER);
        if let Err(reason) = run(&socket, &state, &job_id, since, map, &mut live).await {
            tracing::debug!(socket = %socket.id, job_id = %job_id, reason, "job follower stopped");
        }
        state.gate.jobs.detach(&job_id, id);
    });
}

async fn run(
    socket: &SocketRef,
    state: &SocketState,
    job_id: &JobId,
    since: u64,
    map: Mapper,
    live: &mut tokio::sync::mpsc::Receiver<StreamMessage>,
) -> Result<(), &'static str> {
    let status = job_status(&state.bus, job_id).await?;
    let room = job_room(job_id);
    let mut last = since;
    for entry in &status.history {
        let Some(seq) = entry["data"]["seq"].as_u64().filter(|seq| *seq > last) else {
            continue;
        };
        last = seq;
        let name = entry["type"].as_str().and_then(MessageName::parse);
        if let (Some(name), Value::Object(data)) = (name, &entry["data"]) {
            let job = JobMessage {
                name,
                job_id: job_id.as_str(),
                owner: status.owner.as_deref(),
                data: data.clone(),
            };
            emit(socket, map, &job)?;
        }
    }
    if status.state.is_terminal() {
        return Ok(());
    }
    while let Some(message) = live.recv().await {
        if !socket.connected() || !is_subscribed(socket, &room) {
            return Ok(());
        }
        if message.seq <= last {
            continue;
        }
        last = message.seq;
        if let Some(job) = JobMessage::of(&message) {
            emit(socket, map, &job)?;
        }
        if message.name.ends_job() {
            return Ok(());
        }
    }
    Err("too slow: dropped by the relay")
}

fn emit(socket: &SocketRef, map: Mapper, job: &JobMessage<'_>) -> Result<(), &'static str> {
    let Some((event, payload)) = map(job) else {
        return Ok(());
    };
    socket.emit(event, &payload).map_err(|_| {
        // A gap the client would never learn of: close it, so it resubscribes with `since`.
        let _ = socket.clone().disconnect();
        "the client's buffer is full"
    })
}
