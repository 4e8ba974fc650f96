//! Schedules of an instance: create one (`POST .../schedules`), list them
//! with their next tick (`GET .../schedules`), pause, resume and delete one
//! (`.../schedules/{name}`). The bodies are the host's
//! [`ScheduleDraft`] and [`ScheduleView`], which the CLI reads and writes
//! too.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use continuum_host::{CallOptions, ScheduleDraft, ScheduleView};
use serde::Serialize;
use utoipa::ToSchema;

use crate::body::{check_payload, JsonBody};
use crate::errors::ApiError;
use crate::scope::{InstanceScope, ScheduleScope};
use crate::AppState;

/// The schedules of an instance, by name.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleList {
    /// By name.
    pub schedules: Vec<ScheduleView>,
}

/// A schedule deleted.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleDeleted {
    /// Its name.
    pub name: String,
    /// Always true.
    pub deleted: bool,
}

/// Creates a schedule: each tick of its cron expression (or its one time) starts one run of the workflow, named `NAME@TICK`, however many hosts serve the instance.
#[utoipa::path(post, path = "/v1/instances/{instance}/schedules", tag = "schedules", params(("instance" = String, Path, description = "The instance")), request_body = continuum_host::ScheduleDraft, responses((status = 201, description = "Created", body = continuum_host::ScheduleView), crate::openapi::ApiErrors))]
pub(crate) async fn create(
    State(state): State<AppState>,
    scope: InstanceScope,
    JsonBody(draft): JsonBody<ScheduleDraft>,
) -> Result<(StatusCode, Json<ScheduleView>), ApiError> {
    if let Some(input) = &draft.input {
        check_payload("input", input, state.max_payload_bytes)?;
    }
    let spec = draft.to_spec(&scope.instance)?;
    let info = state.continuum.create_schedule(&spec, CallOptions::instance(scope.instance)).await?;
    Ok((StatusCode::CREATED, Json(ScheduleView::from(&info))))
}

/// The instance's schedules, by name, with their next tick.
#[utoipa::path(get, path = "/v1/instances/{instance}/schedules", tag = "schedules", params(("instance" = String, Path, description = "The instance")), responses((status = 200, description = "The schedules", body = ScheduleList), crate::openapi::ApiErrors))]
pub(crate) async fn list(State(state): State<AppState>, scope: InstanceScope) -> Result<Json<ScheduleList>, ApiError> {
    let list = state.continuum.schedules(CallOptions::instance(scope.instance)).await?;
    Ok(Json(ScheduleList { schedules: list.iter().map(ScheduleView::from).collect() }))
}

/// Pauses a schedule: no tick fires until it is resumed.
#[utoipa::path(post, path = "/v1/instances/{instance}/schedules/{name}/pause", tag = "schedules", params(("instance" = String, Path, description = "The instance"), ("name" = String, Path, description = "The schedule")), responses((status = 200, description = "Paused", body = continuum_host::ScheduleView), crate::openapi::ApiErrors))]
pub(crate) async fn pause(State(state): State<AppState>, scope: ScheduleScope) -> Result<Json<ScheduleView>, ApiError> {
    let info = state.continuum.pause_schedule(&scope.name, CallOptions::instance(scope.instance)).await?;
    Ok(Json(ScheduleView::from(&info)))
}

/// Resumes a paused schedule from its next tick after now.
#[utoipa::path(post, path = "/v1/instances/{instance}/schedules/{name}/resume", tag = "schedules", params(("instance" = String, Path, description = "The instance"), ("name" = String, Path, description = "The schedule")), responses((status = 200, description = "Resumed", body = continuum_host::ScheduleView), crate::openapi::ApiErrors))]
pub(crate) async fn resume(State(state): State<AppState>, scope: ScheduleScope) -> Result<Json<ScheduleView>, ApiError> {
    let info = state.continuum.resume_schedule(&scope.name, CallOptions::instance(scope.instance)).await?;
    Ok(Json(ScheduleView::from(&info)))
}

/// Deletes a schedule; the runs it started stay.
#[utoipa::path(delete, path = "/v1/instances/{instance}/schedules/{name}", tag = "schedules", params(("instance" = String, Path, description = "The instance"), ("name" = String, Path, description = "The schedule")), responses((status = 200, description = "Deleted", body = ScheduleDeleted), crate::openapi::ApiErrors))]
pub(crate) async fn delete(State(state): State<AppState>, scope: ScheduleScope) -> Result<Json<ScheduleDeleted>, ApiError> {
    state.continuum.delete_schedule(&scope.name, CallOptions::instance(scope.instance)).await?;
    Ok(Json(ScheduleDeleted { name: scope.name, deleted: true }))
}
