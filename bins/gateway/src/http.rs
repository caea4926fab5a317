//! The HTTP API: enqueue photos and videos, event snapshots, jobs, health.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use finishline_bus::ProgressBus;
use finishline_queue::{NewMedia, Producer, Retrier};
use finishline_wire::{EventId, JobId, JobKind, MediaId, MediaSource, RequestId};

use crate::auth::{Authenticator, Claims, bearer_token};
use serde::Deserialize;
use serde_json::json;

/// What the HTTP handlers share.
#[derive(Clone)]
pub struct HttpState {
    pub bus: ProgressBus,
    pub producer: Producer,
    pub max_batch: usize,
    pub auth: Authenticator,
    pub limits: std::sync::Arc<crate::limits::Limits>,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
}

/// The claims of the request's `Authorization: Bearer` token.
pub(crate) fn bearer(state: &HttpState, headers: &HeaderMap) -> Result<Claims, ApiError> {
    let token = bearer_token(headers);
    state.auth.verify(token).map_err(|err| {
        metrics::counter!("finishline_gateway_auth_refusals_total", "transport" => "http")
            .increment(1);
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: err.to_string(),
        }
    })
}

pub(crate) fn require_scope(claims: &Claims, scope: &str) -> Result<(), ApiError> {
    if claims.has_scope(scope) {
        Ok(())
    } else {
        Err(ApiError {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            message: format!("this call needs a token with scope {scope}"),
        })
    }
}

/// An API error: the JSON body `{ error: { code, message } }` of PROTOCOL.md with its status.
/// The client never sees an internal cause; the log always does.
#[derive(Debug)]
pub struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl ApiError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_payload",
            message: message.into(),
        }
    }

    pub(crate) fn unprocessable(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid_payload",
            message: message.into(),
        }
    }

    pub(crate) fn unavailable(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed on the store");
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "unavailable",
            message: "the job store is unavailable; retry later".into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": { "code": self.code, "message": self.message } }));
        (self.status, body).into_response()
    }
}

pub fn router(state: HttpState) -> Router {
    // `POST /v1/events/{eventId}/photos` and `/videos`: one handler, told the kind.
    let enqueue_routes = JobKind::ALL
        .into_iter()
        .fold(Router::new(), |router, kind| {
            router.route(
                &format!("/v1/events/{{event_id}}/{}", kind.list_field()),
                post(enqueue).layer(Extension(kind)),
            )
        });
    Router::new()
        .merge(enqueue_routes)
        .route("/v1/events/{event_id}", get(event_snapshot))
        .merge(crate::settings::routes())
        .merge(crate::bibs::routes())
        .route("/v1/jobs", get(list_jobs))
        .route("/v1/jobs/{job_id}", get(job_status))
        .route("/v1/jobs/{job_id}/retry", post(retry_job))
        .route("/v1/jobs/{job_id}/cancel", post(cancel_job))
        .route(
            "/healthz",
            get(|| async { Json(json!({ "status": "ok" })) }),
        )
        .route("/readyz", get(readyz))
        .route(
            "/metrics",
            get(|State(state): State<HttpState>| async move { state.metrics.render() }),
        )
        .fallback(|| async {
            ApiError {
                status: StatusCode::NOT_FOUND,
                code: "not_found",
                message: "no such route".into(),
            }
        })
        .layer(axum::middleware::from_fn(count_requests))
        .with_state(state)
}

/// Counts requests by route and status, and times them.
async fn count_requests(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("finishline_gateway_http_requests_total", "route" => route.clone(), "method" => method, "status" => status).increment(1);
    metrics::histogram!("finishline_gateway_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

pub(crate) fn parse_event_id(raw: &str) -> Result<EventId, ApiError> {
    EventId::parse(raw).map_err(|err| ApiError::invalid(err.to_string()))
}

/// The request id from `X-Request-Id`, or a fresh one. A malformed header is refused, never
/// altered.
fn request_id(headers: &HeaderMap) -> Result<RequestId, ApiError> {
    match headers.get("x-request-id") {
        None => Ok(RequestId::generate()),
        Some(value) => {
            let text = value
                .to_str()
                .map_err(|_| ApiError::invalid("X-Request-Id must be ASCII"))?;
            RequestId::parse(text).map_err(|err| ApiError::invalid(format!("X-Request-Id: {err}")))
        }
    }
}

/// One item of an enqueue body: `{ photoId | videoId, source }`, nothing else.
fn parse_item(kind: JobKind, value: serde_json::Value) -> Result<(MediaId, MediaSource), String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Item {
        #[serde(alias = "photoId", alias = "videoId")]
        id: MediaId,
        source: MediaSource,
    }
    let object = value
        .as_object()
        .ok_or_else(|| "each item must be an object".to_owned())?;
    let other_kind = JobKind::ALL.into_iter().find(|other| *other != kind);
    if other_kind.is_some_and(|other| object.contains_key(other.id_field()))
        || object.contains_key("id")
    {
        return Err(format!(
            "unknown field, expected `{}` and `source`",
            kind.id_field()
        ));
    }
    if !object.contains_key(kind.id_field()) {
        return Err(format!("missing field `{}`", kind.id_field()));
    }
    serde_json::from_value::<Item>(value)
        .map(|item| (item.id, item.source))
        .map_err(|err| err.to_string())
}

fn parse_media(kind: JobKind, body: &[u8]) -> Result<Vec<(MediaId, MediaSource)>, ApiError> {
    let (id, list) = (kind.id_field(), kind.list_field());
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|err| ApiError::invalid(format!("body is not JSON: {err}")))?;
    let items = match value {
        serde_json::Value::Object(mut object) if object.contains_key(list) => {
            let extra = object.keys().find(|k| k.as_str() != list).cloned();
            if let Some(extra) = extra {
                return Err(ApiError::unprocessable(format!(
                    "expected {{ {list}: [{{ {id}, source }}] }}: unknown field `{extra}`"
                )));
            }
            let Some(serde_json::Value::Array(values)) = object.remove(list) else {
                return Err(ApiError::unprocessable(format!(
                    "expected {{ {list}: [{{ {id}, source }}] }}: {list} must be a list"
                )));
            };
            values
                .into_iter()
                .map(|v| parse_item(kind, v))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|err| {
                    ApiError::unprocessable(format!(
                        "expected {{ {list}: [{{ {id}, source }}] }}: {err}"
                    ))
                })?
        }
        other => vec![parse_item(kind, other).map_err(|err| {
            ApiError::unprocessable(format!(
                "expected {{ {id}, source: {{ url }} | {{ path }} }} or {{ {list}: [...] }}: {err}"
            ))
        })?],
    };
    if items.is_empty() {
        return Err(ApiError::unprocessable(format!("{list} must not be empty")));
    }
    for (index, (media_id, source)) in items.iter().enumerate() {
        source.validate().map_err(|err| {
            ApiError::unprocessable(format!("{list}[{index}] ({media_id}): {err}"))
        })?;
    }
    Ok(items)
}

/// `POST /v1/events/{eventId}/photos` and `/videos`: the same scope, limits and errors.
async fn enqueue(
    State(state): State<HttpState>,
    Extension(kind): Extension<JobKind>,
    Path(event_id): Path<String>,
    connect_info: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let claims = bearer(&state, &headers)?;
    require_scope(&claims, "enqueue")?;
    let client = claims
        .sub
        .clone()
        .or_else(|| connect_info.map(|info| info.0.0.ip().to_string()))
        .unwrap_or_default();
    if !state.limits.allow_enqueue(&client) {
        return Err(ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "rate_limited",
            message: "too many enqueue requests; slow down and retry".into(),
        });
    }
    let event_id = parse_event_id(&event_id)?;
    let request_id = request_id(&headers)?;
    let body = body.map_err(|rejection| ApiError {
        status: rejection.status(),
        code: if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            "payload_too_large"
        } else {
            "invalid_payload"
        },
        message: rejection.body_text(),
    })?;
    let (owner, body) = crate::owner::job_owner(&claims, &body)?;
    let media = parse_media(kind, &body)?;
    if media.len() > state.max_batch {
        return Err(ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "payload_too_large",
            message: format!(
                "{} {} in one request; at most {} are accepted",
                media.len(),
                kind.list_field(),
                state.max_batch
            ),
        });
    }
    let items: Vec<NewMedia> = media
        .into_iter()
        .map(|(media_id, source)| NewMedia { media_id, source })
        .collect();
    let enqueued = state
        .producer
        .enqueue(&event_id, &request_id, kind, owner.as_ref(), &items)
        .await
        .map_err(|err| ApiError::unavailable(&err))?;
    let created = enqueued.iter().filter(|e| e.created).count();
    tracing::info!(
        event_id = %event_id,
        request_id = %request_id,
        kind = kind.list_field(),
        jobs = enqueued.len(),
        created,
        "media enqueued"
    );
    let jobs: Vec<_> = enqueued
        .iter()
        .map(|e| json!({ kind.id_field(): e.media_id, "jobId": e.job_id, "created": e.created }))
        .collect();
    let mut response = (
        StatusCode::ACCEPTED,
        Json(json!({ "requestId": request_id, "jobs": jobs })),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(request_id.as_str()) {
        response.headers_mut().insert("x-request-id", value);
    }
    Ok(response)
}

/// The event id of a call that reads an event: a token with scope `enqueue`, or one that may
/// watch the event.
pub(crate) fn event_reader(
    state: &HttpState,
    headers: &HeaderMap,
    raw: &str,
) -> Result<EventId, ApiError> {
    let claims = bearer(state, headers)?;
    let event_id = parse_event_id(raw)?;
    if !(claims.has_scope("enqueue") || claims.may_watch(event_id.as_str())) {
        return Err(ApiError {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            message: format!("your token does not allow reading event {event_id}"),
        });
    }
    Ok(event_id)
}

async fn event_snapshot(
    State(state): State<HttpState>,
    Path(event_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let event_id = event_reader(&state, &headers, &event_id)?;
    let snapshot = state
        .bus
        .snapshot(&event_id)
        .await
        .map_err(|err| ApiError::unavailable(&err))?;
    Ok(Json(snapshot).into_response())
}

async fn readyz(State(state): State<HttpState>) -> Response {
    match state.bus.ping().await {
        Ok(()) => Json(json!({ "status": "ready" })).into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "not ready: redis unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "reason": "redis unreachable" })),
            )
                .into_response()
        }
    }
}

fn parse_job_id(raw: &str) -> Result<JobId, ApiError> {
    JobId::parse(raw).map_err(|err| ApiError::invalid(err.to_string()))
}

/// The job id of an operator call: an `admin` token and a valid id.
fn admin_job_id(state: &HttpState, headers: &HeaderMap, raw: &str) -> Result<JobId, ApiError> {
    let claims = bearer(state, headers)?;
    require_scope(&claims, "admin")?;
    parse_job_id(raw)
}

fn job_not_found(job_id: &JobId) -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        code: "not_found",
        message: format!("no job {job_id} (unknown, or expired after the retention period)"),
    }
}

async fn job_status(
    State(state): State<HttpState>,
    Path(job_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let claims = bearer(&state, &headers)?;
    let job_id = parse_job_id(&job_id)?;
    let status = state
        .bus
        .job_status(&job_id)
        .await
        .map_err(|err| ApiError::unavailable(&err))?
        .ok_or_else(|| job_not_found(&job_id))?;
    if !(claims.has_scope("enqueue") || claims.may_watch(&status.event_id)) {
        return Err(job_not_found(&job_id));
    }
    Ok(Json(status).into_response())
}

async fn cancel_job(
    State(state): State<HttpState>,
    Path(job_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let job_id = admin_job_id(&state, &headers, &job_id)?;
    let (status, cancelled) = state
        .bus
        .cancel(&job_id)
        .await
        .map_err(|err| ApiError::unavailable(&err))?
        .ok_or_else(|| job_not_found(&job_id))?;
    tracing::info!(job_id = %job_id, request_id = %status.request_id, cancelled, state = status.state.as_str(), "cancel requested");
    Ok(
        Json(json!({ "jobId": job_id, "cancelled": cancelled, "state": status.state }))
            .into_response(),
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ListJobs {
    state: String,
    event_id: Option<String>,
    #[serde(default)]
    offset: usize,
    limit: Option<usize>,
}

/// `GET /v1/jobs?state=failed[&eventId=…][&offset=…&limit=…]`: failed jobs, newest first,
/// with their errors, for operators (admin scope).
async fn list_jobs(
    State(state): State<HttpState>,
    headers: HeaderMap,
    query: Result<axum::extract::Query<ListJobs>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let claims = bearer(&state, &headers)?;
    require_scope(&claims, "admin")?;
    let axum::extract::Query(query) = query.map_err(|err| ApiError::invalid(err.body_text()))?;
    if query.state != "failed" {
        return Err(ApiError::invalid("only state=failed can be listed"));
    }
    let event = query.event_id.as_deref().map(parse_event_id).transpose()?;
    let limit = query.limit.unwrap_or(100).min(1000);
    let mut jobs = Vec::new();
    let mut offset = query.offset;
    // Filtering by event reads further pages until `limit` matches are found (bounded).
    for _ in 0..20 {
        let page = state
            .bus
            .failed_jobs(offset, 500)
            .await
            .map_err(|err| ApiError::unavailable(&err))?;
        if page.is_empty() {
            break;
        }
        offset += page.len();
        for (job_id, failed_at_ms) in page {
            let Ok(job_id) = JobId::parse(job_id) else {
                continue;
            };
            let Some(mut status) = state
                .bus
                .job_status(&job_id)
                .await
                .map_err(|err| ApiError::unavailable(&err))?
            else {
                continue;
            };
            if event
                .as_ref()
                .is_some_and(|e| e.as_str() != status.event_id)
            {
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
    Ok(Json(json!({ "jobs": jobs, "nextOffset": offset })).into_response())
}

/// `POST /v1/jobs/{jobId}/retry`: re-drives a failed job (admin scope).
async fn retry_job(
    State(state): State<HttpState>,
    Path(job_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let job_id = admin_job_id(&state, &headers, &job_id)?;
    let status = state
        .bus
        .job_status(&job_id)
        .await
        .map_err(|err| ApiError::unavailable(&err))?
        .ok_or_else(|| job_not_found(&job_id))?;
    let bus = &state.bus;
    let redriven = Retrier::new(
        bus.connection(),
        bus.keys().clone(),
        status.kind,
        *bus.limits(),
    )
    .redrive(&job_id)
    .await
    .map_err(|err| ApiError::unavailable(&err))?;
    if !redriven {
        return Err(ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid_payload",
            message: format!(
                "job {job_id} is {}; only failed jobs can be retried",
                status.state.as_str()
            ),
        });
    }
    tracing::info!(job_id = %job_id, request_id = %status.request_id, "failed job re-driven");
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "jobId": job_id, "state": "queued" })),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_video_body_takes_video_ids_one_or_many_and_refuses_photo_shapes() {
        let one = parse_media(
            JobKind::Video,
            br#"{"videoId":"v1","source":{"path":"v1.mp4"}}"#,
        )
        .unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].0.as_str(), "v1");
        let many = parse_media(
            JobKind::Video,
            br#"{"videos":[{"videoId":"a","source":{"path":"a.mp4"}},{"videoId":"b","source":{"url":"https://x.org/b.mp4"}}]}"#,
        )
        .unwrap();
        assert_eq!(many.len(), 2);
        for bad in [
            r#"{"photoId":"p","source":{"path":"p.jpg"}}"#,
            r#"{"photos":[{"photoId":"p","source":{"path":"p.jpg"}}]}"#,
            r#"{"videos":[{"photoId":"p","source":{"path":"p.mp4"}}]}"#,
            r#"{"videos":[{"videoId":"v","photoId":"p","source":{"path":"p.mp4"}}]}"#,
            r#"{"videos":[]}"#,
            r#"{"videos":{}}"#,
            r#"{"videos":[{"videoId":"v","source":{"path":"../v.mp4"}}]}"#,
            r#"{"videoId":"v","source":{"path":"v.mp4"},"priority":1}"#,
            r#"{"videos":[],"extra":1}"#,
            r#"[]"#,
        ] {
            let err = parse_media(JobKind::Video, bad.as_bytes()).unwrap_err();
            assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        }
        assert_eq!(
            parse_media(JobKind::Video, b"{").unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn a_photo_body_keeps_its_shape_and_refuses_video_ids() {
        assert!(
            parse_media(
                JobKind::Photo,
                br#"{"photoId":"p","source":{"path":"p.jpg"}}"#
            )
            .is_ok()
        );
        let err = parse_media(
            JobKind::Photo,
            br#"{"videoId":"v","source":{"path":"v.mp4"}}"#,
        )
        .unwrap_err();
        assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(err.message.contains("photoId"), "{}", err.message);
    }
}
