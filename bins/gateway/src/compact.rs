//! Memory held per idle Socket.IO connection.
//!
//! engineioxide keeps the request `Parts` of every session for its whole life (socketioxide's
//! `req_parts()`). hyper parses the URI and every header value as slices of the connection's
//! read buffer (8–16 KiB), so keeping any of them keeps that whole buffer alive: it was half
//! of what an idle connection cost. [`compact_socketio_request`] copies the URI and the header
//! values of Socket.IO requests into one allocation of their exact size before engineioxide
//! sees them, so the read buffer is freed with the HTTP connection.

use axum::body::Bytes;
use axum::extract::OriginalUri;
use axum::http::{HeaderMap, HeaderValue, Request, Uri};

/// The engine.io path the Socket.IO layer serves (socketioxide's default `req_path`).
const SOCKETIO_PATH: &str = "/socket.io";

/// Size of the websocket read buffer of each Socket.IO connection (engineioxide's default is
/// 4 KiB). Clients send small packets (subscribe calls of a few dozen bytes); a larger message
/// is still read whole, the buffer grows for it.
pub const WS_READ_BUFFER: usize = 512;

/// Rewrites a Socket.IO request so that its URI and headers own compact copies of their bytes
/// instead of slices of hyper's read buffer. Other requests pass untouched.
pub fn compact_socketio_request<B>(req: Request<B>) -> Request<B> {
    if !req.uri().path().starts_with(SOCKETIO_PATH) {
        return req;
    }
    let (mut parts, body) = req.into_parts();
    let uri = parts.uri.to_string();
    let total = uri.len() + parts.headers.values().map(HeaderValue::len).sum::<usize>();
    let mut buf = Vec::with_capacity(total);
    buf.extend_from_slice(uri.as_bytes());
    for value in parts.headers.values() {
        buf.extend_from_slice(value.as_bytes());
    }
    let shared = Bytes::from(buf);
    if let Ok(compact) = Uri::from_maybe_shared(shared.slice(..uri.len())) {
        parts.uri = compact;
    }
    // axum's router keeps a clone of the URI too, as `OriginalUri`, before this layer runs;
    // nothing behind the Socket.IO layer reads it.
    parts.extensions.remove::<OriginalUri>();
    let mut offset = uri.len();
    let mut headers = HeaderMap::with_capacity(parts.headers.len());
    for (name, value) in parts.headers.iter() {
        let end = offset + value.len();
        let copy = match HeaderValue::from_maybe_shared(shared.slice(offset..end)) {
            Ok(mut copy) => {
                copy.set_sensitive(value.is_sensitive());
                copy
            }
            Err(_) => value.clone(),
        };
        headers.append(name.clone(), copy);
        offset = end;
    }
    parts.headers = headers;
    Request::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socketio_requests_keep_their_uri_and_headers() {
        let req = Request::builder()
            .uri("/socket.io/?EIO=4&transport=websocket")
            .header("host", "127.0.0.1:3000")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("x-forwarded-for", "10.0.0.1")
            .header("x-forwarded-for", "10.0.0.2")
            .body(())
            .unwrap();
        let before = req.headers().clone();
        let mut req = req;
        let original = OriginalUri(req.uri().clone());
        req.extensions_mut().insert(original);
        let req = compact_socketio_request(req);
        assert!(req.extensions().get::<OriginalUri>().is_none());
        assert_eq!(req.uri().path(), "/socket.io/");
        assert_eq!(req.uri().query(), Some("EIO=4&transport=websocket"));
        assert_eq!(req.headers(), &before);
        let forwarded: Vec<_> = req.headers().get_all("x-forwarded-for").iter().collect();
        assert_eq!(forwarded, ["10.0.0.1", "10.0.0.2"]);
    }

    #[test]
    fn other_requests_pass_untouched() {
        let req = Request::builder()
            .uri("/v1/events/e1?x=1")
            .header("authorization", "Bearer x")
            .body(())
            .unwrap();
        let req = compact_socketio_request(req);
        assert_eq!(req.uri(), "/v1/events/e1?x=1");
        assert_eq!(req.headers()["authorization"], "Bearer x");
    }
}
