//! A client of the HTTP API of a `continuum serve` under test: the
//! address it printed, and JSON requests with an optional bearer token.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{Host, OpenApiDoc};

/// Appends an `[http]` table (listening on a free loopback port) and
/// `extra` lines to a manifest written by [`crate::write_manifest`].
pub fn add_http(manifest: &Path, extra: &str) {
    let mut text = std::fs::read_to_string(manifest).expect("read the manifest");
    text.push_str(&format!("\n[http]\nlisten = \"127.0.0.1:0\"\n{extra}\n"));
    std::fs::write(manifest, text).expect("write the manifest");
}

impl Host {
    /// The base URL of the host's HTTP API, from its start-up line.
    pub fn http_base(&self, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let log = self.log_text();
            if let Some(rest) = log.split("HTTP API on ").nth(1) {
                if let Some(url) = rest.split_whitespace().next() {
                    return url.to_string();
                }
            }
            assert!(start.elapsed() < timeout, "the host printed no HTTP address within {timeout:?}:\n{log}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A client of one host's API.
#[derive(Clone)]
pub struct Api {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    client: reqwest::Client,
    token: Option<String>,
    openapi: Option<Arc<OpenApiDoc>>,
}

/// An answer: its status and its body (JSON, or the text as a JSON string
/// when it is not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
}

impl Answer {
    /// The stable error code of an error answer.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// The message of an error answer.
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }
}

impl Api {
    /// A client of `base` without a token.
    pub fn new(base: &str) -> Api {
        let client = reqwest::Client::builder().no_proxy().build().expect("an HTTP client");
        Api { base: base.trim_end_matches('/').to_string(), client, token: None, openapi: None }
    }

    /// The same client, sending `token`.
    pub fn with_token(&self, token: &str) -> Api {
        Api { token: Some(token.to_string()), ..self.clone() }
    }

    /// The same client, checking every answer against the server's
    /// `/openapi.json` (a request or answer it does not document panics).
    pub async fn checked(&self) -> Api {
        let doc = self.get("/openapi.json").await;
        assert_eq!(doc.status, 200, "GET /openapi.json: {doc:?}");
        Api { openapi: Some(Arc::new(OpenApiDoc(doc.body))), ..self.clone() }
    }

    /// Sends `method path` with a raw body.
    pub async fn raw(&self, method: &str, path: &str, body: Option<Vec<u8>>) -> Answer {
        let verb = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut req = self.client.request(verb, format!("{}{path}", self.base)).timeout(Duration::from_secs(120));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if let Some(doc) = &self.openapi {
            if let Err(e) = doc.check(method, path, status, &body) {
                panic!("the answer does not fit /openapi.json: {e}\nbody: {body}");
            }
        }
        Answer { status, body }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Answer {
        self.raw("GET", path, None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.raw("POST", path, Some(body.to_string().into_bytes())).await
    }
}

/// One server-sent event.
#[derive(Debug, Clone)]
pub struct SseEvent {
    /// Its `event:` name.
    pub event: String,
    /// Its `id:`, if any.
    pub id: Option<String>,
    /// Its `data:`, as JSON (a string when it is not JSON).
    pub data: Value,
}

/// A server-sent event stream being read.
pub struct SseStream {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
    /// The HTTP status of the answer.
    pub status: u16,
}

impl SseStream {
    /// The next event (comments and keep-alives skipped); `None` when the
    /// stream ended or nothing came within `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> Option<SseEvent> {
        use futures::StreamExt;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut event, mut id, mut data) = (String::from("message"), None, Vec::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("id:") {
                        id = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push(v.strip_prefix(' ').unwrap_or(v).to_string());
                    }
                }
                if data.is_empty() && id.is_none() && event == "message" {
                    continue;
                }
                let text = data.join("\n");
                let data = serde_json::from_str(&text).unwrap_or(Value::String(text));
                return Some(SseEvent { event, id, data });
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next()).await.ok()??.ok()?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

impl Api {
    /// Opens a server-sent event stream at `path`, with `last_event_id`.
    pub async fn sse(&self, path: &str, last_event_id: Option<&str>) -> SseStream {
        let mut req = self.client.get(format!("{}{path}", self.base)).header("accept", "text/event-stream");
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = resp.status().as_u16();
        SseStream { body: Box::pin(resp.bytes_stream()), buffer: String::new(), status }
    }
}
