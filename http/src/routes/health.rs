//! `/healthz` (the process answers) and `/readyz` (every instance's
//! database answers; the body names those that do not). Neither needs a
//! token.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use continuum_host::CallOptions;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;

/// How long a readiness probe waits for a database.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// `/healthz`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    #[schema(value_type = String)]
    pub status: &'static str,
}

/// `/readyz`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// True when every instance's database answered.
    pub ready: bool,
    /// Each instance and its database.
    pub instances: Vec<InstanceReadiness>,
}

/// One instance's database, as `/readyz` found it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstanceReadiness {
    /// The instance.
    pub name: String,
    /// `ok` or `unreachable`.
    #[schema(value_type = String)]
    pub database: &'static str,
}

/// The process answers.
#[utoipa::path(get, path = "/healthz", tag = "health", security(()), responses((status = 200, description = "Alive", body = Health)))]
pub(crate) async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Every instance's database answers; the body names those that do not.
#[utoipa::path(get, path = "/readyz", tag = "health", security(()), responses((status = 200, description = "Ready", body = Readiness), (status = 503, description = "Some database is unreachable", body = Readiness)))]
pub(crate) async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let names = state.continuum.instance_names();
    let pings = names.iter().map(|name| {
        let c = state.continuum.clone();
        async move {
            match tokio::time::timeout(PING_TIMEOUT, c.ping(CallOptions::instance(name.clone()))).await {
                Ok(Ok(())) => true,
                Ok(Err(e)) => {
                    tracing::warn!(instance = %name, error = %e, "readiness: the database does not answer");
                    false
                }
                Err(_) => {
                    tracing::warn!(instance = %name, "readiness: the database did not answer within {PING_TIMEOUT:?}");
                    false
                }
            }
        }
    });
    let answers = futures::future::join_all(pings).await;
    let instances: Vec<InstanceReadiness> = names
        .into_iter()
        .zip(answers)
        .map(|(name, ok)| InstanceReadiness { name, database: if ok { "ok" } else { "unreachable" } })
        .collect();
    let ready = instances.iter().all(|i| i.database == "ok");
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(Readiness { ready, instances }))
}
