//! `PUT` and `GET /v1/events/{eventId}/settings`: what the organiser knows about an event (bib
//! range, digit count, start list), which workers use to reject or correct bib reads.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use finishline_wire::EventSettings;

use crate::http::{ApiError, HttpState, bearer, event_reader, parse_event_id, require_scope};

/// The settings routes, merged into the HTTP router (same state, body limit and metrics).
pub fn routes() -> Router<HttpState> {
    Router::new().route(
        "/v1/events/{event_id}/settings",
        get(get_settings).put(put_settings),
    )
}

/// `GET`: the settings, `{}` when none are set. Readable by whoever may read the event.
async fn get_settings(
    State(state): State<HttpState>,
    Path(event_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let event_id = event_reader(&state, &headers, &event_id)?;
    let settings = state
        .bus
        .event_settings(&event_id)
        .await
        .map_err(|err| ApiError::unavailable(&err))?;
    Ok(Json(settings).into_response())
}

/// `PUT`: replaces the settings (scope `admin`); answers with what was stored. Jobs whose
/// `ocr` stage ends a few seconds later use them.
async fn put_settings(
    State(state): State<HttpState>,
    Path(event_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let claims = bearer(&state, &headers)?;
    require_scope(&claims, "admin")?;
    let event_id = parse_event_id(&event_id)?;
    let body = body.map_err(|rejection| ApiError {
        status: rejection.status(),
        code: if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            "payload_too_large"
        } else {
            "invalid_payload"
        },
        message: rejection.body_text(),
    })?;
    let settings = parse_settings(&body)?;
    state
        .bus
        .set_event_settings(&event_id, &settings)
        .await
        .map_err(|err| ApiError::unavailable(&err))?;
    tracing::info!(
        event_id = %event_id,
        bib_range = ?settings.bib_range,
        bib_digits = ?settings.bib_digits,
        start_list = settings.start_list.as_ref().map(Vec::len),
        "event settings stored"
    );
    Ok(Json(settings).into_response())
}

/// Not JSON: 400. JSON of the wrong shape, or settings that do not hold: 422.
fn parse_settings(body: &[u8]) -> Result<EventSettings, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|err| ApiError::invalid(format!("body is not JSON: {err}")))?;
    // serde would also take a JSON array as a struct's fields in order.
    if !value.is_object() {
        return Err(ApiError::unprocessable(
            "expected a JSON object { bibRange?: [min, max], bibDigits?: [min, max], startList?: [numbers] }".to_owned(),
        ));
    }
    let settings: EventSettings = serde_json::from_value(value).map_err(|err| {
        ApiError::unprocessable(format!(
            "expected {{ bibRange?: [min, max], bibDigits?: [min, max], startList?: [numbers] }}: {err}"
        ))
    })?;
    settings
        .validate()
        .map_err(|err| ApiError::unprocessable(err.to_string()))?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_json_settings_that_hold() {
        let ok = parse_settings(br#"{"bibRange":[1,500],"startList":[7,42]}"#).unwrap();
        assert_eq!(ok.bib_range, Some([1, 500]));
        assert!(parse_settings(b"{}").unwrap().is_empty());
        let err = parse_settings(b"{").unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        for bad in [
            r#"{"bibRange":[500,1]}"#,
            r#"{"bibDigits":[1,9]}"#,
            r#"{"startList":[0]}"#,
            r#"{"startList":[1],"extra":true}"#,
            r#"[]"#,
        ] {
            let err = parse_settings(bad.as_bytes()).unwrap_err();
            assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
            assert_eq!(err.code, "invalid_payload");
            assert!(!err.message.is_empty());
        }
    }
}
