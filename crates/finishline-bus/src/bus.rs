//! The bus as the gateway uses it: snapshots, history, job status, cancellation (a job end
//! outside any worker). Workers write through [`crate::BusWriter`].

use std::collections::HashMap;

use finishline_redis::RedisConn;
use finishline_redis::scripts::batch::{Batch, End, Ended, Reply};
use finishline_redis::{BusLimits, EVENT_GROUPS, query_each};
use finishline_wire::{
    EventCounts, EventId, EventSnapshot, JobId, JobKind, JobState, JobStatus, MediaId, MessageName,
    Stage, now_rfc3339,
};

use crate::tail::{StreamMessage, parse_entry};
use crate::{BusError, Keys};

/// What a run of a job may do, as decided by Redis when it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// The job is live; this run holds fencing token `run` and is attempt `attempt` (1-based).
    Started { run: u64, attempt: u32 },
    /// The job has ended already (a duplicate delivery, or it was cancelled): skip it.
    AlreadyEnded,
}

/// The terminal message of a job.
#[derive(Debug, Clone)]
pub struct Finish<'a> {
    pub state: JobState,
    pub name: MessageName,
    /// The message body as a JSON object, without the common fields.
    pub body: &'a str,
    /// The result kept for `GET /v1/jobs/{jobId}` (JSON), when the job succeeded.
    pub result: Option<&'a str>,
    /// The error kept for `GET /v1/jobs/{jobId}`, when it failed.
    pub error: Option<&'a str>,
}

/// A handle on the bus; cheap to clone (one multiplexed connection).
#[derive(Clone)]
pub struct ProgressBus {
    conn: RedisConn,
    keys: Keys,
    limits: BusLimits,
}

impl ProgressBus {
    pub fn new(conn: RedisConn, keys: Keys, limits: BusLimits) -> Self {
        Self { conn, keys, limits }
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    pub fn limits(&self) -> &BusLimits {
        &self.limits
    }

    pub fn connection(&self) -> RedisConn {
        self.conn.clone()
    }

    /// Whether run `run` still owns a live job: false once the job has ended (cancelled) or a
    /// newer run took it over. Long runs (videos) ask between frames.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn run_is_current(&self, job_id: &JobId, run: u64) -> Result<bool, BusError> {
        let (state, current): (Option<String>, Option<u64>) = redis::cmd("HMGET")
            .arg(self.keys.job(job_id))
            .arg("state")
            .arg("run")
            .query_async(&mut self.conn.clone())
            .await?;
        let live = state
            .as_deref()
            .and_then(JobState::parse)
            .is_some_and(|s| !s.is_terminal());
        Ok(live && current == Some(run))
    }

    /// Failed jobs, newest first: `(jobId, failed at in Unix ms)`, at most `limit` from `offset`.
    /// Each event group keeps its own failed set: the newest `offset + limit` of each, read
    /// together, are merged.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn failed_jobs(
        &self,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<(String, u64)>, BusError> {
        let stop = (offset + limit).saturating_sub(1);
        let reads: Vec<redis::Cmd> = (0..EVENT_GROUPS)
            .map(|group| {
                let mut cmd = redis::cmd("ZREVRANGE");
                cmd.arg(self.keys.failed(group))
                    .arg(0)
                    .arg(stop)
                    .arg("WITHSCORES");
                cmd
            })
            .collect();
        let groups: Vec<Vec<(String, u64)>> = query_each(&self.conn, &reads).await?;
        let mut all: Vec<(String, u64)> = groups.into_iter().flatten().collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(all.into_iter().skip(offset).take(limit).collect())
    }

    /// Ends a job exactly once, counts it, and publishes its terminal message, then
    /// `event:progress`, then `event:completed` when the event has drained.
    ///
    /// `run` fences the call: `Some(run)` ends the job only if that run still owns it; `None`
    /// ends it whatever runs (cancellation). Returns whether this call ended the job.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn finish(
        &self,
        job_id: &JobId,
        run: Option<u64>,
        finish: Finish<'_>,
    ) -> Result<bool, BusError> {
        match self.event_of_job(job_id).await? {
            Some(event_id) => self.finish_in(&event_id, job_id, run, finish).await,
            None => Ok(false),
        }
    }

    /// [`Self::finish`] of a job of `event_id`.
    async fn finish_in(
        &self,
        event_id: &EventId,
        job_id: &JobId,
        run: Option<u64>,
        finish: Finish<'_>,
    ) -> Result<bool, BusError> {
        let ts = now_rfc3339();
        let end = End {
            run: run.unwrap_or(0),
            state: finish.state,
            name: finish.name,
            body: finish.body,
            ts: &ts,
            result: finish.result.unwrap_or(""),
            error: finish.error.unwrap_or(""),
        };
        let mut batch = Batch::new(&self.limits);
        batch.finish(
            &self.keys.event_keys(event_id),
            &self.keys.job_keys(job_id),
            &end,
            None,
        );
        match batch.run(&mut self.conn.clone()).await?[..] {
            [Reply::Finish(Ended::WrongEvent)] => Err(BusError::Malformed(format!(
                "job {job_id} is not of event {event_id}"
            ))),
            [Reply::Finish(ended)] => Ok(ended == Ended::Now),
            ref other => Err(BusError::Malformed(format!("a job end answered {other:?}"))),
        }
    }

    /// The event of a job, or `None` when the job is unknown (never enqueued, or expired).
    ///
    /// # Errors
    /// Fails when Redis cannot be reached or holds a malformed event id.
    pub async fn event_of_job(&self, job_id: &JobId) -> Result<Option<EventId>, BusError> {
        let event: Option<String> = redis::cmd("HGET")
            .arg(self.keys.job(job_id))
            .arg("eventId")
            .query_async(&mut self.conn.clone())
            .await?;
        event
            .map(|e| {
                EventId::parse(e)
                    .map_err(|err| BusError::Malformed(format!("event of job {job_id}: {err}")))
            })
            .transpose()
    }

    /// The counters of an event and the last `seq` it published.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn snapshot(&self, event_id: &EventId) -> Result<EventSnapshot, BusError> {
        let values: Vec<Option<u64>> = redis::cmd("HMGET")
            .arg(self.keys.event(event_id))
            .arg(&[
                "totalPhotos",
                "processedPhotos",
                "succeeded",
                "failed",
                "cancelled",
                "totalVideos",
                "processedVideos",
                "seq",
            ])
            .query_async(&mut self.conn.clone())
            .await?;
        let v = |i: usize| values.get(i).copied().flatten().unwrap_or(0);
        Ok(EventSnapshot {
            event_id: event_id.to_string(),
            counts: EventCounts {
                total_photos: v(0),
                processed_photos: v(1),
                succeeded: v(2),
                failed: v(3),
                cancelled: v(4),
                total_videos: v(5),
                processed_videos: v(6),
            },
            last_seq: v(7),
        })
    }

    /// The smallest `seq` still held in an event's history, if any.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached or holds a malformed entry.
    pub async fn history_start(&self, event_id: &EventId) -> Result<Option<u64>, BusError> {
        let first = self.history_range(event_id, 0, u64::MAX, 1).await?;
        Ok(first.first().map(|m| m.seq))
    }

    /// Messages of an event with `after < seq <= until`, oldest first, at most `count`.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached or holds a malformed entry.
    pub async fn history_range(
        &self,
        event_id: &EventId,
        after: u64,
        until: u64,
        count: usize,
    ) -> Result<Vec<StreamMessage>, BusError> {
        let end = if until == u64::MAX {
            "+".to_owned()
        } else {
            format!("{until}-0")
        };
        let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(self.keys.history(event_id))
            .arg(format!("({after}-0"))
            .arg(end)
            .arg("COUNT")
            .arg(count)
            .query_async(&mut self.conn.clone())
            .await?;
        reply
            .ids
            .iter()
            .map(|entry| parse_entry(entry, Some(event_id.as_str())))
            .collect()
    }

    /// The state of a job with its last 100 messages, or `None` when it is unknown (never
    /// enqueued, or expired after the retention period).
    ///
    /// # Errors
    /// Fails when Redis cannot be reached or holds a malformed job.
    pub async fn job_status(&self, job_id: &JobId) -> Result<Option<JobStatus>, BusError> {
        let mut conn = self.conn.clone();
        let (fields, history): (HashMap<String, String>, Vec<String>) = redis::pipe()
            .cmd("HGETALL")
            .arg(self.keys.job(job_id))
            .cmd("LRANGE")
            .arg(self.keys.job_history(job_id))
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await?;
        if fields.is_empty() {
            return Ok(None);
        }
        let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
        let number = |name: &str| fields.get(name).and_then(|v| v.parse().ok()).unwrap_or(0);
        let state = JobState::parse(&field("state")).ok_or_else(|| {
            BusError::Malformed(format!("job {job_id} has state {:?}", field("state")))
        })?;
        Ok(Some(JobStatus {
            job_id: job_id.to_string(),
            kind: if field("kind") == "video" {
                JobKind::Video
            } else {
                JobKind::Photo
            },
            event_id: field("eventId"),
            media_id: field("mediaId"),
            request_id: field("requestId"),
            state,
            owner: fields.get("owner").filter(|o| !o.is_empty()).cloned(),
            stage: Stage::parse(&field("stage")),
            progress: number("progress").min(100) as u8,
            attempts: number("attempts") as u32,
            result: fields
                .get("result")
                .and_then(|r| serde_json::from_str(r).ok()),
            error: fields.get("error").cloned(),
            history: history
                .iter()
                .filter_map(|h| serde_json::from_str(h).ok())
                .collect(),
        }))
    }

    /// Cancels a job: a queued job never runs; a running one stops at its next stage
    /// boundary (its next progress message is refused). Counts and `photo:cancelled` /
    /// `video:cancelled` follow, exactly once. Returns the job's state after the call, or
    /// `None` when the job is unknown.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn cancel(&self, job_id: &JobId) -> Result<Option<(JobStatus, bool)>, BusError> {
        let Some(status) = self.job_status(job_id).await? else {
            return Ok(None);
        };
        if status.state.is_terminal() {
            return Ok(Some((status, false)));
        }
        let (name, id_field) = match status.kind {
            JobKind::Photo => (MessageName::PhotoCancelled, "photoId"),
            JobKind::Video => (MessageName::VideoCancelled, "videoId"),
        };
        let body =
            serde_json::json!({ id_field: status.media_id, "jobId": status.job_id }).to_string();
        let event_id = EventId::parse(&status.event_id)
            .map_err(|err| BusError::Malformed(format!("event of job {job_id}: {err}")))?;
        let cancelled = self
            .finish_in(
                &event_id,
                job_id,
                None,
                Finish {
                    state: JobState::Cancelled,
                    name,
                    body: &body,
                    result: None,
                    error: None,
                },
            )
            .await?;
        if cancelled {
            // The bib index lives as long as the event's other keys, which this end renewed.
            if let Err(err) = self.renew_bib_index(&event_id).await {
                tracing::warn!(error = %err, event_id = %event_id, "bib index TTL not renewed");
            }
        }
        let status = self.job_status(job_id).await?.unwrap_or(status);
        Ok(Some((status, cancelled)))
    }

    /// The job of an event's photo or video, or `None` when it was never enqueued (or has
    /// expired).
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn job_of_media(
        &self,
        event_id: &EventId,
        kind: JobKind,
        media_id: &MediaId,
    ) -> Result<Option<String>, BusError> {
        Ok(redis::cmd("HGET")
            .arg(self.keys.media_index(event_id, kind))
            .arg(media_id.as_str())
            .query_async(&mut self.conn.clone())
            .await?)
    }

    /// Whether Redis answers.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn ping(&self) -> Result<(), BusError> {
        let _: String = redis::cmd("PING")
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }
}
