//! Updates: a signal whose sender waits for the workflow's reply.
//! `POST .../updates` stores it (durable, delivered once) and, with
//! `?wait=30s`, long-polls for the reply; `GET .../updates/{update_id}`
//! waits again. 200 with the reply, 202 when none came yet (the update
//! stays delivered).

use std::time::Duration;

use axum::extract::{RawPathParams, State};
use axum::http::StatusCode;
use axum::Json;
use continuum_host::{CallOptions, Error};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::body::{JsonBody, QueryArgs};
use crate::errors::ApiError;
use crate::scope::RunScope;
use crate::wait::parse_wait;
use crate::AppState;

/// `POST .../updates`: the update.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequest {
    /// The update name (the signal the workflow receives).
    pub name: String,
    /// Its JSON payload (default `null`).
    #[serde(default)]
    pub payload: Value,
}

/// How long to wait for the reply.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UpdateWait {
    /// How long to wait for the reply (`30s`, `500ms`; default: no wait).
    pub wait: Option<String>,
}

/// An update and its reply, when it has one.
#[derive(Debug, Serialize, ToSchema)]
pub struct UpdateAnswer {
    /// The update id (to wait again with `GET .../updates/{update_id}`).
    pub update_id: String,
    /// The run it was delivered to (the chain's latest run).
    pub run_id: String,
    /// True once the workflow replied (`reply` is then set).
    pub replied: bool,
    /// The workflow's reply.
    pub reply: Option<Value>,
}

/// Sends a run an update and, with `?wait=`, waits for the workflow's reply: 200 with it, 202 when none came yet (the update stays delivered; wait again on `GET .../updates/{update_id}`). A rejection by the workflow is 422 `update_rejected`; a run that ended without replying 409 `update_not_replied`.
#[utoipa::path(post, path = "/v1/instances/{instance}/runs/{run_id}/updates", tag = "runs", params(("instance" = String, Path, description = "The instance"), ("run_id" = String, Path, description = "The run id"), UpdateWait), request_body = UpdateRequest, responses((status = 200, description = "Replied", body = UpdateAnswer), (status = 202, description = "Delivered, not replied yet", body = UpdateAnswer), (status = 422, description = "The workflow rejected the update (update_rejected)", body = crate::errors::ErrorBody), crate::openapi::ApiErrors))]
pub(crate) async fn send(
    State(state): State<AppState>,
    scope: RunScope,
    QueryArgs(q): QueryArgs<UpdateWait>,
    JsonBody(req): JsonBody<UpdateRequest>,
) -> Result<(StatusCode, Json<UpdateAnswer>), ApiError> {
    let wait = q.wait.as_deref().map(parse_wait).transpose()?.unwrap_or_default();
    crate::body::check_payload("update payload", &req.payload, state.max_payload_bytes)?;
    let opts = CallOptions::instance(scope.instance.clone());
    let sent = state.continuum.send_update(&scope.run_id, &req.name, req.payload, opts).await?;
    answer(&state, &scope.instance, sent.run_id, sent.update_id, wait).await
}

/// Waits (`?wait=`) for the reply to an update: 200 with it, 202 when none came yet.
#[utoipa::path(get, path = "/v1/instances/{instance}/runs/{run_id}/updates/{update_id}", tag = "runs", params(("instance" = String, Path, description = "The instance"), ("run_id" = String, Path, description = "The run the update was delivered to"), ("update_id" = String, Path, description = "The update id"), UpdateWait), responses((status = 200, description = "Replied", body = UpdateAnswer), (status = 202, description = "Not replied yet", body = UpdateAnswer), (status = 422, description = "The workflow rejected the update (update_rejected)", body = crate::errors::ErrorBody), crate::openapi::ApiErrors))]
pub(crate) async fn read(
    State(state): State<AppState>,
    scope: RunScope,
    params: RawPathParams,
    QueryArgs(q): QueryArgs<UpdateWait>,
) -> Result<(StatusCode, Json<UpdateAnswer>), ApiError> {
    let wait = q.wait.as_deref().map(parse_wait).transpose()?.unwrap_or_default();
    let update_id = params.iter().find(|(k, _)| *k == "update_id").map(|(_, v)| v.to_string()).unwrap_or_default();
    answer(&state, &scope.instance, scope.run_id, update_id, wait).await
}

async fn answer(
    state: &AppState,
    instance: &str,
    run_id: String,
    update_id: String,
    wait: Duration,
) -> Result<(StatusCode, Json<UpdateAnswer>), ApiError> {
    match state.continuum.await_update(&run_id, &update_id, wait, CallOptions::instance(instance)).await {
        Ok(reply) => Ok((StatusCode::OK, Json(UpdateAnswer { update_id, run_id, replied: true, reply: Some(reply) }))),
        Err(Error::UpdateTimeout { .. }) => Ok((StatusCode::ACCEPTED, Json(UpdateAnswer { update_id, run_id, replied: false, reply: None }))),
        Err(e) => Err(e.into()),
    }
}
