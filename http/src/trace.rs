//! One tracing span per request (`http_request`, with the method and the
//! route template), and one event when it is answered: its status and how
//! long it took (debug; a server error is logged by [`crate::errors`]).

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// Runs the rest of the stack inside the request's span.
pub async fn trace_request(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "(none)".into());
    let span = tracing::info_span!("http_request", method = %req.method(), route = %route);
    let started = Instant::now();
    async move {
        let response = next.run(req).await;
        tracing::debug!(status = response.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "answered");
        response
    }
    .instrument(span)
    .await
}
