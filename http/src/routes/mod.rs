//! The routes, one file per resource: health, instances, runs (start,
//! list, read), a run's verbs (result, signal, cancel, terminate, pause,
//! resume, reset, retry), its queries and updates, its journal and history,
//! workflows (versions, deploy) and replay checks, schedules (create, list,
//! pause, resume, delete), an instance's counters (stats); and the web UI's
//! (`/`, `/ui/...`).

pub(crate) mod health;
pub(crate) mod history;
pub(crate) mod instances;
pub(crate) mod journal;
pub(crate) mod queries;
pub(crate) mod replay;
pub(crate) mod run_verbs;
pub(crate) mod runs;
pub(crate) mod schedules;
pub(crate) mod stats;
pub(crate) mod updates;
pub(crate) mod workflows;

use axum::routing::{delete, get, post};
use axum::Router;

use crate::errors::ApiError;
use crate::AppState;

/// Every route of the API.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(crate::openapi::openapi_json))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/v1/instances", get(instances::list))
        .route("/v1/instances/{instance}/runs", post(runs::start).get(runs::list))
        .route("/v1/instances/{instance}/runs/{run_id}", get(runs::read))
        .route("/v1/instances/{instance}/runs/{run_id}/result", get(run_verbs::result))
        .route("/v1/instances/{instance}/runs/{run_id}/signals", post(run_verbs::signal))
        .route("/v1/instances/{instance}/runs/{run_id}/queries", post(queries::query))
        .route("/v1/instances/{instance}/runs/{run_id}/updates", post(updates::send))
        .route("/v1/instances/{instance}/runs/{run_id}/updates/{update_id}", get(updates::read))
        .route("/v1/instances/{instance}/runs/{run_id}/cancel", post(run_verbs::cancel))
        .route("/v1/instances/{instance}/runs/{run_id}/terminate", post(run_verbs::terminate))
        .route("/v1/instances/{instance}/runs/{run_id}/pause", post(run_verbs::pause))
        .route("/v1/instances/{instance}/runs/{run_id}/resume", post(run_verbs::resume))
        .route("/v1/instances/{instance}/runs/{run_id}/retry", post(run_verbs::retry))
        .route("/v1/instances/{instance}/runs/{run_id}/reset", post(run_verbs::reset))
        .route("/v1/instances/{instance}/runs/{run_id}/journal", get(journal::page))
        .route("/v1/instances/{instance}/runs/{run_id}/history", get(history::read))
        .route("/v1/instances/{instance}/runs/{run_id}/journal/stream", get(crate::sse::journal_stream))
        .route("/v1/instances/{instance}/stream/runs", get(crate::sse::run_changes))
        .route("/v1/instances/{instance}/stats", get(stats::stats))
        .route("/v1/instances/{instance}/workflows", get(workflows::list))
        .route("/v1/instances/{instance}/workflows/{workflow}/versions", post(workflows::deploy))
        .route("/v1/instances/{instance}/replay", post(replay::replay))
        .route("/v1/instances/{instance}/schedules", post(schedules::create).get(schedules::list))
        .route("/v1/instances/{instance}/schedules/{name}", delete(schedules::delete))
        .route("/v1/instances/{instance}/schedules/{name}/pause", post(schedules::pause))
        .route("/v1/instances/{instance}/schedules/{name}/resume", post(schedules::resume))
        .merge(crate::ui::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn not_found() -> ApiError {
    ApiError::new(axum::http::StatusCode::NOT_FOUND, "not_found", "no such path (see /openapi.json)")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(axum::http::StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this path does not take that method")
}
