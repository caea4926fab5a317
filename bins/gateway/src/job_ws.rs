//! The per-job native WebSocket `GET /ws/jobs/{jobId}` (alias `/ws/download/{jobId}`, seed
//! 003's path): a first `{ type: "status", data }` frame with the job's current state, then one
//! status frame per message of the job, in `seq` order; `ping` is answered with `pong`. Same
//! auth as `/ws/events/{eventId}`: a token (query `token` or `Authorization: Bearer`) that may
//! watch the job's event, or whose `sub` owns the job.
//!
//! `data` is the job as seed 003 shows it: `jobId`, `status` (`queued`, `processing`,
//! `completed`, `failed`; a cancelled job is `failed` with `error: "cancelled"`), `progress`,
//! and finishline's own fields beside them (`state`, `stage`, `kind`, `eventId`, `photoId` or
//! `videoId`, `attempts`, `position`, `result`, `error`, `code`, `seq`, `ts`).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use finishline_bus::{ProgressBus, StreamMessage};
use finishline_wire::{JobId, JobState, JobStatus, MessageName};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::native_ws::{NativeState, answer, authorize, close, refuse, send};

/// Watchers of single jobs: each gets the job's messages through a bounded channel; one that
/// cannot keep up is dropped (its connection closes), never waited for.
#[derive(Default)]
pub struct JobWatchers {
    watchers: std::sync::Mutex<WatchersByJob>,
}

/// Per job id: each watcher's id and channel.
type WatchersByJob = HashMap<Arc<str>, Vec<(u64, mpsc::Sender<StreamMessage>)>>;

impl JobWatchers {
    /// Registers watcher `id` (from [`next_watcher_id`]) of a job; its live messages arrive
    /// on the returned channel from now on.
    pub(crate) fn attach(
        &self,
        job_id: &JobId,
        id: u64,
        capacity: usize,
    ) -> mpsc::Receiver<StreamMessage> {
        let (tx, rx) = mpsc::channel(capacity.max(16));
        self.lock()
            .entry(Arc::from(job_id.as_str()))
            .or_default()
            .push((id, tx));
        rx
    }

    /// Forgets a watcher.
    pub(crate) fn detach(&self, job_id: &JobId, id: u64) {
        let mut watchers = self.lock();
        if let Some(list) = watchers.get_mut(job_id.as_str()) {
            list.retain(|(watcher, _)| *watcher != id);
            if list.is_empty() {
                watchers.remove(job_id.as_str());
            }
        }
    }

    /// Hands a relayed message to the watchers of its job (called by the relay, in order).
    pub fn deliver(&self, message: &StreamMessage) {
        let Some(job_id) = &message.job_id else {
            return;
        };
        let mut watchers = self.lock();
        let Some(list) = watchers.get_mut(&**job_id) else {
            return;
        };
        list.retain(|(id, tx)| match tx.try_send(message.clone()) {
            Ok(()) => true,
            Err(_) => {
                tracing::info!(watcher = id, "job watcher too slow or gone; dropping it");
                false
            }
        });
        if list.is_empty() {
            watchers.remove(&**job_id);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WatchersByJob> {
        self.watchers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[derive(Debug, Deserialize)]
pub struct JobQuery {
    token: Option<String>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A watcher id no other watcher of any job has.
pub(crate) fn next_watcher_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

pub async fn upgrade(
    State(state): State<NativeState>,
    Path(job_id): Path<String>,
    Query(query): Query<JobQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, Response> {
    let (job_id, claims) = authorize(
        &state.auth,
        JobId::parse(job_id),
        query.token.as_deref(),
        &headers,
    )?;
    let status = match state.bus.job_status(&job_id).await {
        Ok(status) => status,
        Err(err) => {
            tracing::error!(error = %err, job_id = %job_id, "job lookup failed");
            return Err(refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the job store is unavailable; retry later".into(),
            ));
        }
    };
    // Someone who may not watch the job learns nothing of it, not even that it exists.
    let allowed = status.as_ref().is_some_and(|s| {
        claims.may_watch(&s.event_id)
            || (claims.sub.is_some() && claims.sub.as_deref() == s.owner.as_deref())
    });
    if !allowed {
        return Err(refuse(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no job {job_id} (unknown, expired, or not yours to watch)"),
        ));
    }
    Ok(ws
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| serve(socket, state, job_id)))
}

async fn serve(mut socket: WebSocket, state: NativeState, job_id: JobId) {
    let id = next_watcher_id();
    // Attach first: from here on every live message of the job reaches the channel.
    let mut live = state.gate.jobs.attach(&job_id, id, state.buffer);
    let result = run(&mut socket, &state, &job_id, &mut live).await;
    state.gate.jobs.detach(&job_id, id);
    close(&mut socket, result, id, &job_id).await;
}

async fn run(
    socket: &mut WebSocket,
    state: &NativeState,
    job_id: &JobId,
    live: &mut mpsc::Receiver<StreamMessage>,
) -> Result<(), &'static str> {
    let status = job_status(&state.bus, job_id).await?;
    // Messages already in the job's history are in the status; later ones come live.
    let mut last = status
        .history
        .iter()
        .filter_map(|m| m["data"]["seq"].as_u64())
        .max()
        .unwrap_or(0);
    let mut view = JobView::of(&status);
    send(socket, view.frame()).await?;
    loop {
        tokio::select! {
            message = live.recv() => {
                let Some(message) = message else { return Err("too slow: dropped by the relay") };
                if message.seq > last {
                    last = message.seq;
                    if view.apply(&message) {
                        send(socket, view.frame()).await?;
                    }
                }
            }
            incoming = socket.recv() => if !answer(socket, incoming).await? {
                return Ok(());
            },
        }
    }
}

/// The status of a watched job, or why its connection closes: the store is unavailable, or
/// the job expired since the upgrade looked it up.
pub(crate) async fn job_status(
    bus: &ProgressBus,
    job_id: &JobId,
) -> Result<JobStatus, &'static str> {
    bus.job_status(job_id)
        .await
        .map_err(|_| "store unavailable")?
        .ok_or("job expired")
}

/// A job as seed 003's status frames show it, kept up to date message by message.
struct JobView(Map<String, Value>);

/// Seed 003's `status` of a finishline state.
fn seed_status(state: JobState) -> &'static str {
    match state {
        JobState::Queued => "queued",
        JobState::Running => "processing",
        JobState::Succeeded => "completed",
        JobState::Failed | JobState::Cancelled => "failed",
    }
}

impl JobView {
    fn of(status: &JobStatus) -> Self {
        let mut view = Map::new();
        view.insert("jobId".into(), json!(status.job_id));
        view.insert("status".into(), json!(seed_status(status.state)));
        view.insert("state".into(), json!(status.state));
        view.insert("progress".into(), json!(status.progress));
        view.insert("stage".into(), json!(status.stage));
        view.insert("kind".into(), json!(status.kind));
        view.insert("eventId".into(), json!(status.event_id));
        view.insert(status.kind.id_field().into(), json!(status.media_id));
        view.insert("requestId".into(), json!(status.request_id));
        view.insert("attempts".into(), json!(status.attempts));
        if let Some(result) = &status.result {
            view.insert("result".into(), result.clone());
        }
        match (status.state, &status.error) {
            (JobState::Cancelled, _) => {
                view.insert("error".into(), json!("cancelled"));
            }
            (_, Some(error)) => {
                view.insert("error".into(), json!(error));
            }
            _ => {}
        }
        Self(view)
    }

    fn set(&mut self, field: &str, value: Value) {
        self.0.insert(field.to_owned(), value);
    }

    /// Applies one message of the job; false when it changes nothing a status frame shows.
    fn apply(&mut self, message: &StreamMessage) -> bool {
        let Ok(Value::Object(data)) = serde_json::from_str::<Value>(message.data.get()) else {
            return false;
        };
        let field = |name: &str| data.get(name).cloned().unwrap_or(Value::Null);
        let (status, state) = match message.name {
            MessageName::JobQueued => {
                self.set("position", field("position"));
                self.set("progress", json!(0));
                ("queued", JobState::Queued)
            }
            MessageName::JobStarted => {
                self.set("attempts", field("attempt"));
                ("processing", JobState::Running)
            }
            MessageName::PhotoProgress | MessageName::VideoProgress => {
                self.set("progress", field("progress"));
                self.set("stage", field("stage"));
                ("processing", JobState::Running)
            }
            MessageName::PhotoCompleted | MessageName::VideoCompleted => {
                self.set("progress", json!(100));
                let mut result = data.clone();
                for common in ["eventId", "requestId", "seq", "ts", "jobId"] {
                    result.remove(common);
                }
                self.set("result", Value::Object(result));
                ("completed", JobState::Succeeded)
            }
            MessageName::PhotoFailed | MessageName::VideoFailed => {
                self.set("error", field("error"));
                self.set("code", field("code"));
                ("failed", JobState::Failed)
            }
            MessageName::PhotoCancelled | MessageName::VideoCancelled => {
                self.set("error", json!("cancelled"));
                ("failed", JobState::Cancelled)
            }
            MessageName::EventProgress | MessageName::EventCompleted => return false,
        };
        self.set("status", json!(status));
        self.set("state", json!(state));
        self.set("seq", json!(message.seq));
        self.set("ts", field("ts"));
        true
    }

    fn frame(&self) -> String {
        json!({ "type": "status", "data": self.0 }).to_string()
    }
}

#[cfg(test)]
mod tests {
    use finishline_wire::JobKind;

    use super::*;

    fn status(state: JobState) -> JobStatus {
        JobStatus {
            job_id: "j1".into(),
            kind: JobKind::Video,
            event_id: "e1".into(),
            media_id: "v1".into(),
            request_id: "r1".into(),
            state,
            owner: Some("u1".into()),
            stage: None,
            progress: 0,
            attempts: 0,
            result: None,
            error: None,
            history: Vec::new(),
        }
    }

    fn message(name: MessageName, seq: u64, data: Value) -> StreamMessage {
        StreamMessage {
            event_id: Arc::from("e1"),
            name,
            seq,
            data: Arc::from(serde_json::value::RawValue::from_string(data.to_string()).unwrap()),
            job_id: Some(Arc::from("j1")),
            published_ms: None,
            owner: None,
        }
    }

    fn data(view: &JobView) -> Value {
        serde_json::from_str::<Value>(&view.frame()).unwrap()["data"].clone()
    }

    #[test]
    fn a_job_reads_as_seed_003_status_frames_from_queued_to_completed() {
        let mut view = JobView::of(&status(JobState::Queued));
        let first = data(&view);
        assert_eq!(first["status"], "queued");
        assert_eq!(first["videoId"], "v1");
        assert!(view.apply(&message(
            MessageName::JobStarted,
            2,
            json!({ "attempt": 1 })
        )));
        assert_eq!(data(&view)["status"], "processing");
        assert_eq!(data(&view)["attempts"], 1);
        let progress = json!({ "progress": 40, "stage": "frames", "ts": "t" });
        assert!(view.apply(&message(MessageName::VideoProgress, 3, progress)));
        assert_eq!(data(&view)["progress"], 40);
        assert_eq!(data(&view)["stage"], "frames");
        let done = json!({ "jobId": "j1", "seq": 4, "plates": [], "durationMs": 5 });
        assert!(view.apply(&message(MessageName::VideoCompleted, 4, done)));
        let last = data(&view);
        assert_eq!(last["status"], "completed");
        assert_eq!(last["progress"], 100);
        assert_eq!(last["result"], json!({ "plates": [], "durationMs": 5 }));
        assert!(!view.apply(&message(MessageName::EventProgress, 5, json!({}))));
    }

    #[test]
    fn a_cancelled_job_is_failed_with_error_cancelled() {
        assert_eq!(
            data(&JobView::of(&status(JobState::Cancelled)))["error"],
            "cancelled"
        );
        let mut view = JobView::of(&status(JobState::Running));
        assert!(view.apply(&message(MessageName::VideoCancelled, 9, json!({}))));
        let frame = data(&view);
        assert_eq!(frame["status"], "failed");
        assert_eq!(frame["state"], "cancelled");
        assert_eq!(frame["error"], "cancelled");
    }
}
