//! The HTTP client of `--server`: the server's base URL, the bearer token
//! from `CONTINUUM_TOKEN`, and one request at a time answered as JSON, an
//! error answer turned into a [`RemoteError`] carrying the API's stable
//! code and message.

use std::time::Duration;

use reqwest::{header, Method, Url};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::remote_error::RemoteError;

/// The environment variable holding the bearer token.
pub const TOKEN_ENV: &str = "CONTINUUM_TOKEN";

/// How long a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an answer may take, past the wait it asked for.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(300);

/// A request body.
pub enum Body {
    /// A JSON document.
    Json(Value),
    /// A WebAssembly component.
    Wasm(Vec<u8>),
}

/// A client of one server's API.
pub struct Remote {
    base: Url,
    /// The server as given, for messages.
    shown: String,
    token: Option<String>,
    client: reqwest::Client,
}

impl Remote {
    /// A client of `server` (`http://host:port`, possibly with a path
    /// prefix), sending `token` when there is one.
    pub fn new(server: &str, token: Option<String>) -> Result<Remote, RemoteError> {
        let shown = server.trim().trim_end_matches('/').to_string();
        let bad = |reason: &str| RemoteError::BadUrl { url: shown.clone(), reason: reason.to_string() };
        let base = Url::parse(&shown).map_err(|e| bad(&format!("{e} (give a URL such as http://127.0.0.1:8080)")))?;
        match base.scheme() {
            "http" => {}
            "https" => return Err(bad("https is not supported by this build: give the server's http:// address (loopback, a private network, or a TLS proxy in front of the client)")),
            other => return Err(bad(&format!("scheme `{other}` is not http (give a URL such as http://127.0.0.1:8080)"))),
        }
        if base.cannot_be_a_base() || base.host().is_none() {
            return Err(bad("no host"));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(bad("a server URL takes no query or fragment"));
        }
        let token = token.filter(|t| !t.is_empty());
        if let Some(t) = &token {
            if !t.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(RemoteError::BadToken);
            }
        }
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| bad(&format!("cannot make an HTTP client: {e}")))?;
        Ok(Remote { base, shown, token, client })
    }

    /// The URL of the API path made of `segments` (each percent-encoded
    /// as one segment) with the `query` pairs.
    pub fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    /// Sends a request and reads its JSON answer; `wait` is how long the
    /// server may hold the request (a long poll). An error status is a
    /// [`RemoteError::Api`]; `what` names the request in messages.
    pub async fn call(&self, method: Method, url: Url, body: Option<Body>, wait: Duration, what: &str) -> Result<(u16, Value), RemoteError> {
        let mut req = self.client.request(method, url).timeout(wait.saturating_add(ANSWER_TIMEOUT));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        req = match body {
            Some(Body::Json(v)) => req.header(header::CONTENT_TYPE, "application/json").body(v.to_string()),
            Some(Body::Wasm(bytes)) => req.header(header::CONTENT_TYPE, "application/wasm").body(bytes),
            None => req,
        };
        let resp = req.send().await.map_err(|e| self.unreachable(&e))?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| self.unreachable(&e))?;
        let json: Option<Value> = serde_json::from_slice(&bytes).ok();
        if status >= 400 {
            return Err(self.api_error(status, json, &bytes));
        }
        let json = json.ok_or_else(|| self.bad_answer(what, format!("HTTP {status} with a body that is not JSON")))?;
        Ok((status, json))
    }

    /// A body of type `T` read from a successful answer.
    pub fn parse<T: DeserializeOwned>(&self, what: &str, body: Value) -> Result<T, RemoteError> {
        serde_json::from_value(body).map_err(|e| self.bad_answer(what, e.to_string()))
    }

    /// An unexpected answer to `what`.
    pub fn bad_answer(&self, what: &str, reason: String) -> RemoteError {
        RemoteError::BadAnswer { url: self.shown.clone(), what: what.to_string(), reason }
    }

    fn unreachable(&self, e: &reqwest::Error) -> RemoteError {
        let reason = if e.is_timeout() {
            "no answer in time".to_string()
        } else {
            // The innermost cause says it best ("Connection refused (os error 111)").
            let mut cause: &dyn std::error::Error = e;
            while let Some(inner) = cause.source() {
                cause = inner;
            }
            cause.to_string()
        };
        RemoteError::Unreachable { url: self.shown.clone(), reason }
    }

    fn api_error(&self, status: u16, json: Option<Value>, bytes: &[u8]) -> RemoteError {
        let detail = json.as_ref().map(|j| &j["error"]);
        let code = detail.and_then(|d| d["code"].as_str()).unwrap_or("").to_string();
        let mut message = match detail.and_then(|d| d["message"].as_str()) {
            Some(m) => m.to_string(),
            None => {
                let text: String = String::from_utf8_lossy(bytes).chars().take(200).collect();
                format!("server {} answered HTTP {status}: {}", self.shown, text.trim())
            }
        };
        if status == 401 {
            message = match self.token {
                None => format!("{message} (the server requires a token: set {TOKEN_ENV})"),
                Some(_) => format!("{message} (the server refused the token in {TOKEN_ENV})"),
            };
        }
        RemoteError::Api { status, code, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_encode_each_segment_and_keep_a_path_prefix() {
        let r = Remote::new("http://127.0.0.1:8080/prefix/", None).unwrap();
        let u = r.url(&["v1", "instances", "a b", "runs", "x/y?z"], &[("state", "completed".into()), ("cursor", "a+b".into())]);
        assert_eq!(u.as_str(), "http://127.0.0.1:8080/prefix/v1/instances/a%20b/runs/x%2Fy%3Fz?state=completed&cursor=a%2Bb");
        let r = Remote::new("http://127.0.0.1:8080", None).unwrap();
        assert_eq!(r.url(&["healthz"], &[]).as_str(), "http://127.0.0.1:8080/healthz");
    }

    #[test]
    fn bad_urls_and_tokens_are_refused_naming_them() {
        for bad in ["127.0.0.1:8080", "ftp://h/", "https://example.com", "http://h/?q=1", "not a url"] {
            let e = Remote::new(bad, None).err().unwrap();
            assert!(matches!(e, RemoteError::BadUrl { .. }), "{bad}: {e}");
        }
        assert!(matches!(Remote::new("http://h", Some("a b".into())), Err(RemoteError::BadToken)));
        assert!(Remote::new("http://h", Some(String::new())).unwrap().token.is_none());
    }
}
