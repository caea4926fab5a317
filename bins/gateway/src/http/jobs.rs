//! The jobs resource: `GET /v1/jobs/{jobId}` for whoever may read the job's event, and the
//! operator calls (scope `admin`): list failed jobs, cancel, re-drive.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use finishline_queue::Retrier;
use finishline_wire::{EventId, JobId, JobStatus};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, ApiPath, ApiQuery, HttpState, require_scope};
use crate::auth::Claims;

pub(super) fn routes() -> Router<HttpState> {
    Router::new()
        .route("/v1/jobs", get(list_jobs))
        .route("/v1/jobs/{job_id}", get(job_status))
        .route("/v1/jobs/{job_id}/retry", post(retry_job))
        .route("/v1/jobs/{job_id}/cancel", post(cancel_job))
}

fn job_not_found(job_id: &JobId) -> ApiError {
    ApiError::not_found(format!(
        "no job {job_id} (unknown, or expired after the retention period)"
    ))
}

/// The job's status; 404 when it is unknown.
async fn find_job(state: &HttpState, job_id: &JobId) -> Result<JobStatus, ApiError> {
    state
        .bus
        .job_status(job_id)
        .await?
        .ok_or_else(|| job_not_found(job_id))
}

async fn job_status(
    State(state): State<HttpState>,
    claims: Claims,
    ApiPath(job_id): ApiPath<JobId>,
) -> Result<Json<JobStatus>, ApiError> {
    let status = find_job(&state, &job_id).await?;
    // A job of an event the caller may not read is reported as unknown, not as forbidden.
    if !(claims.has_scope("enqueue") || claims.may_watch(&status.event_id)) {
        return Err(job_not_found(&job_id));
    }
    Ok(Json(status))
}

async fn cancel_job(
    State(state): State<HttpState>,
    claims: Claims,
    ApiPath(job_id): ApiPath<JobId>,
) -> Result<Json<Value>, ApiError> {
    require_scope(&claims, "admin")?;
    let (status, cancelled) = state
        .bus
        .cancel(&job_id)
        .await?
        .ok_or_else(|| job_not_found(&job_id))?;
    tracing::info!(job_id = %job_id, request_id = %status.request_id, cancelled, state = status.state.as_str(), "cancel requested");
    Ok(Json(
        json!({ "jobId": job_id, "cancelled": cancelled, "state": status.state }),
    ))
}

/// `POST /v1/jobs/{jobId}/retry`: re-drives a failed job on the queue of its kind.
async fn retry_job(
    State(state): State<HttpState>,
    claims: Claims,
    ApiPath(job_id): ApiPath<JobId>,
) -> Result<Response, ApiError> {
    require_scope(&claims, "admin")?;
    let status = find_job(&state, &job_id).await?;
    let bus = &state.bus;
    let redriven = Retrier::new(
        bus.connection(),
        bus.keys().clone(),
        status.kind,
        *bus.limits(),
    )
    .redrive(&job_id)
    .await?;
    if !redriven {
        return Err(ApiError::unprocessable(format!(
            "job {job_id} is {}; only failed jobs can be retried",
            status.state.as_str()
        )));
    }
    tracing::info!(job_id = %job_id, request_id = %status.request_id, "failed job re-driven");
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "jobId": job_id, "state": "queued" })),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ListJobs {
    state: String,
    event_id: Option<EventId>,
    #[serde(default)]
    offset: usize,
    limit: Option<usize>,
}

/// Pages of failed jobs read at most per list call, when filtering by event.
const MAX_PAGES: usize = 20;

/// `GET /v1/jobs?state=failed[&eventId=…][&offset=…&limit=…]`: failed jobs, newest first,
/// with their errors, for operators (admin scope).
async fn list_jobs(
    State(state): State<HttpState>,
    claims: Claims,
    ApiQuery(query): ApiQuery<ListJobs>,
) -> Result<Json<Value>, ApiError> {
    require_scope(&claims, "admin")?;
    if query.state != "failed" {
        return Err(ApiError::invalid("only state=failed can be listed"));
    }
    let limit = query.limit.unwrap_or(100).min(1000);
    let mut jobs = Vec::new();
    let mut offset = query.offset;
    // Filtering by event reads further pages until `limit` matches are found (bounded).
    for _ in 0..MAX_PAGES {
        let page = state.bus.failed_jobs(offset, 500).await?;
        if page.is_empty() {
            break;
        }
        offset += page.len();
        for (job_id, failed_at_ms) in page {
            let Ok(job_id) = JobId::parse(job_id) else {
                continue;
            };
            let Some(mut status) = state.bus.job_status(&job_id).await? else {
                continue;
            };
            if (query.event_id.as_ref()).is_some_and(|e| e.as_str() != status.event_id) {
                continue;
            }
            status.history.clear();
            jobs.push(json!({ "job": status, "failedAtMs": failed_at_ms }));
            if jobs.len() >= limit {
                break;
            }
        }
        if jobs.len() >= limit {
            break;
        }
    }
    Ok(Json(json!({ "jobs": jobs, "nextOffset": offset })))
}
