//! `GET /v1/jobs/{jobId}/thumbnail`: the thumbnail the worker stored for a photo job, from
//! the artifact store (`--artifacts`), to whoever may read the job (as `GET /v1/jobs/{jobId}`:
//! a token with scope `enqueue`, or one that may watch the job's event; otherwise 404, as for
//! an unknown job).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use finishline_artifacts::ArtifactStore;
use finishline_bus::ProgressBus;
use finishline_wire::JobId;

use crate::auth::{Authenticator, bearer_token};
use crate::http::ApiError;

/// What the thumbnail route needs.
#[derive(Clone)]
pub struct ThumbnailState {
    pub bus: ProgressBus,
    pub auth: Authenticator,
    pub artifacts: ArtifactStore,
}

/// The thumbnail route, with its own state, merged into the gateway's router.
pub fn routes(state: ThumbnailState) -> Router {
    Router::new()
        .route("/v1/jobs/{job_id}/thumbnail", get(thumbnail))
        .with_state(state)
}

fn not_found(job_id: &str) -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        code: "not_found",
        message: format!("no thumbnail for job {job_id}"),
    }
}

async fn thumbnail(
    State(state): State<ThumbnailState>,
    Path(job_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = bearer_token(&headers);
    let claims = state.auth.verify(token).map_err(|err| ApiError {
        status: StatusCode::UNAUTHORIZED,
        code: "unauthorized",
        message: err.to_string(),
    })?;
    let job_id = JobId::parse(job_id).map_err(|err| ApiError::invalid(err.to_string()))?;
    let status = state
        .bus
        .job_status(&job_id)
        .await
        .map_err(|err| ApiError::unavailable(&err))?
        .ok_or_else(|| not_found(job_id.as_str()))?;
    if !(claims.has_scope("enqueue") || claims.may_watch(&status.event_id)) {
        return Err(not_found(job_id.as_str()));
    }
    let jpeg = state
        .artifacts
        .thumbnail(&job_id)
        .await
        .map_err(|err| ApiError::unavailable(&err))?
        .ok_or_else(|| not_found(job_id.as_str()))?;
    let mut response = jpeg.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    // Private: it needs a token. A job's thumbnail changes only if a re-run replaces it.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(response)
}
