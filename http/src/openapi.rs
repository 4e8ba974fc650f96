//! `GET /openapi.json`: the API's OpenAPI 3.1 document, generated from the
//! handlers' annotations and the types they take and answer with. A test
//! validates real answers against it.

use std::collections::BTreeMap;

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, Modify, OpenApi};

use crate::errors::{ErrorBody, ErrorDetail};
use crate::routes;

/// The API's document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Continuum HTTP API", description = "Durable workflow runs over HTTP, one path per instance."),
    paths(
        routes::health::healthz,
        routes::health::readyz,
        routes::instances::list,
        routes::runs::start,
        routes::runs::list,
        routes::runs::read,
        routes::run_verbs::result,
        routes::run_verbs::signal,
        routes::queries::query,
        routes::updates::send,
        routes::updates::read,
        routes::run_verbs::cancel,
        routes::run_verbs::terminate,
        routes::run_verbs::pause,
        routes::run_verbs::resume,
        routes::run_verbs::retry,
        routes::run_verbs::reset,
        routes::journal::page,
        routes::history::read,
        routes::stats::stats,
        routes::workflows::list,
        routes::workflows::deploy,
        routes::replay::replay,
        routes::schedules::create,
        routes::schedules::list,
        routes::schedules::pause,
        routes::schedules::resume,
        routes::schedules::delete,
        crate::sse::journal_stream,
        crate::sse::run_changes,
    ),
    components(schemas(ErrorBody, ErrorDetail, continuum_host::RunInfo, continuum_host::RunKey, continuum_host::RunState, continuum_host::ParentClose, continuum_host::HistoryEvent, continuum_host::Heartbeat, continuum_host::OpenActivity, continuum_host::ChildRun, continuum_host::ChainRun, continuum_host::RunHistory, continuum_host::RunReset, continuum_host::WorkflowVersions, continuum_host::WorkflowVersion, continuum_host::ScheduleDraft, continuum_host::ScheduleView, crate::sse::StreamEnd, crate::sse::StateChange)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

/// Declares the bearer token scheme.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

/// The error answers every `/v1` path may give, each an [`ErrorBody`].
pub struct ApiErrors;

impl IntoResponses for ApiErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        [
            ("400", "Bad input: invalid JSON, name, query, cursor or schedule, a reset point the journal does not have (codes invalid_json, invalid_name, bad_query, bad_cursor, bad_request, invalid_module, invalid_schedule, invalid_reset_point)"),
            ("401", "No token, or an unknown one (unauthorized)"),
            ("403", "The token does not reach this instance (forbidden)"),
            ("404", "Unknown instance, run, workflow, schedule or query (unknown_instance, unknown_run, unknown_workflow, unknown_schedule, unknown_query)"),
            ("409", "Conflict (run_exists, run_conflict, signal_key_conflict, run_finished, workflow_mismatch, deploy_refused, schedule_exists, run_control_refused, queries_unsupported, update_not_replied)"),
            ("413", "The body or a payload is too large (body_too_large, payload_too_large)"),
            ("503", "The database is unavailable, or a cancel was not confirmed: retry (database_unavailable, cancel_not_confirmed)"),
        ]
        .into_iter()
        .map(|(status, description)| {
            let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
            let response = ResponseBuilder::new().description(description).content("application/json", content).build();
            (status.to_string(), RefOr::T(response))
        })
        .collect()
    }
}

/// The document as a JSON value (what `/openapi.json` answers).
pub fn document() -> serde_json::Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or_default()
}

/// The document, as JSON.
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_names_every_path() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        if let Ok(path) = std::env::var("CONTINUUM_DUMP_OPENAPI") {
            std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        }
        let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
        for p in ["/healthz", "/readyz", "/v1/instances", "/v1/instances/{instance}/runs", "/v1/instances/{instance}/runs/{run_id}/journal", "/v1/instances/{instance}/runs/{run_id}/history", "/v1/instances/{instance}/replay", "/v1/instances/{instance}/schedules", "/v1/instances/{instance}/schedules/{name}/pause", "/v1/instances/{instance}/runs/{run_id}/queries", "/v1/instances/{instance}/runs/{run_id}/updates", "/v1/instances/{instance}/runs/{run_id}/updates/{update_id}"] {
            assert!(paths.iter().any(|q| q.as_str() == p), "{p} missing from {paths:?}");
        }
    }
}
