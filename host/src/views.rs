//! Read-only views of runs: how a run ended ([`RunOutcome`], and
//! [`CancelOutcome`] for a cancellation), a run's record ([`RunInfo`]) and
//! its typed history ([`RunHistory`]). They are built from the journal's
//! records and carry no way back into it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::journal::{ActivityHeartbeat, ActivityWorker, ChainRun, ChildRun, Event, EventBody, OpenTask, RunKey, RunRecord, RunState};

/// How a cancellation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CancelOutcome {
    /// The run is cancelled (by us or by its engine, confirmed).
    Cancelled,
    /// The run had already finished in this state.
    AlreadyFinal(RunState),
    /// The cancellation is recorded and stands; the run has not ended yet:
    /// it is cleaning up, or is told when a host next executes it.
    Requested,
}

/// A finished run's result.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// Its final state.
    pub state: RunState,
    /// The output, when completed.
    pub output: Option<Value>,
    /// The error, when failed, cancelled or drifted.
    pub error: Option<Value>,
}

/// A run's record: what it runs, where it is, who holds it. Serialized as
/// `continuum show --json` prints its `run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct RunInfo {
    /// The run's instance and id.
    pub key: RunKey,
    /// The workflow name (as declared in the manifest).
    pub workflow: String,
    /// Content hash (hex SHA-256) of the module version the run is on.
    pub module_hash: String,
    /// The JSON input.
    pub input: Value,
    /// The lifecycle state.
    pub state: RunState,
    /// The JSON output, once completed.
    pub output: Option<Value>,
    /// The error, once failed, cancelled or drifted: a JSON object with at
    /// least `code` and `message`.
    pub error: Option<Value>,
    /// The lease holder, `node/instance/counter`, if any.
    pub lease_owner: Option<String>,
    /// The fencing token of the latest lease.
    pub lease_token: i64,
    /// When the current lease expires.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// When a dispatcher is to consider the run again.
    pub wake_at: Option<DateTime<Utc>>,
    /// How many outside events (signal, activity result, cancel request)
    /// concerned the run.
    pub wake_gen: i64,
    /// When termination was requested, if it was (and is still pending).
    pub cancel_requested_at: Option<DateTime<Utc>>,
    /// When a cancellation was requested, if it was: delivered to the
    /// workflow, which may clean up before it ends as cancelled.
    #[serde(default)]
    pub graceful_cancel_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// The W3C `traceparent` the run was started with, if any.
    #[serde(default)]
    pub trace_context: Option<String>,
    /// The run that started this one as its child, if one did.
    #[serde(default)]
    pub parent_run_id: Option<String>,
    /// The attributes the workflow set on the run (`set-attribute`), by
    /// key.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// The run of the same chain this one continues (continue-as-new), if
    /// it continues one.
    #[serde(default)]
    pub continued_from: Option<String>,
    /// The run that continues this one, once it ended `continued`.
    #[serde(default)]
    pub continued_to: Option<String>,
    /// When the run was paused, while it is (`continuum pause`): no host
    /// executes it until it is resumed.
    #[serde(default)]
    pub paused_at: Option<DateTime<Utc>>,
}

impl From<RunRecord> for RunInfo {
    fn from(r: RunRecord) -> Self {
        Self {
            key: r.key,
            workflow: r.workflow,
            module_hash: r.module_hash,
            input: r.input,
            state: r.state,
            output: r.output,
            error: r.error,
            lease_owner: r.lease_owner,
            lease_token: r.lease_token,
            lease_expires_at: r.lease_expires_at,
            wake_at: r.wake_at,
            wake_gen: r.wake_gen,
            cancel_requested_at: r.cancel_requested_at,
            graceful_cancel_at: r.graceful_cancel_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            trace_context: r.trace_context,
            parent_run_id: r.parent_run_id,
            attributes: BTreeMap::new(),
            continued_from: r.continued_from,
            continued_to: r.continued_to,
            paused_at: r.paused_at,
        }
    }
}

/// One entry of a run's journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct HistoryEvent {
    /// Position in the run's journal, from 1, without gaps.
    pub seq: i64,
    /// What happened: an object with its `type` (`run_started`,
    /// `signal_received`, ...) and the fields of that type.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub body: EventBody,
    /// When it was written.
    pub recorded_at: DateTime<Utc>,
}

impl From<Event> for HistoryEvent {
    fn from(e: Event) -> Self {
        Self { seq: e.seq, body: e.body, recorded_at: e.recorded_at }
    }
}

/// The latest heartbeat of an activity call still in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct Heartbeat {
    /// The call's operation number in its run.
    pub op: u32,
    /// The attempt that recorded it.
    pub attempt: u32,
    /// The details the activity reported.
    pub details: Value,
    /// When it was stored.
    pub recorded_at: DateTime<Utc>,
}

impl From<ActivityHeartbeat> for Heartbeat {
    fn from(h: ActivityHeartbeat) -> Self {
        Self { op: h.op, attempt: h.attempt, details: h.details, recorded_at: h.recorded_at }
    }
}

/// An activity call of a run that has no outcome yet, and whether any live
/// host serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct OpenActivity {
    /// The call's operation number in its run.
    pub op: u32,
    /// The activity.
    pub activity: String,
    /// Its task queue.
    pub queue: String,
    /// `pending` (waiting for a worker, or for its retry delay) or
    /// `claimed` (an attempt is running).
    pub state: String,
    /// Attempts started so far.
    pub attempts_started: u32,
    /// True when a live host of the instance serves the activity on its
    /// queue; false: the call waits until one does (or its
    /// schedule-to-start timeout fails it).
    pub served: bool,
}

impl OpenActivity {
    pub(crate) fn new(task: OpenTask, workers: &[ActivityWorker]) -> Self {
        let served = crate::journal::served(workers, &task.name, &task.queue);
        Self { op: task.op, activity: task.name, queue: task.queue, state: task.state, attempts_started: task.attempts_started, served }
    }
}

/// A run's record, its journal in order and the heartbeats of its activity
/// calls in progress. Serialized as `continuum show --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct RunHistory {
    /// The run.
    pub run: RunInfo,
    /// Its journal, by `seq`.
    pub events: Vec<HistoryEvent>,
    /// The latest heartbeat of each activity call in progress.
    pub heartbeats: Vec<Heartbeat>,
    /// The run's activity calls that have no outcome yet (durable tasks).
    #[serde(default)]
    pub open_activities: Vec<OpenActivity>,
    /// The child runs it started, by operation.
    #[serde(default)]
    pub children: Vec<ChildRun>,
    /// The runs of its chain (continue-as-new), first run first, this one
    /// included; empty when the run neither continues nor was continued.
    #[serde(default)]
    pub chain: Vec<ChainRun>,
    /// Its resets and retries, oldest first, each with the journal
    /// entries it superseded.
    #[serde(default)]
    pub resets: Vec<crate::RunReset>,
}

impl RunHistory {
    /// Builds a history from journal records.
    pub(crate) fn new(
        run: RunRecord,
        events: Vec<Event>,
        heartbeats: Vec<ActivityHeartbeat>,
        open_activities: Vec<OpenActivity>,
        children: Vec<ChildRun>,
        chain: Vec<ChainRun>,
    ) -> Self {
        Self {
            run: run.into(),
            events: events.into_iter().map(HistoryEvent::from).collect(),
            heartbeats: heartbeats.into_iter().map(Heartbeat::from).collect(),
            open_activities,
            children,
            chain,
            resets: Vec::new(),
        }
    }
}
