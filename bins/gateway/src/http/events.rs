//! `GET /v1/events/{eventId}`: the event's snapshot, for whoever may read the event.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use finishline_wire::{EventId, EventSnapshot};

use super::{ApiError, ApiPath, HttpState, require_reader};
use crate::auth::Claims;

pub(super) fn routes() -> Router<HttpState> {
    Router::new().route("/v1/events/{event_id}", get(event_snapshot))
}

async fn event_snapshot(
    State(state): State<HttpState>,
    claims: Claims,
    ApiPath(event_id): ApiPath<EventId>,
) -> Result<Json<EventSnapshot>, ApiError> {
    require_reader(&claims, &event_id)?;
    Ok(Json(state.bus.snapshot(&event_id).await?))
}
