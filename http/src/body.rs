//! Request bodies and query strings read into typed values, every failure
//! an [`ApiError`]: a body over the manifest's `max_body_bytes` is 413
//! `body_too_large`, one that is not the JSON expected is 400
//! `invalid_json` (unknown fields included), a bad query string 400
//! `bad_query`. The content type is not checked: the body is JSON.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::errors::ApiError;

/// A JSON body of type `T`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        let text = if bytes.iter().all(u8::is_ascii_whitespace) { &b"{}"[..] } else { &bytes[..] };
        serde_json::from_slice(text)
            .map(JsonBody)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", format!("invalid JSON body: {e}")))
    }
}

/// 413 `payload_too_large` when `value`, as JSON, is larger than `limit`
/// bytes (`what`: "input", "signal payload").
pub fn check_payload(what: &str, value: &serde_json::Value, limit: usize) -> Result<(), ApiError> {
    let size = serde_json::to_vec(value).map(|v| v.len()).unwrap_or(usize::MAX);
    if size > limit {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the {what} is {size} bytes of JSON, larger than the limit of {limit} bytes (max_payload_bytes)"),
        ));
    }
    Ok(())
}

/// A body that could not be read: 413 `body_too_large` past the limit,
/// else 400.
pub fn body_error(e: axum::extract::rejection::BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the request body is larger than the server's limit (max_body_bytes)")
    } else {
        ApiError::bad_request(format!("cannot read the request body: {e}"))
    }
}

/// A query string of type `T`.
#[derive(Debug)]
pub struct QueryArgs<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryArgs<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| QueryArgs(q))
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text()))
    }
}
