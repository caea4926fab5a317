//! `GET /v1/jobs/{jobId}/thumbnail`: the thumbnail the worker stored for a photo job, and
//! `GET /v1/jobs/{jobId}/thumbnails/{number}`: the one of a video job's best frame of a bib
//! number, from the artifact store (`--artifacts`), to whoever may read the job (as
//! `GET /v1/jobs/{jobId}`: a token with scope `enqueue`, or one that may watch the job's
//! event; otherwise 404, as for an unknown job).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use finishline_artifacts::ArtifactStore;
use finishline_bus::ProgressBus;
use finishline_wire::JobId;

use crate::auth::{Authenticator, Claims};
use crate::bibs::parse_number;
use crate::http::{ApiError, ApiPath, HasAuthenticator};

/// What the thumbnail route needs.
#[derive(Clone)]
pub struct ThumbnailState {
    pub bus: ProgressBus,
    pub auth: Authenticator,
    pub artifacts: ArtifactStore,
}

impl HasAuthenticator for ThumbnailState {
    fn authenticator(&self) -> &Authenticator {
        &self.auth
    }
}

/// The thumbnail routes, with their own state, merged into the gateway's router.
pub fn routes(state: ThumbnailState) -> Router {
    Router::new()
        .route("/v1/jobs/{job_id}/thumbnail", get(thumbnail))
        .route("/v1/jobs/{job_id}/thumbnails/{number}", get(bib_thumbnail))
        .with_state(state)
}

fn not_found(job_id: &JobId) -> ApiError {
    ApiError::not_found(format!("no thumbnail for job {job_id}"))
}

/// 404 unless the job exists and the token may read it.
async fn may_read(state: &ThumbnailState, claims: &Claims, job_id: &JobId) -> Result<(), ApiError> {
    let status = state
        .bus
        .job_status(job_id)
        .await?
        .ok_or_else(|| not_found(job_id))?;
    if claims.has_scope("enqueue") || claims.may_watch(&status.event_id) {
        Ok(())
    } else {
        Err(not_found(job_id))
    }
}

async fn thumbnail(
    State(state): State<ThumbnailState>,
    claims: Claims,
    ApiPath(job_id): ApiPath<JobId>,
) -> Result<Response, ApiError> {
    may_read(&state, &claims, &job_id).await?;
    let jpeg = state
        .artifacts
        .thumbnail(&job_id)
        .await
        .map_err(|err| ApiError::unavailable(&err))?
        .ok_or_else(|| not_found(&job_id))?;
    Ok(jpeg_response(jpeg))
}

/// A video job's thumbnail of `number` at its best frame.
async fn bib_thumbnail(
    State(state): State<ThumbnailState>,
    claims: Claims,
    ApiPath((job_id, number)): ApiPath<(JobId, String)>,
) -> Result<Response, ApiError> {
    let number = parse_number(&number, "the number")?;
    may_read(&state, &claims, &job_id).await?;
    let jpeg = state
        .artifacts
        .bib_thumbnail(&job_id, number)
        .await
        .map_err(|err| ApiError::unavailable(&err))?
        .ok_or_else(|| {
            ApiError::not_found(format!("no thumbnail of bib {number} for job {job_id}"))
        })?;
    Ok(jpeg_response(jpeg))
}

fn jpeg_response(jpeg: Bytes) -> Response {
    let mut response = jpeg.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    // Private: it needs a token. A job's thumbnail changes only if a re-run replaces it.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    response
}
