//! An instance's workflows: list them with their versions (`GET
//! .../workflows`), deploy a new version (`POST
//! .../workflows/{workflow}/versions`, the component as the body), with the
//! replay check and the migration the CLI's `deploy` has.

use axum::body::Bytes;
use axum::extract::{RawPathParams, State};
use axum::http::StatusCode;
use axum::Json;
use continuum_host::{CallOptions, DeployOptions, Migrate, WorkflowVersions};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::body::QueryArgs;
use crate::errors::ApiError;
use crate::scope::InstanceScope;
use crate::upload::Upload;
use crate::AppState;

/// The workflows listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowList {
    /// By name.
    pub workflows: Vec<WorkflowVersions>,
}

/// `POST .../versions`: what to do with the runs in flight.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeployQuery {
    /// Move unfinished runs to the new version: `all`, or run ids separated by commas.
    pub migrate: Option<String>,
    /// Replay the runs to migrate on the new version first; refuse the deploy (409) if any would diverge.
    pub check: Option<bool>,
}

/// A run's replay check.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunCheck {
    /// The run.
    pub run_id: String,
    /// True when its history replays on the new version.
    pub compatible: bool,
    /// The verdict, in words (the first diverging step when incompatible).
    pub verdict: String,
}

/// A run not migrated, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotMigrated {
    /// The run.
    pub run_id: String,
    /// Why (deploying again retries it).
    pub reason: String,
}

/// What a deploy did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deployed {
    /// The workflow.
    pub workflow: String,
    /// The new current version (hex SHA-256).
    pub hash: String,
    /// Runs moved to it.
    pub migrated: u64,
    /// The replay check of each run to migrate (with `check`).
    pub checks: Vec<RunCheck>,
    /// Runs to migrate left on their version; deploying again retries them.
    pub not_migrated: Vec<NotMigrated>,
    /// Runs to migrate that finished on their version first.
    pub finished: Vec<String>,
}

/// Lists the instance's workflows, each with its current version and every version stored.
#[utoipa::path(get, path = "/v1/instances/{instance}/workflows", tag = "workflows",
    params(("instance" = String, Path, description = "The instance")),
    responses((status = 200, description = "The workflows", body = WorkflowList), crate::openapi::ApiErrors))]
pub(crate) async fn list(State(state): State<AppState>, scope: InstanceScope) -> Result<Json<WorkflowList>, ApiError> {
    let workflows = state.continuum.workflows(CallOptions::instance(scope.instance)).await?;
    Ok(Json(WorkflowList { workflows }))
}

/// Deploys the component in the body as the current version of the workflow.
#[utoipa::path(post, path = "/v1/instances/{instance}/workflows/{workflow}/versions", tag = "workflows",
    params(("instance" = String, Path, description = "The instance"), ("workflow" = String, Path, description = "The workflow"), DeployQuery),
    request_body(content = Vec<u8>, content_type = "application/wasm", description = "The workflow component"),
    responses((status = 201, description = "Deployed", body = Deployed), crate::openapi::ApiErrors))]
pub(crate) async fn deploy(
    State(state): State<AppState>,
    scope: InstanceScope,
    params: RawPathParams,
    QueryArgs(q): QueryArgs<DeployQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<Deployed>), ApiError> {
    let workflow = params.iter().find(|(k, _)| *k == "workflow").map(|(_, v)| v.to_string()).unwrap_or_default();
    let bytes = body.map_err(crate::body::body_error)?;
    if bytes.is_empty() {
        return Err(ApiError::bad_request("the body must be the workflow component (application/wasm); it is empty"));
    }
    let migrate = match q.migrate.as_deref().map(str::trim) {
        None | Some("") => Migrate::None,
        Some("all") => Migrate::All,
        Some(ids) => Migrate::Runs(ids.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()),
    };
    let check = q.check.unwrap_or(false);
    // The host deploys from a file, as the CLI does: the upload is one,
    // removed once the deploy has read it.
    let upload = Upload::write(&state.upload_dir, &bytes).await?;
    let opts = DeployOptions { instance: Some(scope.instance.clone()), migrate, check };
    let deployed = state.continuum.deploy(&workflow, upload.path(), opts).await;
    drop(upload);
    let report = deployed?;
    tracing::info!(instance = %scope.instance, workflow, hash = %report.hash, migrated = report.migrated, "workflow deployed over HTTP");
    let checks = report
        .checks
        .iter()
        .map(|(run_id, v)| RunCheck { run_id: run_id.clone(), compatible: v.is_compatible(), verdict: v.to_string() })
        .collect();
    let not_migrated =
        report.not_migrated.into_iter().map(|(run_id, reason)| NotMigrated { run_id, reason }).collect();
    let body = Deployed { workflow, hash: report.hash, migrated: report.migrated, checks, not_migrated, finished: report.finished };
    Ok((StatusCode::CREATED, Json(body)))
}
