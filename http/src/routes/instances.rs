//! `GET /v1/instances`: the instances served here that the caller's token
//! reaches.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::AppState;

/// The instances listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstanceList {
    /// By name.
    pub instances: Vec<InstanceEntry>,
}

/// One instance.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstanceEntry {
    /// Its name.
    pub name: String,
}

/// The instances served here that the caller's token reaches.
#[utoipa::path(get, path = "/v1/instances", tag = "instances", responses((status = 200, description = "The instances", body = InstanceList), crate::openapi::ApiErrors))]
pub(crate) async fn list(State(state): State<AppState>, caller: Caller) -> Json<InstanceList> {
    let instances = state
        .continuum
        .instance_names()
        .into_iter()
        .filter(|name| caller.may_use(name))
        .map(|name| InstanceEntry { name })
        .collect();
    Json(InstanceList { instances })
}
