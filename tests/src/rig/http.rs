//! The rig's clients of its first gateway: Socket.IO clients (auth off, or a token) and HTTP
//! calls answering the status and the JSON body, so a test reads as the API it checks.

use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

use super::Rig;
use crate::SocketClient;

impl Rig {
    /// A Socket.IO client of the first gateway's `/progress`, auth off.
    pub async fn client(&self) -> SocketClient {
        SocketClient::connect(&self.gateway().url(""), None).await
    }

    /// A client of `/progress` that connects with `token` (see [`crate::token`]).
    pub async fn client_as(&self, token: &str) -> SocketClient {
        self.client_of(self.gateway(), "/progress", token).await
    }

    /// A client of `namespace` of `gateway` that connects with `token`; panics on a refusal.
    pub async fn client_of(
        &self,
        gateway: &crate::Gateway,
        namespace: &str,
        token: &str,
    ) -> SocketClient {
        let auth = json!({ "token": token });
        SocketClient::try_connect_to(&gateway.url(""), namespace, Some(auth))
            .await
            .unwrap_or_else(|err| panic!("connect to {namespace}: {err}"))
    }

    /// A client of the first gateway subscribed to `event` (the ack checked for success).
    pub async fn subscribed_client(&self, event: &str) -> SocketClient {
        let client = self.client().await;
        let ack = client
            .call("subscribe:event", json!({ "eventId": event }))
            .await;
        assert_eq!(ack["success"], true, "subscribe to {event}: {ack}");
        client
    }

    /// A request to `path` of the first gateway, with `token` as its bearer when there is one.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let request = reqwest::Client::new().request(method, self.gateway().url(path));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Sends `request`; the status and the JSON body (null when the body is not JSON).
    pub async fn send(&self, request: RequestBuilder) -> (u16, Value) {
        let response = request.send().await.expect("an HTTP answer");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// GETs `path` of the first gateway with `token`; the status and the JSON body.
    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        self.send(self.request(Method::GET, path, token)).await
    }

    /// POSTs `body` to `path` of the first gateway, no token; the status and the JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_as(path, None, body).await
    }

    /// POSTs `body` to `path` of the first gateway with `token`; the status and the JSON body.
    pub async fn post_as(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        self.send(self.request(Method::POST, path, token).json(body))
            .await
    }

    /// PUTs `body` as it is (it may be bad JSON) with `token`; the status and the JSON body.
    pub async fn put_as(&self, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
        let request = self
            .request(Method::PUT, path, token)
            .header("content-type", "application/json")
            .body(body.to_owned());
        self.send(request).await
    }

    /// Enqueues photos of `event` (`{ "photos": [...] }`), asserting 202; the reply.
    pub async fn post_photos(&self, event: &str, body: &Value) -> Value {
        self.post_photos_as(None, event, body).await
    }

    /// Enqueues photos of `event` with `token`, asserting 202; the reply.
    pub async fn post_photos_as(&self, token: Option<&str>, event: &str, body: &Value) -> Value {
        let path = format!("/v1/events/{event}/photos");
        let (status, reply) = self.post_as(&path, token, body).await;
        assert_eq!(status, 202, "POST photos of {event}: {reply}");
        reply
    }

    /// Enqueues videos of `event` (`{ "videos": [...] }`), asserting 202; the reply.
    pub async fn post_videos(&self, event: &str, body: &Value) -> Value {
        let (status, reply) = self.post(&format!("/v1/events/{event}/videos"), body).await;
        assert_eq!(status, 202, "POST videos of {event}: {reply}");
        reply
    }

    /// `GET /v1/jobs/{job_id}` of the first gateway.
    pub async fn job(&self, job_id: &str) -> Value {
        let (status, job) = self.get(&format!("/v1/jobs/{job_id}"), None).await;
        assert_eq!(status, 200, "GET job {job_id}: {job}");
        job
    }
}
