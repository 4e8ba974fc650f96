//! What a request addresses, checked before its handler runs: the
//! instance of its path (known, and reachable with the caller's token) and,
//! for a run's paths, the run id (a schedule's: its name). A handler that takes an
//! [`InstanceScope`] or a [`RunScope`] cannot forget the check.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;

use crate::auth::{clip, Caller};
use crate::errors::ApiError;
use crate::AppState;

/// The caller of a request (401 when a token is needed and missing).
impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        state.tokens.caller(&parts.headers)
    }
}

/// An instance of the path the caller may use.
#[derive(Debug, Clone)]
pub struct InstanceScope {
    /// The instance.
    pub instance: String,
    /// Who calls.
    pub caller: Caller,
}

/// A run of an instance the caller may use (the run itself is not read).
#[derive(Debug, Clone)]
pub struct RunScope {
    /// The instance.
    pub instance: String,
    /// The run id.
    pub run_id: String,
}

/// A schedule of an instance the caller may use (the schedule itself is
/// not read).
#[derive(Debug, Clone)]
pub struct ScheduleScope {
    /// The instance.
    pub instance: String,
    /// The schedule's name.
    pub name: String,
}

async fn path_param(parts: &mut Parts, state: &AppState, name: &str) -> Result<String, ApiError> {
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|e| ApiError::bad_request(format!("invalid path: {e}")))?;
    params
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .ok_or_else(|| ApiError::bad_request(format!("the path names no {name}")))
}

impl FromRequestParts<AppState> for InstanceScope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = state.tokens.caller(&parts.headers)?;
        let instance = path_param(parts, state, "instance").await?;
        // Another instance's token learns nothing, not even whether it exists.
        caller.check(&instance)?;
        if state.continuum.instance(Some(&instance)).is_err() {
            return Err(ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "unknown_instance",
                format!("instance `{}` is not served here", clip(&instance)),
            ));
        }
        Ok(InstanceScope { instance, caller })
    }
}

impl FromRequestParts<AppState> for RunScope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let InstanceScope { instance, .. } = InstanceScope::from_request_parts(parts, state).await?;
        let run_id = path_param(parts, state, "run_id").await?;
        Ok(RunScope { instance, run_id })
    }
}

impl FromRequestParts<AppState> for ScheduleScope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let InstanceScope { instance, .. } = InstanceScope::from_request_parts(parts, state).await?;
        let name = path_param(parts, state, "name").await?;
        Ok(ScheduleScope { instance, name })
    }
}
