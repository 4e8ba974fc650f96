//! Server-sent event streams: a run's journal entries as they are
//! committed (`GET .../runs/{run_id}/journal/stream`), and the run state
//! changes of an instance (`GET .../stream/runs`). Both poll the database
//! (every [`POLL`]), so they see what any host commits, and both resume
//! where a client's `Last-Event-ID` says it stopped.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::{DateTime, Utc};
use continuum_host::{CallOptions, Continuum, RunState};
use futures::stream::{self, Stream};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::body::QueryArgs;
use crate::errors::{ApiError, ErrorBody, ErrorDetail};
use crate::scope::{InstanceScope, RunScope};
use crate::AppState;

/// How often a stream looks for news.
pub const POLL: Duration = Duration::from_millis(250);
/// How far back the state stream re-reads changes: a change committed by
/// a transaction that began earlier carries an earlier time.
pub const LOOKBACK: Duration = Duration::from_secs(5);
/// Journal entries or runs read per poll.
const PAGE: i64 = 500;

/// Where a journal stream starts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct JournalStreamQuery {
    /// Entries after this `seq` (default 0; a `Last-Event-ID` header wins).
    pub after: Option<i64>,
}

/// Where a state stream starts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StateStreamQuery {
    /// Changes from this time on (RFC 3339, like an event's id), instead of
    /// from now; a `Last-Event-ID` header wins.
    pub since: Option<DateTime<Utc>>,
}

/// The last event of a journal stream: the run is final.
#[derive(Debug, Serialize, ToSchema)]
pub struct StreamEnd {
    /// Its final state.
    pub state: RunState,
}

/// A run's state changed (`state` events of the instance stream).
#[derive(Debug, Serialize, ToSchema)]
pub struct StateChange {
    /// The run.
    pub run_id: String,
    /// Its workflow.
    pub workflow: String,
    /// Its new state.
    pub state: RunState,
    /// When the run last changed.
    pub updated_at: DateTime<Utc>,
}

fn json_event(name: &str, data: &impl Serialize) -> Event {
    Event::default().event(name).json_data(data).unwrap_or_else(|_| Event::default().event(name))
}

/// The id of a state event: the change's time, to the microsecond.
fn state_id(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn error_event(e: continuum_host::Error) -> Event {
    let e = ApiError::from(e);
    json_event("error", &ErrorBody { error: ErrorDetail { code: e.code, message: e.message } })
}

/// Streams a run's journal entries as they are committed (`entry` events,
/// id = `seq`), then one `end` event once the run is final and every entry
/// was sent. A broken database ends the stream with an `error` event.
#[utoipa::path(get, path = "/v1/instances/{instance}/runs/{run_id}/journal/stream", tag = "streams",
    params(("instance" = String, Path, description = "The instance"), ("run_id" = String, Path, description = "The run id"), JournalStreamQuery),
    responses((status = 200, description = "Server-sent events: `entry` (a HistoryEvent), `end` (a StreamEnd), `error` (an ErrorBody)", content_type = "text/event-stream", body = String), crate::openapi::ApiErrors))]
pub(crate) async fn journal_stream(
    State(state): State<AppState>,
    scope: RunScope,
    headers: HeaderMap,
    QueryArgs(q): QueryArgs<JournalStreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let opts = CallOptions::instance(scope.instance.clone());
    // An unknown run is a 404, before any stream.
    state.continuum.run_info(&scope.run_id, opts.clone()).await?;
    let resumed = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<i64>().ok());
    let after = resumed.or(q.after).unwrap_or(0).max(0);
    let c = state.continuum.clone();
    let run_id = scope.run_id;
    let start = (after, false, VecDeque::<Event>::new());
    let events = stream::unfold(start, move |(mut after, mut done, mut queue)| {
        let (c, run_id, opts) = (c.clone(), run_id.clone(), opts.clone());
        async move {
            loop {
                if let Some(ev) = queue.pop_front() {
                    return Some((Ok(ev), (after, done, queue)));
                }
                if done {
                    return None;
                }
                // Read the state first: entries committed with a final
                // state are in the page read after it.
                let run = c.run_info(&run_id, opts.clone()).await;
                let page = c.journal_page(&run_id, after, PAGE, opts.clone()).await;
                match (run, page) {
                    (Ok(run), Ok(page)) => {
                        let full = i64::try_from(page.len()).unwrap_or(i64::MAX) == PAGE;
                        for e in page {
                            after = e.seq;
                            queue.push_back(json_event("entry", &e).id(e.seq.to_string()));
                        }
                        if run.state.is_final() && !full {
                            queue.push_back(json_event("end", &StreamEnd { state: run.state }));
                            done = true;
                        } else if queue.is_empty() {
                            tokio::time::sleep(POLL).await;
                        }
                    }
                    (Err(e), _) | (_, Err(e)) => {
                        queue.push_back(error_event(e));
                        done = true;
                    }
                }
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// What the state stream remembers between polls.
struct Watch {
    c: Arc<Continuum>,
    opts: CallOptions,
    /// The latest change seen.
    high: DateTime<Utc>,
    /// Each run's last state sent (or seen before the stream began).
    known: HashMap<String, (RunState, DateTime<Utc>)>,
    queue: VecDeque<Event>,
    done: bool,
}

impl Watch {
    /// Reads the changes since `high - LOOKBACK` and queues those not sent.
    async fn poll(&mut self, send: bool) -> Result<(), continuum_host::Error> {
        let lookback = chrono::Duration::from_std(LOOKBACK).unwrap_or_default();
        let mut since = self.high - lookback;
        loop {
            let runs = self.c.runs_updated_since(since, PAGE, self.opts.clone()).await?;
            let full = i64::try_from(runs.len()).unwrap_or(i64::MAX) == PAGE;
            for r in &runs {
                self.high = self.high.max(r.updated_at);
                let changed = self.known.get(&r.key.run_id).map(|(s, _)| *s) != Some(r.state);
                if changed && send {
                    let change = StateChange { run_id: r.key.run_id.clone(), workflow: r.workflow.clone(), state: r.state, updated_at: r.updated_at };
                    self.queue.push_back(json_event("state", &change).id(state_id(r.updated_at)));
                }
                self.known.insert(r.key.run_id.clone(), (r.state, r.updated_at));
            }
            match runs.last() {
                Some(last) if full && last.updated_at > since => since = last.updated_at,
                _ => break,
            }
        }
        // Forget finished runs long past the window; a later change of one
        // is sent as a change.
        let horizon = self.high - lookback * 2;
        self.known.retain(|_, (s, at)| !s.is_final() || *at >= horizon);
        Ok(())
    }
}

/// Streams the instance's run state changes from now on (`state` events:
/// a StateChange each time a run is seen in a new state, its id the
/// change's time; states a run passes through between two polls may be
/// skipped). A client that reconnects with `Last-Event-ID` (or asks
/// `?since=`) first gets the current state of every run changed since
/// [`LOOKBACK`] before that time, so no change committed meanwhile is
/// missed (one it saw may come again). A broken database ends the stream
/// with an `error` event.
#[utoipa::path(get, path = "/v1/instances/{instance}/stream/runs", tag = "streams",
    params(("instance" = String, Path, description = "The instance"), StateStreamQuery),
    responses((status = 200, description = "Server-sent events: `state` (a StateChange), `error` (an ErrorBody)", content_type = "text/event-stream", body = String), crate::openapi::ApiErrors))]
pub(crate) async fn run_changes(
    State(state): State<AppState>,
    scope: InstanceScope,
    headers: HeaderMap,
    QueryArgs(q): QueryArgs<StateStreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let resumed = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|v| DateTime::parse_from_rfc3339(v.trim()).ok())
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| ApiError::bad_request("Last-Event-ID is not a state event's id (an RFC 3339 time)"))?,
        ),
        None => q.since,
    };
    let mut watch = Watch {
        c: state.continuum.clone(),
        opts: CallOptions::instance(scope.instance),
        high: resumed.unwrap_or_else(Utc::now),
        known: HashMap::new(),
        queue: VecDeque::new(),
        done: false,
    };
    // What is already so is not news: read it before answering, so a run
    // started once the answer arrived is sent. A resumed stream sends it:
    // the client may have missed it.
    watch.poll(resumed.is_some()).await?;
    let events = stream::unfold(watch, |mut w| async move {
        loop {
            if let Some(ev) = w.queue.pop_front() {
                return Some((Ok(ev), w));
            }
            if w.done {
                return None;
            }
            tokio::time::sleep(POLL).await;
            if let Err(e) = w.poll(true).await {
                w.queue.push_back(error_event(e));
                w.done = true;
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
