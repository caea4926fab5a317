//! The live event dashboard: a static page built into the binary (no CDN, no build step),
//! served at `/` and `/events/{eventId}`, talking to `/progress` with the official client.

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const INDEX: &str = include_str!("../ui/index.html");
const APP: &str = include_str!("../ui/app.js");
const SEARCH: &str = include_str!("../ui/search.js");
const GRID: &str = include_str!("../ui/grid.js");
const VIDEOS: &str = include_str!("../ui/videos.js");
const CHARTS: &str = include_str!("../ui/charts.js");
const STYLE: &str = include_str!("../ui/style.css");
/// socket.io-client 4.8.4's browser bundle, vendored from the npm package.
const SOCKET_IO: &str = include_str!("../ui/socket.io.min.js");

fn asset(body: &'static str, content_type: &'static str, cache: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' blob:; style-src 'self' 'unsafe-inline'; \
             connect-src 'self' ws: wss:",
        ),
    );
    response
}

/// The dashboard's routes.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let page = || async { asset(INDEX, "text/html; charset=utf-8", "no-cache") };
    Router::new()
        .route("/", get(page))
        .route("/events/{event_id}", get(page))
        .route(
            "/ui/{file}",
            get(
                |axum::extract::Path(file): axum::extract::Path<String>| async move {
                    match file.as_str() {
                        "app.js" => asset(APP, "text/javascript; charset=utf-8", "no-cache"),
                        "search.js" => asset(SEARCH, "text/javascript; charset=utf-8", "no-cache"),
                        "grid.js" => asset(GRID, "text/javascript; charset=utf-8", "no-cache"),
                        "videos.js" => asset(VIDEOS, "text/javascript; charset=utf-8", "no-cache"),
                        "charts.js" => asset(CHARTS, "text/javascript; charset=utf-8", "no-cache"),
                        "style.css" => asset(STYLE, "text/css; charset=utf-8", "no-cache"),
                        "socket.io.min.js" => asset(
                            SOCKET_IO,
                            "text/javascript; charset=utf-8",
                            "public, max-age=86400",
                        ),
                        _ => (StatusCode::NOT_FOUND, "no such asset").into_response(),
                    }
                },
            ),
        )
}
