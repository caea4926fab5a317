//! Extractors whose rejections are [`ApiError`]s: typed path and query (`ApiPath<EventId>`
//! refuses a malformed id before the handler runs) and the caller's verified token.

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::ApiError;
use crate::auth::{Authenticator, Claims, bearer_token};

/// A path parameter (or a tuple of them) of type `T`; 400 when it does not parse.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(value) = Path::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// The query string as `T`; 400 when it does not parse.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// A router state that can verify tokens.
pub trait HasAuthenticator {
    fn authenticator(&self) -> &Authenticator;
}

/// The claims of the request's `Authorization: Bearer` token; 401 when it is missing or
/// does not verify.
impl<S: HasAuthenticator + Send + Sync> FromRequestParts<S> for Claims {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers);
        state.authenticator().verify(token).map_err(|err| {
            metrics::counter!("finishline_gateway_auth_refusals_total", "transport" => "http")
                .increment(1);
            ApiError::unauthorized(err.to_string())
        })
    }
}

/// `Ok` when the token has `scope` (`admin` has every scope); 403 otherwise.
pub(crate) fn require_scope(claims: &Claims, scope: &str) -> Result<(), ApiError> {
    if claims.has_scope(scope) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "this call needs a token with scope {scope}"
        )))
    }
}

/// `Ok` when the token may read the event: scope `enqueue`, or the event among those it may
/// watch; 403 otherwise.
pub(crate) fn require_reader(
    claims: &Claims,
    event_id: &finishline_wire::EventId,
) -> Result<(), ApiError> {
    if claims.has_scope("enqueue") || claims.may_watch(event_id.as_str()) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "your token does not allow reading event {event_id}"
        )))
    }
}
