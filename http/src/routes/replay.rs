//! `POST .../replay`: replays recorded histories on a candidate component
//! (the body) without deploying it, and answers per run whether it is
//! compatible or where it first diverges: the CLI's `replay`.

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use continuum_host::CallOptions;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::body::QueryArgs;
use crate::errors::ApiError;
use crate::routes::workflows::RunCheck;
use crate::scope::InstanceScope;
use crate::upload::Upload;
use crate::AppState;

/// Which runs to replay.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReplayQuery {
    /// The workflow the candidate is a version of: every unfinished run of it is replayed when `runs` is absent.
    pub workflow: Option<String>,
    /// Run ids separated by commas, all of one workflow (of `workflow` when given).
    pub runs: Option<String>,
}

/// The verdicts.
#[derive(Debug, Serialize, ToSchema)]
pub struct Replayed {
    /// One per run replayed.
    pub runs: Vec<RunCheck>,
}

/// Replays runs' histories on the component in the body; deploys nothing.
#[utoipa::path(post, path = "/v1/instances/{instance}/replay", tag = "workflows",
    params(("instance" = String, Path, description = "The instance"), ReplayQuery),
    request_body(content = Vec<u8>, content_type = "application/wasm", description = "The candidate workflow component"),
    responses((status = 200, description = "The verdict of each run", body = Replayed), crate::openapi::ApiErrors))]
pub(crate) async fn replay(
    State(state): State<AppState>,
    scope: InstanceScope,
    QueryArgs(q): QueryArgs<ReplayQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<Replayed>, ApiError> {
    let bytes = body.map_err(crate::body::body_error)?;
    if bytes.is_empty() {
        return Err(ApiError::bad_request("the body must be the candidate workflow component (application/wasm); it is empty"));
    }
    let runs: Vec<String> = match q.runs.as_deref() {
        None => Vec::new(),
        Some(ids) => ids.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
    };
    let workflow = q.workflow.as_deref().map(str::trim).filter(|w| !w.is_empty());
    let upload = Upload::write(&state.upload_dir, &bytes).await?;
    let verdicts = state.continuum.replay(workflow, upload.path(), &runs, CallOptions::instance(scope.instance)).await;
    drop(upload);
    let runs = verdicts?
        .into_iter()
        .map(|(run_id, v)| RunCheck { run_id, compatible: v.is_compatible(), verdict: v.to_string() })
        .collect();
    Ok(Json(Replayed { runs }))
}
