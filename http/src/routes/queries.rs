//! Asking a run a query: `POST .../queries` replays the run's history
//! read-only and answers with its workflow's answer. Nothing is written.

use axum::extract::State;
use axum::Json;
use continuum_host::CallOptions;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::body::JsonBody;
use crate::errors::ApiError;
use crate::scope::RunScope;
use crate::AppState;

/// `POST .../queries`: the query.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryRequest {
    /// The query name.
    pub name: String,
    /// Its JSON arguments (default `null`).
    #[serde(default)]
    pub args: Value,
}

/// A query's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueryAnswered {
    /// The run asked (one that continued as new is answered by its
    /// chain's latest run).
    pub run_id: String,
    /// The query name.
    pub query: String,
    /// The workflow's answer (JSON).
    pub answer: Value,
}

/// Asks a run a query: its history is replayed read-only (nothing written, no lease taken) and its workflow answers from its state. 404 `unknown_query` for a query the workflow does not have, 409 `queries_unsupported` for a workflow that answers none, 422 `query_failed` when the handler failed.
#[utoipa::path(post, path = "/v1/instances/{instance}/runs/{run_id}/queries", tag = "runs", params(("instance" = String, Path, description = "The instance"), ("run_id" = String, Path, description = "The run id")), request_body = QueryRequest, responses((status = 200, description = "Answered", body = QueryAnswered), (status = 422, description = "The query's handler failed, or the run's history could not be replayed (query_failed)", body = crate::errors::ErrorBody), crate::openapi::ApiErrors))]
pub(crate) async fn query(
    State(state): State<AppState>,
    scope: RunScope,
    JsonBody(req): JsonBody<QueryRequest>,
) -> Result<Json<QueryAnswered>, ApiError> {
    crate::body::check_payload("query arguments", &req.args, state.max_payload_bytes)?;
    let answer = state.continuum.query(&scope.run_id, &req.name, req.args, CallOptions::instance(scope.instance)).await?;
    Ok(Json(QueryAnswered { run_id: scope.run_id, query: req.name, answer }))
}
