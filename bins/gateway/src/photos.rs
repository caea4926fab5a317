//! `GET /v1/events/{eventId}/photos?cursor=…&limit=…`: every photo of an event, a page at a
//! time, each with its job's state and last message. The dashboard fills its grid from here
//! when the event's message history no longer reaches back to the event's start (an event
//! opened late, with more messages than the history keeps), so the grid is complete however
//! long ago the photos ended. Readable by whoever may read the event's snapshot.
//!
//! The pages walk the event's media index (the hash `photoId → jobId` that makes enqueue
//! idempotent) with `HSCAN`, then read each job's state and last message in one pipeline. A
//! page costs O(limit), whatever the event's size; the cursor is Redis's own.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use finishline_bus::{BusError, ProgressBus};
use finishline_wire::{EventId, JobId, JobKind};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::auth::Claims;
use crate::bibs::parse_limit;
use crate::http::{ApiError, ApiPath, ApiQuery, HttpState, require_reader};

/// Photos per page when the client does not say.
const DEFAULT_PHOTOS: usize = 500;

/// `HSCAN` calls one page makes at most while it collects `limit` photos (a sparse hash can
/// answer a call with few or none).
const MAX_SCANS: usize = 16;

/// The photo routes, merged into the HTTP router (same state, metrics and fallback).
pub fn routes() -> Router<HttpState> {
    Router::new().route("/v1/events/{event_id}/photos", get(list_photos))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    cursor: Option<String>,
    limit: Option<String>,
}

/// One photo of the page: its job's state and the job's last message (`{ type, data }`, as
/// it was sent to the event's room), absent when the job has sent none.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PhotoEntry {
    photo_id: String,
    job_id: String,
    state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    last: Option<Box<RawValue>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PhotoPage {
    photos: Vec<PhotoEntry>,
    next_cursor: Option<String>,
}

fn parse_cursor(raw: Option<&str>) -> Result<u64, ApiError> {
    match raw {
        None => Ok(0),
        Some(raw) => raw
            .parse::<u64>()
            .ok()
            .filter(|cursor| *cursor != 0)
            .ok_or_else(|| ApiError::invalid(format!("cursor {raw:?} is not one this API gave"))),
    }
}

/// `GET /v1/events/{eventId}/photos?cursor=…&limit=…`: a page of the event's photos.
async fn list_photos(
    State(state): State<HttpState>,
    claims: Claims,
    ApiPath(event_id): ApiPath<EventId>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<PhotoPage>, ApiError> {
    require_reader(&claims, &event_id)?;
    let limit = parse_limit(query.limit.as_deref(), DEFAULT_PHOTOS)?;
    let cursor = parse_cursor(query.cursor.as_deref())?;
    let (pairs, next) = scan_media(&state.bus, &event_id, cursor, limit).await?;
    let photos = read_jobs(&state.bus, pairs).await?;
    Ok(Json(PhotoPage {
        photos,
        next_cursor: (next != 0).then(|| next.to_string()),
    }))
}

/// About `limit` (photoId, jobId) pairs of the event's media index from `cursor`, and the
/// cursor after them (0: the index has been walked). `HSCAN` may give a few more than asked
/// for, and a pair twice when the index grows meanwhile; it never misses one that was there
/// throughout.
async fn scan_media(
    bus: &ProgressBus,
    event_id: &EventId,
    mut cursor: u64,
    limit: usize,
) -> Result<(Vec<(String, String)>, u64), BusError> {
    let key = bus.keys().media_index(event_id, JobKind::Photo);
    let mut conn = bus.connection();
    let mut pairs = Vec::new();
    for _ in 0..MAX_SCANS {
        let (next, found): (u64, Vec<(String, String)>) = redis::cmd("HSCAN")
            .arg(&key)
            .arg(cursor)
            .arg("COUNT")
            .arg(limit - pairs.len())
            .query_async(&mut conn)
            .await?;
        pairs.extend(found);
        cursor = next;
        if cursor == 0 || pairs.len() >= limit {
            break;
        }
    }
    Ok((pairs, cursor))
}

/// Each job's state and last message, in one pipeline; jobs that have expired are left out.
async fn read_jobs(
    bus: &ProgressBus,
    pairs: Vec<(String, String)>,
) -> Result<Vec<PhotoEntry>, BusError> {
    let pairs: Vec<(String, JobId)> = pairs
        .into_iter()
        .filter_map(|(photo_id, job_id)| Some((photo_id, JobId::parse(job_id).ok()?)))
        .collect();
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let keys = bus.keys();
    let mut pipe = redis::pipe();
    for (_, job_id) in &pairs {
        pipe.cmd("HGET").arg(keys.job(job_id)).arg("state");
        pipe.cmd("LINDEX").arg(keys.job_history(job_id)).arg(-1);
    }
    let answers: Vec<Option<String>> = pipe.query_async(&mut bus.connection()).await?;
    let mut photos = Vec::with_capacity(pairs.len());
    for ((photo_id, job_id), answer) in pairs.into_iter().zip(answers.chunks(2)) {
        let [Some(state), last] = answer else {
            continue;
        };
        let last = match last {
            Some(json) => Some(RawValue::from_string(json.clone()).map_err(|_| {
                BusError::Malformed(format!("last message of job {job_id}: {json:?}"))
            })?),
            None => None,
        };
        photos.push(PhotoEntry {
            photo_id,
            job_id: job_id.to_string(),
            state: state.clone(),
            last,
        });
    }
    Ok(photos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_cursors_are_checked() {
        assert_eq!(parse_limit(None, DEFAULT_PHOTOS).unwrap(), DEFAULT_PHOTOS);
        assert_eq!(parse_limit(Some("1000"), DEFAULT_PHOTOS).unwrap(), 1000);
        for bad in ["0", "1001", "x", "-3"] {
            assert!(parse_limit(Some(bad), DEFAULT_PHOTOS).is_err(), "{bad}");
        }
        assert_eq!(parse_cursor(None).unwrap(), 0);
        assert_eq!(parse_cursor(Some("17")).unwrap(), 17);
        for bad in ["0", "x", "-1", ""] {
            assert!(parse_cursor(Some(bad)).is_err(), "{bad}");
        }
    }
}
