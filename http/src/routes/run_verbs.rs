//! What a caller does to a run: await its result (a long poll,
//! `?wait=30s`), send it a signal, cancel it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use continuum_host::{CallOptions, CancelOutcome, Error, RunInfo, RunState, SignalOptions};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use serde_json::Value;

use crate::body::{JsonBody, QueryArgs};
use crate::errors::ApiError;
use crate::scope::RunScope;
use crate::wait::parse_wait;
use crate::AppState;

/// `GET .../result`: how long to wait.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ResultQuery {
    /// How long to wait for the run to finish (`30s`, `500ms`; default: no wait).
    pub wait: Option<String>,
}

/// A run's result, or where it is when it has none yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunResult {
    /// True when the run is final (then `output` or `error` is set).
    pub done: bool,
    /// Its state.
    pub state: RunState,
    /// The output, when completed.
    pub output: Option<Value>,
    /// The error, when failed, cancelled or drifted.
    pub error: Option<Value>,
}

/// `POST .../signals`: the signal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignalRequest {
    /// The signal name.
    pub name: String,
    /// Its JSON payload (default `null`).
    #[serde(default)]
    pub payload: Value,
    /// An idempotency key: the run receives the signal once, however often
    /// it is sent with this key (a resend answers `duplicate: true`).
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// A signal sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignalSent {
    /// The run.
    pub run_id: String,
    /// The signal name.
    pub signal: String,
    /// It had been sent before with the same idempotency key: nothing was
    /// sent now.
    pub duplicate: bool,
}

/// How a cancellation ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct Cancelled {
    /// `cancelled`, `terminated`, `requested` (a cancellation that stands;
    /// the run has not ended yet), or `already_final` when the run had
    /// finished.
    #[schema(value_type = String)]
    pub outcome: &'static str,
    /// The run's final state.
    pub state: RunState,
}

/// A run's result; with `?wait=`, a long poll until it is final. 200 when final, 202 when not (yet).
#[utoipa::path(get, path = "/v1/instances/{instance}/runs/{run_id}/result", tag = "runs", params(("instance" = String, Path, description = "The instance"), ("run_id" = String, Path, description = "The run id"), ResultQuery), responses((status = 200, description = "Final", body = RunResult), (status = 202, description = "Not final yet", body = RunResult), crate::openapi::ApiErrors))]
pub(crate) async fn result(
    State(state): State<AppState>,
    scope: RunScope,
    QueryArgs(q): QueryArgs<ResultQuery>,
) -> Result<(StatusCode, Json<RunResult>), ApiError> {
    let wait = q.wait.as_deref().map(parse_wait).transpose()?.unwrap_or_default();
    let opts = || CallOptions::instance(scope.instance.clone());
    if !wait.is_zero() {
        match state.continuum.await_run(&scope.run_id, wait, opts()).await {
            Ok(o) => {
                let done = RunResult { done: true, state: o.state, output: o.output, error: o.error };
                return Ok((StatusCode::OK, Json(done)));
            }
            Err(Error::AwaitTimeout { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // A run that continued as new answers with its chain's latest run.
    let run = state.continuum.chain_end(&scope.run_id, opts()).await?;
    let done = run.state.is_final();
    let status = if done { StatusCode::OK } else { StatusCode::ACCEPTED };
    Ok((status, Json(RunResult { done, state: run.state, output: run.output, error: run.error })))
}

/// Sends a signal to a run.
#[utoipa::path(post, path = "/v1/instances/{instance}/runs/{run_id}/signals", tag = "runs", params(("instance" = String, Path, description = "The instance"), ("run_id" = String, Path, description = "The run id")), request_body = SignalRequest, responses((status = 202, description = "Sent", body = SignalSent), crate::openapi::ApiErrors))]
pub(crate) async fn signal(
    State(state): State<AppState>,
    scope: RunScope,
    JsonBody(req): JsonBody<SignalRequest>,
) -> Result<(StatusCode, Json<SignalSent>), ApiError> {
    crate::body::check_payload("signal payload", &req.payload, state.max_payload_bytes)?;
    let opts = SignalOptions { instance: Some(scope.instance), idempotency_key: req.idempotency_key };
    let sent = state.continuum.send_signal(&scope.run_id, &req.name, req.payload, opts).await?;
    Ok((StatusCode::ACCEPTED, Json(SignalSent { run_id: scope.run_id, signal: req.name, duplicate: sent.duplicate })))
}

/// Cancels a run: the workflow is told and may clean up before it ends as cancelled. `requested` when it has not ended within a few seconds (the request stands).
#[utoipa::path(post, path = "/v1/instances/{instance}/runs/{run_id}/cancel", tag = "runs", params(("instance" = String, Path, description = "The instance"), ("run_id" = String, Path, description = "The run id")), responses((status = 200, description = "Cancelled, requested, or already final", body = Cancelled), crate::openapi::ApiErrors))]
pub(crate) async fn cancel(State(state): State<AppState>, scope: RunScope) -> Result<Json<Cancelled>, ApiError> {
    let opts = || CallOptions::instance(scope.instance.clone());
    let outcome = state.continuum.cancel(&scope.run_id, opts()).await?;
    Ok(Json(match outcome {
        CancelOutcome::AlreadyFinal(state) => Cancelled { outcome: "already_final", state },
        CancelOutcome::Requested => {
            let run = state.continuum.run_info(&scope.run_id, opts()).await?;
            Cancelled { outcome: "requested", state: run.state }
        }
        _ => Cancelled { outcome: "cancelled", state: RunState::Cancelled },
    }))
}

/// Terminates a run: stops it at once, with no clean-up (it ends cancelled, error code `terminated`).
#[utoipa::path(post, path = "/v1/instances/{instance}/runs/{run_id}/terminate", tag = "runs", params(("instance" = String, Path, description = "The instance"), ("run_id" = String, Path, description = "The run id")), responses((status = 200, description = "Terminated, or already final", body = Cancelled), crate::openapi::ApiErrors))]
pub(crate) async fn terminate(State(state): State<AppState>, scope: RunScope) -> Result<Json<Cancelled>, ApiError> {
    let outcome = state.continuum.terminate(&scope.run_id, CallOptions::instance(scope.instance)).await?;
    Ok(Json(match outcome {
        CancelOutcome::AlreadyFinal(state) => Cancelled { outcome: "already_final", state },
        _ => Cancelled { outcome: "terminated", state: RunState::Cancelled },
    }))
}

/// `POST .../reset`: the journal entry to reset to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// The last journal entry kept (from 1 to the journal's last).
    pub to_seq: i64,
    /// Why (recorded with the reset).
    #[serde(default)]
    pub reason: Option<String>,
}

/// What a reset or retry did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResetDone {
    /// The run.
    pub run_id: String,
    /// The reset's number among the run's resets.
    pub reset_id: i64,
    /// The last journal entry kept.
    pub to_seq: i64,
    /// How many entries it superseded (kept as the reset's history).
    pub superseded: usize,
}

impl From<continuum_host::ResetOutcome> for ResetDone {
    fn from(o: continuum_host::ResetOutcome) -> Self {
        Self { run_id: o.run_id, reset_id: o.reset_id, to_seq: o.to_seq, superseded: o.superseded }
    }
}

/// Pauses a run: no host executes it until it is resumed (signals and results still arrive and wait). 409 for a finished or paused run.
#[utoipa::path(post, path = "/v1/instances/{instance}/runs/{run_id}/pause", tag = "runs", params(("instance" = String, Path, description = "The instance"), ("run_id" = String, Path, description = "The run id")), responses((status = 200, description = "Paused", body = continuum_host::RunInfo), crate::openapi::ApiErrors))]
pub(crate) async fn pause(State(state): State<AppState>, scope: RunScope) -> Result<Json<RunInfo>, ApiError> {
    let opts = || CallOptions::instance(scope.instance.clone());
    state.continuum.pause(&scope.run_id, opts()).await?;
    Ok(Json(state.continuum.run_info(&scope.run_id, opts()).await?))
}

/// Resumes a paused run. 409 for a run that is not paused.
#[utoipa::path(post, path = "/v1/instances/{instance}/runs/{run_id}/resume", tag = "runs", params(("instance" = String, Path, description = "The instance"), ("run_id" = String, Path, description = "The run id")), responses((status = 200, description = "Resumed", body = continuum_host::RunInfo), crate::openapi::ApiErrors))]
pub(crate) async fn resume(State(state): State<AppState>, scope: RunScope) -> Result<Json<RunInfo>, ApiError> {
    let opts = || CallOptions::instance(scope.instance.clone());
    state.continuum.resume(&scope.run_id, opts()).await?;
    Ok(Json(state.continuum.run_info(&scope.run_id, opts()).await?))
}

/// Retries a failed run from its last journaled step (a failed activity runs again). 409 for a run that is not failed.
#[utoipa::path(post, path = "/v1/instances/{instance}/runs/{run_id}/retry", tag = "runs", params(("instance" = String, Path, description = "The instance"), ("run_id" = String, Path, description = "The run id")), responses((status = 200, description = "Retrying", body = ResetDone), crate::openapi::ApiErrors))]
pub(crate) async fn retry(State(state): State<AppState>, scope: RunScope) -> Result<Json<ResetDone>, ApiError> {
    let done = state.continuum.retry(&scope.run_id, CallOptions::instance(scope.instance)).await?;
    Ok(Json(done.into()))
}

/// Resets a run to a journal entry: it goes on live from there; the later entries are kept as the reset's history. 400 for an entry the journal does not have.
#[utoipa::path(post, path = "/v1/instances/{instance}/runs/{run_id}/reset", tag = "runs", params(("instance" = String, Path, description = "The instance"), ("run_id" = String, Path, description = "The run id")), request_body = ResetRequest, responses((status = 200, description = "Reset", body = ResetDone), crate::openapi::ApiErrors))]
pub(crate) async fn reset(
    State(state): State<AppState>,
    scope: RunScope,
    JsonBody(req): JsonBody<ResetRequest>,
) -> Result<Json<ResetDone>, ApiError> {
    let done = state.continuum.reset(&scope.run_id, req.to_seq, req.reason, CallOptions::instance(scope.instance)).await?;
    Ok(Json(done.into()))
}
