//! `PUT` and `GET /v1/events/{eventId}/settings`: what the organiser knows about an event (bib
//! range, digit count, start list), which workers use to reject or correct bib reads.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::routing::get;
use finishline_wire::{EventId, EventSettings};

use crate::auth::Claims;
use crate::http::{ApiError, ApiPath, HttpState, require_reader, require_scope};

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
    claims: Claims,
    ApiPath(event_id): ApiPath<EventId>,
) -> Result<Json<EventSettings>, ApiError> {
    require_reader(&claims, &event_id)?;
    Ok(Json(state.bus.event_settings(&event_id).await?))
}

/// `PUT`: replaces the settings (scope `admin`); answers with what was stored. Jobs whose
/// `ocr` stage ends a few seconds later use them.
async fn put_settings(
    State(state): State<HttpState>,
    claims: Claims,
    ApiPath(event_id): ApiPath<EventId>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<EventSettings>, ApiError> {
    require_scope(&claims, "admin")?;
    let settings = parse_settings(&body?)?;
    state.bus.set_event_settings(&event_id, &settings).await?;
    tracing::info!(
        event_id = %event_id,
        bib_range = ?settings.bib_range,
        bib_digits = ?settings.bib_digits,
        start_list = settings.start_list.as_ref().map(Vec::len),
        "event settings stored"
    );
    Ok(Json(settings))
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
    use axum::http::StatusCode;

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
