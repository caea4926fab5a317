//! `GET /v1/events/{eventId}/bibs/{number}` and `GET /v1/events/{eventId}/bibs?prefix=…`:
//! find photos and videos by bib, through the event's bib index (written by the worker in the
//! step that ends each job). Readable by whoever may read the event's snapshot.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use finishline_bus::MAX_BIB_PAGE;
use finishline_wire::{BibNumbers, BibPage, EventId};
use serde::Deserialize;

use crate::auth::Claims;
use crate::http::{ApiError, ApiPath, ApiQuery, HttpState, require_reader};

/// Sightings per page of a number when the client does not say.
const DEFAULT_SIGHTINGS: usize = 100;

/// Numbers per page of a prefix search when the client does not say.
const DEFAULT_NUMBERS: usize = 50;

/// Longest number accepted: 18 digits always fit in a u64.
const MAX_DIGITS: usize = 18;

/// The bib routes, merged into the HTTP router (same state, metrics and fallback).
pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/v1/events/{event_id}/bibs", get(list_numbers))
        .route("/v1/events/{event_id}/bibs/{number}", get(bib_sightings))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    cursor: Option<String>,
    limit: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NumbersQuery {
    #[serde(default)]
    prefix: String,
    cursor: Option<String>,
    limit: Option<String>,
}

/// A bib number as the index keeps it: decimal digits, no leading zero (a number reads as
/// one way only, so `0042` is refused rather than silently taken as 42).
pub(crate) fn parse_number(raw: &str, what: &str) -> Result<u64, ApiError> {
    let canonical = !raw.is_empty()
        && raw.len() <= MAX_DIGITS
        && raw.bytes().all(|b| b.is_ascii_digit())
        && (raw == "0" || !raw.starts_with('0'));
    raw.parse().ok().filter(|_| canonical).ok_or_else(|| {
        ApiError::invalid(format!(
            "{what} must be a bib number (1 to {MAX_DIGITS} digits, no leading zero), not {raw:?}"
        ))
    })
}

/// A page size from `?limit=`: `default` when absent, else 1 to [`MAX_BIB_PAGE`].
pub(crate) fn parse_limit(raw: Option<&str>, default: usize) -> Result<usize, ApiError> {
    let Some(raw) = raw else {
        return Ok(default);
    };
    raw.parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_BIB_PAGE).contains(n))
        .ok_or_else(|| ApiError::invalid(format!("limit must be 1 to {MAX_BIB_PAGE}, not {raw:?}")))
}

/// `GET /v1/events/{eventId}/bibs/{number}?cursor=…&limit=…`: a page of the photos and
/// videos that show the number, in the order their jobs ended.
async fn bib_sightings(
    State(state): State<HttpState>,
    claims: Claims,
    ApiPath((event_id, number)): ApiPath<(EventId, String)>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<BibPage>, ApiError> {
    require_reader(&claims, &event_id)?;
    let number = parse_number(&number, "the number")?;
    let limit = parse_limit(query.limit.as_deref(), DEFAULT_SIGHTINGS)?;
    let cursor = query
        .cursor
        .as_deref()
        .map(|raw| {
            raw.parse::<u64>()
                .map_err(|_| ApiError::invalid(format!("cursor {raw:?} is not one this API gave")))
        })
        .transpose()?;
    Ok(Json(
        state.bus.bib_page(&event_id, number, cursor, limit).await?,
    ))
}

/// `GET /v1/events/{eventId}/bibs?prefix=12&limit=50&cursor=…`: the numbers seen in the
/// event that start with the prefix, with their counts.
async fn list_numbers(
    State(state): State<HttpState>,
    claims: Claims,
    ApiPath(event_id): ApiPath<EventId>,
    ApiQuery(query): ApiQuery<NumbersQuery>,
) -> Result<Json<BibNumbers>, ApiError> {
    require_reader(&claims, &event_id)?;
    let prefix = query.prefix;
    if prefix.len() > MAX_DIGITS || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid(format!(
            "prefix must be up to {MAX_DIGITS} digits, not {prefix:?}"
        )));
    }
    let limit = parse_limit(query.limit.as_deref(), DEFAULT_NUMBERS)?;
    let cursor = query
        .cursor
        .as_deref()
        .map(|raw| {
            parse_number(raw, "cursor").and_then(|n| {
                if raw.starts_with(prefix.as_str()) {
                    Ok(n)
                } else {
                    Err(ApiError::invalid(format!(
                        "cursor {raw:?} does not start with the prefix {prefix:?}"
                    )))
                }
            })
        })
        .transpose()?;
    Ok(Json(
        state
            .bus
            .bib_numbers(&event_id, &prefix, cursor, limit)
            .await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn numbers_are_canonical_digits() {
        assert_eq!(parse_number("1234", "n").unwrap(), 1234);
        assert_eq!(parse_number("0", "n").unwrap(), 0);
        for bad in ["", "0042", "12a", "-1", "1234567890123456789", " 12"] {
            let err = parse_number(bad, "n").unwrap_err();
            assert_eq!(err.status, StatusCode::BAD_REQUEST, "{bad:?}");
        }
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(parse_limit(None, 50).unwrap(), 50);
        assert_eq!(parse_limit(Some("1000"), 50).unwrap(), 1000);
        for bad in ["0", "1001", "x", "-3"] {
            assert!(parse_limit(Some(bad), 50).is_err(), "{bad}");
        }
    }
}
