//! `GET .../runs/{id}/history`: a run's record, its whole journal, the
//! heartbeats and the open activity calls, in one answer: what `continuum
//! show` prints (its `--json` is this body, over HTTP or not).

use axum::extract::State;
use axum::Json;
use continuum_host::{CallOptions, RunHistory};

use crate::errors::ApiError;
use crate::scope::RunScope;
use crate::AppState;

/// A run's record, journal, heartbeats and open activity calls (what `continuum show --json` prints).
#[utoipa::path(get, path = "/v1/instances/{instance}/runs/{run_id}/history", tag = "runs", params(("instance" = String, Path, description = "The instance"), ("run_id" = String, Path, description = "The run id")), responses((status = 200, description = "The run and its whole journal", body = continuum_host::RunHistory), crate::openapi::ApiErrors))]
pub(crate) async fn read(State(state): State<AppState>, scope: RunScope) -> Result<Json<RunHistory>, ApiError> {
    Ok(Json(state.continuum.history(&scope.run_id, CallOptions::instance(scope.instance)).await?))
}
