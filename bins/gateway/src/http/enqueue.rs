//! `POST /v1/events/{eventId}/photos` and `/videos`: one handler, told the kind by its route;
//! the same scope, limits and errors for both. Bodies are `{ photoId | videoId, source }` or
//! `{ photos | videos: [...] }` (PROTOCOL.md), parsed here so that each error names the field.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use finishline_queue::{Enqueued, NewMedia};
use finishline_wire::{EventId, JobKind, MediaId, MediaSource, RequestId};
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, ApiPath, HttpState, require_scope};
use crate::auth::Claims;

/// One route per kind, named by the kind's list field.
pub(super) fn routes() -> Router<HttpState> {
    JobKind::ALL
        .into_iter()
        .fold(Router::new(), |router, kind| {
            router.route(
                &format!("/v1/events/{{event_id}}/{}", kind.list_field()),
                post(enqueue).layer(Extension(kind)),
            )
        })
}

async fn enqueue(
    State(state): State<HttpState>,
    Extension(kind): Extension<JobKind>,
    claims: Claims,
    connect_info: Option<Extension<ConnectInfo<SocketAddr>>>,
    ApiPath(event_id): ApiPath<EventId>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_scope(&claims, "enqueue")?;
    admit(&state, &claims, connect_info)?;
    let request_id = request_id(&headers)?;
    let body = body?;
    let (owner, body) = crate::owner::job_owner(&claims, &body)?;
    let items = parse_media(kind, &body)?;
    if items.len() > state.max_batch {
        return Err(ApiError::too_large(format!(
            "{} {} in one request; at most {} are accepted",
            items.len(),
            kind.list_field(),
            state.max_batch
        )));
    }
    let enqueued = state
        .producer
        .enqueue(&event_id, &request_id, kind, owner.as_ref(), &items)
        .await?;
    tracing::info!(
        event_id = %event_id,
        request_id = %request_id,
        kind = kind.list_field(),
        jobs = enqueued.len(),
        created = enqueued.iter().filter(|e| e.created).count(),
        "media enqueued"
    );
    Ok(accepted(kind, &request_id, &enqueued))
}

/// Applies the enqueue rate of the caller: the token's `sub`, or else the client's address.
fn admit(
    state: &HttpState,
    claims: &Claims,
    connect_info: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Result<(), ApiError> {
    let client = claims
        .sub
        .clone()
        .or_else(|| connect_info.map(|info| info.0.0.ip().to_string()))
        .unwrap_or_default();
    if state.limits.allow_enqueue(&client) {
        Ok(())
    } else {
        Err(ApiError::rate_limited(
            "too many enqueue requests; slow down and retry",
        ))
    }
}

/// 202 `{ requestId, jobs: [{ photoId | videoId, jobId, created }] }`, and `X-Request-Id`.
fn accepted(kind: JobKind, request_id: &RequestId, enqueued: &[Enqueued]) -> Response {
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
    response
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

fn parse_media(kind: JobKind, body: &[u8]) -> Result<Vec<NewMedia>, ApiError> {
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
    Ok(items
        .into_iter()
        .map(|(media_id, source)| NewMedia { media_id, source })
        .collect())
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
        assert_eq!(one[0].media_id.as_str(), "v1");
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
