//! `GET .../runs/{id}/journal?after=0&limit=100`: a page of a run's
//! journal, in order.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use continuum_host::{CallOptions, HistoryEvent};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::body::QueryArgs;
use crate::errors::ApiError;
use crate::scope::RunScope;
use crate::AppState;

/// The default page size.
pub const DEFAULT_LIMIT: i64 = 100;
/// The largest page size.
pub const MAX_LIMIT: i64 = 1000;

/// Which page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct JournalQuery {
    /// Entries after this `seq` (default 0: from the start).
    pub after: Option<i64>,
    /// Page size (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// A page of a journal.
#[derive(Debug, Serialize, ToSchema)]
pub struct JournalPage {
    /// The entries, by `seq`.
    pub events: Vec<HistoryEvent>,
    /// The `after` of the next page; none when this page is the last so far.
    pub next_after: Option<i64>,
}

/// A page of a run's journal, in order.
#[utoipa::path(get, path = "/v1/instances/{instance}/runs/{run_id}/journal", tag = "runs", params(("instance" = String, Path, description = "The instance"), ("run_id" = String, Path, description = "The run id"), JournalQuery), responses((status = 200, description = "A page of the journal", body = JournalPage), crate::openapi::ApiErrors))]
pub(crate) async fn page(
    State(state): State<AppState>,
    scope: RunScope,
    QueryArgs(q): QueryArgs<JournalQuery>,
) -> Result<Json<JournalPage>, ApiError> {
    let after = q.after.unwrap_or(0);
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if after < 0 {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_query", format!("invalid after {after}: 0 or more")));
    }
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_query", format!("invalid limit {limit}: from 1 to {MAX_LIMIT}")));
    }
    let events = state.continuum.journal_page(&scope.run_id, after, limit, CallOptions::instance(scope.instance)).await?;
    let full = i64::try_from(events.len()).unwrap_or(i64::MAX) == limit;
    let next_after = events.last().filter(|_| full).map(|e| e.seq);
    Ok(Json(JournalPage { events, next_after }))
}
