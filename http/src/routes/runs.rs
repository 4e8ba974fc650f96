//! Runs of an instance: start one (`POST .../runs`), list them with
//! filters and a cursor (`GET .../runs`), read one (`GET .../runs/{id}`).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use continuum_host::{parse_attribute_filter, CallOptions, IfExists, RunInfo, RunQuery, RunState, StartOptions};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use serde_json::Value;

use crate::body::{JsonBody, QueryArgs};
use crate::errors::ApiError;
use crate::scope::{InstanceScope, RunScope};
use crate::{cursor, AppState};

/// The default page size of a listing.
pub const DEFAULT_LIMIT: i64 = 50;
/// The largest page size of a listing.
pub const MAX_LIMIT: i64 = 1000;

/// `POST .../runs`: what to start.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// The workflow.
    pub workflow: String,
    /// The JSON input (default `{}`).
    #[serde(default)]
    pub input: Option<Value>,
    /// The run id (default: a new UUID). A run with this id and the same
    /// workflow and input is returned (200, `existed`), not started again;
    /// another workflow or input is a 409 `run_conflict`.
    #[serde(default)]
    pub run_id: Option<String>,
    /// `return` (default) or `fail`: what a start under an existing run id
    /// with the same workflow and input does (`fail`: 409 `run_exists`).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub if_exists: Option<IfExistsParam>,
}

/// `StartRequest::if_exists`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IfExistsParam {
    /// Return the existing run.
    Return,
    /// Refuse with 409 `run_exists`.
    Fail,
}

/// A run started.
#[derive(Debug, Serialize, ToSchema)]
pub struct Started {
    /// The instance.
    pub instance: String,
    /// The run id.
    pub run_id: String,
    /// The run existed already with the same workflow and input: nothing
    /// was started (status 200 instead of 201).
    pub existed: bool,
}

/// `GET .../runs`: filters and the page (read from the query string's
/// pairs by [`ListQuery::from_pairs`]: `attr` may stand more than once).
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only runs in this state.
    pub state: Option<String>,
    /// Only runs of this workflow.
    pub workflow: Option<String>,
    /// Only runs created at or after this time (RFC 3339).
    pub created_since: Option<String>,
    /// Only runs created before this time (RFC 3339).
    pub created_until: Option<String>,
    /// Only the children of this run.
    pub parent: Option<String>,
    /// Only runs with this attribute set to this value, written
    /// `key=value` (URL-encoded); repeat it for several (all must hold).
    #[param(style = Form, explode)]
    pub attr: Option<Vec<String>>,
    /// Page size (default 50, at most 1000).
    pub limit: Option<i64>,
    /// Where to go on: the `next_cursor` of the page before.
    pub cursor: Option<String>,
}

impl ListQuery {
    /// The query from the query string's pairs; an unknown parameter, or
    /// one but `attr` given twice, is a 400 `bad_query`.
    fn from_pairs(pairs: Vec<(String, String)>) -> Result<Self, ApiError> {
        let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "bad_query", m);
        let mut q = ListQuery::default();
        for (name, value) in pairs {
            let slot = match name.as_str() {
                "attr" => {
                    q.attr.get_or_insert_with(Vec::new).push(value);
                    continue;
                }
                "limit" => {
                    let n = value.trim().parse::<i64>().map_err(|_| bad(format!("invalid limit `{}`: give a number", crate::auth::clip(&value))))?;
                    if q.limit.replace(n).is_some() {
                        return Err(bad("parameter `limit` given twice".into()));
                    }
                    continue;
                }
                "state" => &mut q.state,
                "workflow" => &mut q.workflow,
                "created_since" => &mut q.created_since,
                "created_until" => &mut q.created_until,
                "parent" => &mut q.parent,
                "cursor" => &mut q.cursor,
                other => {
                    return Err(bad(format!(
                        "unknown parameter `{}`: expected one of state, workflow, created_since, created_until, parent, attr, limit, cursor",
                        crate::auth::clip(other)
                    )))
                }
            };
            if slot.replace(value).is_some() {
                return Err(bad(format!("parameter `{name}` given twice")));
            }
        }
        Ok(q)
    }
}

/// A page of runs.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunPage {
    /// The runs, newest first.
    pub runs: Vec<RunInfo>,
    /// The cursor of the next page; none when this page is the last (no
    /// more runs match).
    pub next_cursor: Option<String>,
}

/// Starts a run.
#[utoipa::path(post, path = "/v1/instances/{instance}/runs", tag = "runs", params(("instance" = String, Path, description = "The instance")), request_body = StartRequest, responses((status = 201, description = "Started", body = Started), (status = 200, description = "The run existed with the same workflow and input", body = Started), crate::openapi::ApiErrors))]
pub(crate) async fn start(
    State(state): State<AppState>,
    scope: InstanceScope,
    JsonBody(req): JsonBody<StartRequest>,
) -> Result<Response, ApiError> {
    let input = req.input.unwrap_or_else(|| Value::Object(Default::default()));
    crate::body::check_payload("input", &input, state.max_payload_bytes)?;
    let if_exists = match req.if_exists {
        Some(IfExistsParam::Fail) => IfExists::Fail,
        Some(IfExistsParam::Return) | None => IfExists::Return,
    };
    let opts = StartOptions { instance: Some(scope.instance.clone()), run_id: req.run_id, if_exists };
    let started = state.continuum.start_run(&req.workflow, input, opts).await?;
    let (run_id, existed) = (started.run_id, started.existed);
    tracing::info!(instance = %scope.instance, run_id = %run_id, workflow = %req.workflow, existed, "run started over HTTP");
    let location = format!("/v1/instances/{}/runs/{}", scope.instance, run_id);
    let status = if existed { StatusCode::OK } else { StatusCode::CREATED };
    let mut response = (status, Json(Started { instance: scope.instance, run_id, existed })).into_response();
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

fn time(what: &str, text: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    text.map(|t| {
        DateTime::parse_from_rfc3339(t).map(|d| d.with_timezone(&Utc)).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_query",
                format!("invalid {what} `{}`: give an RFC 3339 time such as 2026-01-31T12:00:00Z", crate::auth::clip(t)),
            )
        })
    })
    .transpose()
}

/// Lists runs, newest first, with filters and a cursor.
#[utoipa::path(get, path = "/v1/instances/{instance}/runs", tag = "runs", params(("instance" = String, Path, description = "The instance"), ListQuery), responses((status = 200, description = "A page of runs", body = RunPage), crate::openapi::ApiErrors))]
pub(crate) async fn list(
    State(state): State<AppState>,
    scope: InstanceScope,
    QueryArgs(pairs): QueryArgs<Vec<(String, String)>>,
) -> Result<Json<RunPage>, ApiError> {
    let q = ListQuery::from_pairs(pairs)?;
    let state_filter = match q.state.as_deref() {
        None => None,
        Some(s) => Some(RunState::parse(s).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_query",
                format!(
                    "invalid state `{}` (one of pending, running, suspended, completed, failed, cancelled, drifted, continued)",
                    crate::auth::clip(s)
                ),
            )
        })?),
    };
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_query", format!("invalid limit {limit}: from 1 to {MAX_LIMIT}")));
    }
    let attributes = q
        .attr
        .unwrap_or_default()
        .iter()
        .map(|a| {
            parse_attribute_filter(a)
                .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_query", format!("invalid attr: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let query = RunQuery {
        state: state_filter,
        workflow: q.workflow,
        created_since: time("created_since", q.created_since.as_deref())?,
        created_until: time("created_until", q.created_until.as_deref())?,
        before: q.cursor.as_deref().map(cursor::decode).transpose()?,
        parent: q.parent,
        attributes,
        limit,
    };
    let page = state.continuum.runs_page(&query, CallOptions::instance(scope.instance)).await?;
    Ok(Json(RunPage { runs: page.runs, next_cursor: page.next_cursor }))
}

/// Reads a run: state, output or error, lease.
#[utoipa::path(get, path = "/v1/instances/{instance}/runs/{run_id}", tag = "runs", params(("instance" = String, Path, description = "The instance"), ("run_id" = String, Path, description = "The run id")), responses((status = 200, description = "The run", body = continuum_host::RunInfo), crate::openapi::ApiErrors))]
pub(crate) async fn read(State(state): State<AppState>, scope: RunScope) -> Result<Json<RunInfo>, ApiError> {
    Ok(Json(state.continuum.run_info(&scope.run_id, CallOptions::instance(scope.instance)).await?))
}
