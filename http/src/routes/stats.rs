//! `GET /v1/instances/{instance}/stats`: this host's counters of an
//! instance, exact at the moment of the request, so that a caller can take
//! the difference over any window (what `continuum-bench --http` divides
//! by the workflows it ran).

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::errors::ApiError;
use crate::scope::InstanceScope;
use crate::AppState;

/// An instance's counters in this host process since it started.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstanceStats {
    /// The instance.
    pub instance: String,
    /// Write transactions its journal committed (every transaction or
    /// autocommit statement that may write, polls that found nothing
    /// included; reads not counted).
    pub commits: u64,
    /// Run writes (journal entries and transitions of one run) that went
    /// through the group commit.
    pub run_writes: u64,
    /// The group commit's transactions, which carried those run writes.
    pub run_write_transactions: u64,
}

/// This host's counters of an instance since the host started.
#[utoipa::path(get, path = "/v1/instances/{instance}/stats", tag = "instances", params(("instance" = String, Path, description = "The instance")), responses((status = 200, description = "The counters", body = InstanceStats), crate::openapi::ApiErrors))]
pub(crate) async fn stats(State(state): State<AppState>, scope: InstanceScope) -> Result<Json<InstanceStats>, ApiError> {
    let instance = state.continuum.instance(Some(&scope.instance))?;
    let (run_writes, run_write_transactions) = instance.commit_stats();
    Ok(Json(InstanceStats { commits: instance.commits(), run_writes, run_write_transactions, instance: scope.instance }))
}
