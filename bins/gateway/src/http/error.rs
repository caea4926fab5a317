//! The API's error: the JSON body `{ error: { code, message } }` of PROTOCOL.md with its
//! status. Constructors name each refusal, and `From` impls turn extractor rejections and store
//! errors into one, so handlers use `?`. The client never sees an internal cause; the log
//! always does.

use axum::Json;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An API error and its status.
#[derive(Debug)]
pub struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400: the request cannot be read (not JSON, a malformed id or query).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_payload", message)
    }

    /// 422: the request reads, but its content is not what the route takes.
    pub(crate) fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_payload", message)
    }

    /// 401: no token, or one that does not verify.
    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: a valid token that does not allow this call.
    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 413: a body, or a batch, larger than accepted.
    pub(crate) fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    }

    /// 429: the client is over a rate limit.
    pub(crate) fn rate_limited(message: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
    }

    /// 503: the store failed; the cause goes to the log, not to the client.
    pub(crate) fn unavailable(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed on the store");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the job store is unavailable; retry later",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": { "code": self.code, "message": self.message } }));
        (self.status, body).into_response()
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::too_large(rejection.body_text())
        } else {
            Self::new(rejection.status(), "invalid_payload", rejection.body_text())
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::new(rejection.status(), "invalid_payload", rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::invalid(rejection.body_text())
    }
}

impl From<finishline_bus::BusError> for ApiError {
    fn from(err: finishline_bus::BusError) -> Self {
        Self::unavailable(&err)
    }
}

impl From<finishline_queue::QueueError> for ApiError {
    fn from(err: finishline_queue::QueueError) -> Self {
        if let finishline_queue::QueueError::Redis(cause) = &err
            && finishline_service::is_not_replicated(cause)
        {
            tracing::warn!(error = %cause, "enqueue not replicated");
            return Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_replicated",
                "no Redis replica confirmed the jobs in time (--durability replicated), so they \
                 are not accepted; retry the same request (enqueue is idempotent per media)",
            );
        }
        Self::unavailable(&err)
    }
}
