//! The OpenAPI schemas of the host's types the API answers with
//! ([`continuum_host::RunInfo`], [`continuum_host::HistoryEvent`],
//! [`continuum_host::RunHistory`],
//! [`continuum_host::RunState`]): written down here, since the host crate
//! knows nothing of OpenAPI. A test validates real answers against them,
//! so they cannot drift from what the host serializes.

#![allow(dead_code)]

use serde_json::Value;
use utoipa::ToSchema;

/// A run's lifecycle state.
#[derive(ToSchema)]
#[schema(as = RunState)]
#[schema(rename_all = "snake_case")]
pub enum RunStateSchema {
    /// Waiting for a host.
    Pending,
    /// Executing on a host (which holds its lease).
    Running,
    /// Waiting for a signal, a timer or an activity.
    Suspended,
    /// Finished with an output.
    Completed,
    /// Finished with an error.
    Failed,
    /// Cancelled.
    Cancelled,
    /// Stopped: its history no longer replays on its module.
    Drifted,
    /// Ended by continue-as-new: the next run of its chain goes on.
    Continued,
}

/// A run's instance and id.
#[derive(ToSchema)]
#[schema(as = RunKey)]
pub struct RunKeySchema {
    /// The instance.
    pub instance: String,
    /// The run id.
    pub run_id: String,
}

/// A run's record (as `continuum show --json` prints its `run`).
#[derive(ToSchema)]
#[schema(as = RunInfo)]
pub struct RunInfoSchema {
    /// The run's instance and id.
    pub key: RunKeySchema,
    /// The workflow.
    pub workflow: String,
    /// Content hash (hex SHA-256) of the module version the run is on.
    pub module_hash: String,
    /// The JSON input.
    pub input: Value,
    /// The lifecycle state.
    pub state: RunStateSchema,
    /// The JSON output, once completed.
    pub output: Option<Value>,
    /// The error, once failed, cancelled or drifted (`code`, `message`, ...).
    pub error: Option<Value>,
    /// The lease holder, `node/instance/counter`.
    pub lease_owner: Option<String>,
    /// The fencing token of the latest lease.
    pub lease_token: i64,
    /// When the current lease expires.
    pub lease_expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When a dispatcher is to consider the run again.
    pub wake_at: Option<chrono::DateTime<chrono::Utc>>,
    /// How many outside events concerned the run.
    pub wake_gen: i64,
    /// When termination was requested (while pending).
    pub cancel_requested_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When a cancellation was requested (delivered to the workflow, which
    /// may clean up before it ends as cancelled).
    pub graceful_cancel_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Creation time.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Last change.
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// The W3C `traceparent` the run was started with.
    pub trace_context: Option<String>,
    /// The run that started this one as its child (`start-child`).
    pub parent_run_id: Option<String>,
    /// The attributes the workflow set on the run (`set-attribute`), by
    /// key (empty where an answer does not read them: a stream of state
    /// changes).
    pub attributes: std::collections::BTreeMap<String, String>,
    /// The run of the same chain this one continues (continue-as-new).
    pub continued_from: Option<String>,
    /// The run that continues this one, once it ended `continued`.
    pub continued_to: Option<String>,
    /// When the run was paused, while it is: no host executes it until it is resumed.
    pub paused_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// One entry of a run's journal.
#[derive(ToSchema)]
#[schema(as = HistoryEvent)]
pub struct HistoryEventSchema {
    /// Position in the journal, from 1, without gaps.
    pub seq: i64,
    /// What happened: an object with its `type` (`run_started`, `signal_received`, ...) and the fields of that type.
    pub body: serde_json::Map<String, Value>,
    /// When it was written.
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

/// One stored version of a workflow.
#[derive(ToSchema)]
#[schema(as = WorkflowVersion)]
pub struct WorkflowVersionSchema {
    /// Content hash (hex SHA-256) of the module.
    pub hash: String,
    /// When it was first stored.
    pub deployed_at: chrono::DateTime<chrono::Utc>,
}

/// A workflow and its versions.
#[derive(ToSchema)]
#[schema(as = WorkflowVersions)]
pub struct WorkflowVersionsSchema {
    /// The workflow name.
    pub workflow: String,
    /// The version new runs start on.
    pub current: Option<String>,
    /// Every version stored, oldest first.
    pub versions: Vec<WorkflowVersionSchema>,
}

/// The latest heartbeat of an activity call in progress.
#[derive(ToSchema)]
#[schema(as = Heartbeat)]
pub struct HeartbeatSchema {
    /// The call's operation number in its run.
    pub op: u32,
    /// The attempt that recorded it.
    pub attempt: u32,
    /// The details the activity reported.
    pub details: Value,
    /// When it was stored.
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

/// An activity call without an outcome yet, and whether a live host serves it.
#[derive(ToSchema)]
#[schema(as = OpenActivity)]
pub struct OpenActivitySchema {
    /// The call's operation number in its run.
    pub op: u32,
    /// The activity.
    pub activity: String,
    /// Its task queue.
    pub queue: String,
    /// `pending` or `claimed`.
    pub state: String,
    /// Attempts started so far.
    pub attempts_started: u32,
    /// True when a live host of the instance serves the activity on its queue.
    pub served: bool,
}

/// A run's record, its journal, heartbeats and open activity calls (as `continuum show --json` prints them).
#[derive(ToSchema)]
#[schema(as = RunHistory)]
pub struct RunHistorySchema {
    /// The run.
    pub run: RunInfoSchema,
    /// Its journal, by `seq`.
    pub events: Vec<HistoryEventSchema>,
    /// The latest heartbeat of each activity call in progress.
    pub heartbeats: Vec<HeartbeatSchema>,
    /// The activity calls without an outcome yet.
    pub open_activities: Vec<OpenActivitySchema>,
    /// The child runs it started, by operation.
    pub children: Vec<ChildRunSchema>,
    /// The runs of its chain (continue-as-new), first run first; empty when it neither continues nor was continued.
    pub chain: Vec<ChainRunSchema>,
    /// Its resets and retries, oldest first, each with the journal entries it superseded.
    pub resets: Vec<RunResetSchema>,
}

/// A reset or retry of a run: the journal entries after `to_seq` it superseded (history, never replayed).
#[derive(ToSchema)]
#[schema(as = RunReset)]
pub struct RunResetSchema {
    /// 1 for the run's first reset, then 2, ...
    pub reset_id: i64,
    /// `reset` or `retry`.
    pub kind: String,
    /// The last journal entry kept.
    pub to_seq: i64,
    /// Why, if given.
    pub reason: Option<String>,
    /// The state the run was in.
    pub previous_state: String,
    /// When.
    pub at: chrono::DateTime<chrono::Utc>,
    /// The entries it superseded.
    pub superseded: Vec<HistoryEventSchema>,
}

/// A run of a chain (continue-as-new).
#[derive(ToSchema)]
#[schema(as = ChainRun)]
pub struct ChainRunSchema {
    /// The run's instance and id.
    pub key: RunKeySchema,
    /// Its position in the chain (0: the first run).
    pub chain_seq: i64,
    /// Its state.
    pub state: RunStateSchema,
    /// The module version it ran on.
    pub module_hash: String,
    /// When it was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A child run of a run.
#[derive(ToSchema)]
#[schema(as = ChildRun)]
pub struct ChildRunSchema {
    /// The child's instance and run id.
    pub key: RunKeySchema,
    /// Its workflow.
    pub workflow: String,
    /// Its state.
    pub state: RunStateSchema,
    /// The parent's operation that started it.
    pub parent_op: u32,
    /// What becomes of it when the parent ends first: `cancel`, `terminate` or `abandon`.
    pub parent_close: String,
    /// When it was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
}
