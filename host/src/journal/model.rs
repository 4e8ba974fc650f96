//! The journal's data model: runs, events, leases, and the fenced writes an
//! engine commits.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Identifies a run: runs are keyed by `(instance, run_id)`, so two instances
/// may share one database and hold the same run id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunKey {
    /// The instance name.
    pub instance: String,
    /// The run id, unique within the instance.
    pub run_id: String,
}

impl RunKey {
    /// Builds a key.
    pub fn new(instance: impl Into<String>, run_id: impl Into<String>) -> Self {
        Self { instance: instance.into(), run_id: run_id.into() }
    }
}

impl std::fmt::Display for RunKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.instance, self.run_id)
    }
}

/// Where a run is in its lifecycle:
/// `pending -> running <-> suspended -> completed | failed | cancelled |
/// continued`, plus `drifted` when the journal no longer matches the module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RunState {
    /// Created, never executed yet.
    Pending,
    /// An engine holds the lease and executes it.
    Running,
    /// Waiting for a timer, a signal or an activity; no guest in memory.
    Suspended,
    /// Finished with an output.
    Completed,
    /// Finished with an error (the workflow's error or a trap).
    Failed,
    /// Cancelled on request.
    Cancelled,
    /// Stopped: replay found the module asking for a different step than
    /// the journal holds. The error names the mismatch.
    Drifted,
    /// Ended by continue-as-new: the next run of its chain
    /// (`continued_to`) goes on with a new input and a new history.
    Continued,
}

impl RunState {
    /// The state's name as stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Pending => "pending",
            RunState::Running => "running",
            RunState::Suspended => "suspended",
            RunState::Completed => "completed",
            RunState::Failed => "failed",
            RunState::Cancelled => "cancelled",
            RunState::Drifted => "drifted",
            RunState::Continued => "continued",
        }
    }

    /// Parses a stored state name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => RunState::Pending,
            "running" => RunState::Running,
            "suspended" => RunState::Suspended,
            "completed" => RunState::Completed,
            "failed" => RunState::Failed,
            "cancelled" => RunState::Cancelled,
            "drifted" => RunState::Drifted,
            "continued" => RunState::Continued,
            _ => return None,
        })
    }

    /// The states a run never leaves (`drifted` included: it needs an
    /// operator, not an engine). Both stores' SQL is written from this list.
    /// `continued` is final for the run (its chain goes on in the next run).
    pub const FINAL: [RunState; 5] =
        [RunState::Completed, RunState::Failed, RunState::Cancelled, RunState::Drifted, RunState::Continued];

    /// True for the states a run never leaves ([`RunState::FINAL`]).
    pub fn is_final(self) -> bool {
        Self::FINAL.contains(&self)
    }
}

impl std::fmt::Display for RunState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run's key.
    pub key: RunKey,
    /// The workflow name (as declared in the manifest).
    pub workflow: String,
    /// Content hash (hex SHA-256) of the module the run started on.
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
    /// The fencing token; incremented by every lease acquisition.
    pub lease_token: i64,
    /// When the current lease expires.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// When a dispatcher should (re)consider the run.
    pub wake_at: Option<DateTime<Utc>>,
    /// Incremented by every outside event that concerns the run (signal,
    /// activity result, cancel request), so a suspending engine can tell it
    /// missed one.
    pub wake_gen: i64,
    /// When the run's termination was requested, if it was (`terminate`,
    /// or a cancellation with no engine to deliver it to in time): the
    /// engine stops the guest at once.
    pub cancel_requested_at: Option<DateTime<Utc>>,
    /// When a cancellation was requested, if it was: the engine delivers it
    /// to the workflow, which may clean up before it ends as cancelled.
    pub graceful_cancel_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// The W3C `traceparent` the run was started with, if the caller was
    /// in a trace: every attempt's span joins that trace.
    #[serde(default)]
    pub trace_context: Option<String>,
    /// The run that started this one as its child (`start-child`), if one
    /// did: a run of the same instance.
    #[serde(default)]
    pub parent_run_id: Option<String>,
    /// The run of the same chain this one continues (continue-as-new), if
    /// it continues one.
    #[serde(default)]
    pub continued_from: Option<String>,
    /// The run that continues this one, once it ended `continued`.
    #[serde(default)]
    pub continued_to: Option<String>,
    /// The first run of this run's chain, when this run continues one.
    #[serde(default)]
    pub chain_root: Option<String>,
    /// This run's position in its chain: 0 for a first run, n for its n-th
    /// continuation.
    #[serde(default)]
    pub chain_seq: i64,
    /// When the run was paused (`continuum pause`), while it is: no host
    /// claims it until it is resumed.
    #[serde(default)]
    pub paused_at: Option<DateTime<Utc>>,
}

impl RunRecord {
    /// The first run of this run's chain (itself when it continues none).
    pub fn chain_root(&self) -> &str {
        self.chain_root.as_deref().unwrap_or(&self.key.run_id)
    }
}

/// A lease held on a run: who holds it and the fencing token every journal
/// write is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The owner string, `node/instance/counter`.
    pub owner: String,
    /// The fencing token.
    pub token: i64,
}

/// An activity's failure, as journaled and as the workflow sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// `activity_failed`, `timed_out`, `cancelled` or `unknown_activity`.
    pub kind: FailureKind,
    /// Description.
    pub message: String,
    /// Attempts made.
    pub attempts: u32,
    /// The activity's own error code on the last attempt, when it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl Failure {
    /// The failure of an operation a delivered cancellation completed.
    pub fn cancelled_by_request() -> Self {
        Failure { kind: FailureKind::Cancelled, message: "the run was cancelled".into(), attempts: 0, code: None }
    }

    /// A failure without an activity error code (the host's own: timeout,
    /// cancellation, unknown activity).
    pub fn new(kind: FailureKind, message: impl Into<String>, attempts: u32) -> Self {
        Self { kind, message: message.into(), attempts, code: None }
    }
}

/// Why an operation did not produce a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FailureKind {
    /// The activity reported an error on its last attempt.
    ActivityFailed,
    /// The activity's attempts ran out of time.
    TimedOut,
    /// The operation was cancelled.
    Cancelled,
    /// No activity of that name is registered.
    UnknownActivity,
}

/// Options of one activity call, as journaled (mirrors the WIT record).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ActivityOptions {
    /// Retry policy; `None` means the host's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
    /// Per-attempt timeout in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt_timeout_ms: Option<u64>,
    /// An attempt that sends no heartbeat for this long (ms) fails as
    /// timed out; `None`: no such limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_timeout_ms: Option<u64>,
    /// Task queue; `None` means `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// Priority among ready tasks of the queue (higher first).
    #[serde(default)]
    pub priority: i32,
    /// Idempotency key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// The call fails when no attempt has started this many milliseconds
    /// after it was scheduled (`unknown_activity` when no host serves it,
    /// else `timed_out`); `None`: it waits however long it takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_to_start_timeout_ms: Option<u64>,
}

/// How failed attempts are retried (mirrors the WIT record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Attempts in all; 0 = unlimited.
    pub max_attempts: u32,
    /// First retry delay (ms).
    pub initial_interval_ms: u64,
    /// Growth factor of the delay.
    pub backoff_coefficient: f64,
    /// Cap on one delay (ms); 0 = none.
    pub max_interval_ms: u64,
    /// Random extra delay as a fraction of the delay.
    pub jitter: f64,
    /// No retry past this many ms after the first attempt; 0 = none.
    pub horizon_ms: u64,
    /// Activity error codes never retried.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub non_retryable_codes: Vec<String>,
}

/// One journal entry's content. The `op` fields number the workflow's
/// operations (activity calls, timers, signal receipts) in the order the
/// workflow started them; they are the guest's handles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventBody {
    /// The run began executing (first attempt).
    RunStarted {
        /// The module hash it runs on.
        module_hash: String,
    },
    /// The workflow called an activity.
    ActivityScheduled {
        /// Operation number.
        op: u32,
        /// Activity name.
        name: String,
        /// JSON input.
        input: Value,
        /// Options.
        options: ActivityOptions,
        /// Executed by the run's own host rather than as a durable task: a
        /// later attempt that finds no outcome for it runs it again (the
        /// host that ran it is gone).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        eager: bool,
    },
    /// An activity returned its output.
    ActivityCompleted {
        /// Operation number.
        op: u32,
        /// JSON output.
        output: Value,
        /// Attempts it took.
        attempts: u32,
    },
    /// An activity failed for good.
    ActivityFailed {
        /// Operation number.
        op: u32,
        /// The failure.
        failure: Failure,
    },
    /// The workflow started a timer.
    TimerStarted {
        /// Operation number.
        op: u32,
        /// Requested duration (part of the command's identity).
        duration_ms: u64,
        /// When it fires, in ms since the epoch.
        fire_at_ms: i64,
    },
    /// A timer fired.
    TimerFired {
        /// Operation number.
        op: u32,
    },
    /// The workflow asked for the next signal of a name.
    SignalRequested {
        /// Operation number.
        op: u32,
        /// Signal name.
        name: String,
    },
    /// A signal was delivered to a waiting receipt.
    SignalReceived {
        /// Operation number.
        op: u32,
        /// Signal name.
        name: String,
        /// JSON payload.
        payload: Value,
        /// The inbox row it came from.
        signal_id: i64,
        /// The update id when the signal was sent as an update (its
        /// sender waits for `update_replied`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        update_id: Option<String>,
    },
    /// `now()` returned this value.
    ClockRead {
        /// ms since the epoch.
        value_ms: u64,
    },
    /// `random()` returned this value.
    RandomDrawn {
        /// The value.
        value: u64,
    },
    /// `patched(name)` took the new path.
    PatchMarker {
        /// The patch name.
        name: String,
    },
    /// `uuid()` returned this value.
    UuidDrawn {
        /// The value.
        value: String,
    },
    /// The workflow returned an output.
    RunCompleted {
        /// JSON output.
        output: Value,
    },
    /// The workflow returned an error or trapped.
    RunFailed {
        /// `{code, message}`.
        error: Value,
    },
    /// The run was cancelled.
    RunCancelled {
        /// Why, if given.
        reason: String,
    },
    /// A cancellation was delivered to the workflow: every operation it
    /// had started and that had not completed is completed as cancelled
    /// (an [`EventBody::OperationCancelled`] each, right after this), and
    /// the workflow may clean up until `deadline_ms`.
    CancelDelivered {
        /// Why.
        reason: String,
        /// Until when the workflow may clean up (ms since the epoch); past
        /// it the run is terminated.
        deadline_ms: i64,
    },
    /// An operation was completed as cancelled by a delivered
    /// cancellation.
    OperationCancelled {
        /// Operation number.
        op: u32,
    },
    /// The workflow started a child workflow (`start-child`): the child's
    /// run was created in the transaction that recorded this (unless the
    /// start failed at once: a `child_failed` follows).
    ChildStarted {
        /// Operation number.
        op: u32,
        /// The child's workflow.
        workflow: String,
        /// The child's run id (in the parent's instance).
        run_id: String,
        /// Its JSON input.
        input: Value,
        /// The options it was started with.
        options: super::ChildOptions,
    },
    /// The workflow continued as new (`continue-as-new`) and returned: the
    /// run ended `continued`, and the next run of its chain was created in
    /// the transaction that recorded this.
    ContinuedAsNew {
        /// The next run's id.
        run_id: String,
        /// Its JSON input.
        input: Value,
        /// The module version it runs on.
        module_hash: String,
    },
    /// A child workflow completed with an output.
    ChildCompleted {
        /// Operation number.
        op: u32,
        /// Its JSON output.
        output: Value,
    },
    /// A child workflow did not complete (failed, cancelled, terminated),
    /// or could not be started.
    ChildFailed {
        /// Operation number.
        op: u32,
        /// Why.
        failure: super::ChildFailure,
    },
    /// The workflow set an attribute of its run (`set-attribute`): the
    /// run's `run_attributes` row for `key` was written (or replaced) in
    /// the transaction that recorded this. Replay repeats nothing.
    AttributeSet {
        /// The attribute's key.
        key: String,
        /// Its value.
        value: String,
    },
    /// The workflow replied to an update (`reply-update`); the update's
    /// sender finds the reply here. Replay replies nothing again.
    UpdateReplied {
        /// The update id.
        update_id: String,
        /// The reply (JSON), when the workflow replied with one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply: Option<Value>,
        /// The error message, when the workflow rejected the update.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
}

impl EventBody {
    /// The event's type name, as stored in the `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::RunStarted { .. } => "run_started",
            EventBody::ActivityScheduled { .. } => "activity_scheduled",
            EventBody::ActivityCompleted { .. } => "activity_completed",
            EventBody::ActivityFailed { .. } => "activity_failed",
            EventBody::TimerStarted { .. } => "timer_started",
            EventBody::TimerFired { .. } => "timer_fired",
            EventBody::SignalRequested { .. } => "signal_requested",
            EventBody::SignalReceived { .. } => "signal_received",
            EventBody::ClockRead { .. } => "clock_read",
            EventBody::RandomDrawn { .. } => "random_drawn",
            EventBody::UuidDrawn { .. } => "uuid_drawn",
            EventBody::PatchMarker { .. } => "patch_marker",
            EventBody::RunCompleted { .. } => "run_completed",
            EventBody::RunFailed { .. } => "run_failed",
            EventBody::RunCancelled { .. } => "run_cancelled",
            EventBody::CancelDelivered { .. } => "cancel_delivered",
            EventBody::OperationCancelled { .. } => "operation_cancelled",
            EventBody::ChildStarted { .. } => "child_started",
            EventBody::ContinuedAsNew { .. } => "continued_as_new",
            EventBody::ChildCompleted { .. } => "child_completed",
            EventBody::ChildFailed { .. } => "child_failed",
            EventBody::AttributeSet { .. } => "attribute_set",
            EventBody::UpdateReplied { .. } => "update_replied",
        }
    }
}

/// A journal entry as stored: its position and content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the run's journal, from 1, without gaps.
    pub seq: i64,
    /// Content.
    pub body: EventBody,
    /// When it was written.
    pub recorded_at: DateTime<Utc>,
}

/// A new run to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    /// Key.
    pub key: RunKey,
    /// Workflow name.
    pub workflow: String,
    /// Module hash.
    pub module_hash: String,
    /// JSON input.
    pub input: Value,
    /// The caller's W3C `traceparent`, if it was in a trace.
    pub trace_context: Option<String>,
}

/// A durable activity task to insert, for a dispatcher to claim.
#[derive(Debug, Clone, PartialEq)]
pub struct NewActivityTask {
    /// Operation number within the run.
    pub op: u32,
    /// Activity name.
    pub name: String,
    /// JSON input.
    pub input: Value,
    /// Options.
    pub options: ActivityOptions,
    /// How far the call's attempts got before the task was written
    /// (nothing, for a new call).
    pub attempts: TaskAttempts,
}

impl NewActivityTask {
    /// A task for a call no attempt of which has run yet.
    pub fn new(op: u32, name: impl Into<String>, input: Value, options: ActivityOptions) -> Self {
        Self { op, name: name.into(), input, options, attempts: TaskAttempts::default() }
    }

    /// How long after it is written the task may wait for its first
    /// attempt to start (its call's schedule-to-start timeout, clamped to
    /// what a timestamp holds); `None` when it may wait however long, or
    /// an attempt has started already.
    pub fn start_within_ms(&self) -> Option<i64> {
        let ms = self.options.schedule_to_start_timeout_ms?;
        (self.attempts.started == 0).then(|| i64::try_from(ms).unwrap_or(i64::MAX).min(100 * 365 * 86_400_000))
    }
}

/// Where a call's attempts stand when its task row is written: a call
/// whose first attempt ran in the workflow's host and is retried (or was
/// lost with that host) continues its count in the task.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskAttempts {
    /// Attempts started so far.
    pub started: u32,
    /// Attempts that ended with a failure the policy retries; one fewer
    /// than `started` means the last one was lost with its host.
    pub ended: u32,
    /// When the first attempt started (`None`: none did).
    pub first_at: Option<DateTime<Utc>>,
    /// Not claimable before this time (`None`: at once).
    pub ready_at: Option<DateTime<Utc>>,
}

/// How a write moves the run's state.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    /// Suspend and release the lease. The run is woken at `wake_at` (the
    /// earliest pending timer: the dispatcher fires it), or at once if `wake_gen` moved past
    /// `seen_wake_gen` since the engine loaded the run.
    Suspend {
        /// Earliest pending timer, if any.
        wake_at: Option<DateTime<Utc>>,
        /// The `wake_gen` the engine saw when it took the lease.
        seen_wake_gen: i64,
    },
    /// Completed with an output; releases the lease.
    Complete {
        /// JSON output.
        output: Value,
    },
    /// Failed with an error `{code, message}`; releases the lease.
    Fail {
        /// The error.
        error: Value,
    },
    /// Cancelled; releases the lease; pending timers and tasks are dropped.
    Cancel {
        /// `{code: "cancelled", message}`.
        error: Value,
    },
    /// Parked: the run cannot execute here (its module version is
    /// unknown); it stays `suspended` with `error` saying why, is not due,
    /// and is woken when that version is deployed. Releases the lease.
    Park {
        /// `{code: "module_version_unknown", message, module_hash}`.
        error: Value,
        /// The `wake_gen` the engine saw.
        seen_wake_gen: i64,
    },
    /// Ended by continue-as-new; releases the lease. The next run of the
    /// chain is created in the same transaction (with the run's parent
    /// link and any cancellation asked of it), the run names it in
    /// `continued_to`, and the signals it did not take move to it.
    Continue {
        /// The next run.
        next: super::Continuation,
    },
    /// Replay drift; releases the lease.
    Drift {
        /// `{code: "replay_drift", message, seq, expected, found}`.
        error: Value,
    },
}

impl Transition {
    /// True for the transitions that end the run (complete, fail, cancel,
    /// drift, continue).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Transition::Complete { .. }
                | Transition::Fail { .. }
                | Transition::Cancel { .. }
                | Transition::Drift { .. }
                | Transition::Continue { .. }
        )
    }
}

/// Everything an engine commits for one run at once. The whole write is
/// applied atomically, and only if the run's lease still carries the
/// fencing token; otherwise nothing of it is applied.
#[derive(Debug, Clone, PartialEq)]
pub struct RunWrite {
    /// The run.
    pub key: RunKey,
    /// The lease the engine holds.
    pub lease: Lease,
    /// Events to append, with their `seq` already assigned (contiguous,
    /// following the last stored one).
    pub events: Vec<(i64, EventBody)>,
    /// Activity tasks to insert (pending, for a dispatcher).
    pub tasks: Vec<NewActivityTask>,
    /// Inbox signals delivered by this write (marked consumed).
    pub consumed_signals: Vec<i64>,
    /// Operations a delivered cancellation completed: their activity
    /// tasks still pending (no attempt claimed) are dropped.
    pub dropped_tasks: Vec<u32>,
    /// State change, if any; without one the run stays `running`.
    pub transition: Option<Transition>,
    /// Child runs this write starts (their `child_started` is among
    /// `events`): inserted in the same transaction, each once.
    pub children: Vec<super::NewChild>,
    /// The run may have a parent or children: a final transition wakes
    /// the parent and applies the parent-close policy of the unfinished
    /// children, in the same transaction. (False lets a store take a
    /// faster path that does neither.)
    pub family: bool,
}

impl RunWrite {
    /// An empty write for a run under a lease.
    pub fn new(key: RunKey, lease: Lease) -> Self {
        Self {
            key,
            lease,
            events: Vec::new(),
            tasks: Vec::new(),
            consumed_signals: Vec::new(),
            dropped_tasks: Vec::new(),
            transition: None,
            children: Vec::new(),
            family: false,
        }
    }

    /// True when this write ends a run that may have a parent or
    /// children: its commit wakes the parent and applies the
    /// parent-close policy of the unfinished children.
    pub fn ends_family(&self) -> bool {
        self.family && self.transition.as_ref().is_some_and(Transition::is_final)
    }
}

/// A signal just stored in a run's inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentSignal {
    /// Its inbox row id.
    pub id: i64,
    /// The workflow of the run it was sent to.
    pub workflow: String,
    /// The signal had been sent before with the same idempotency key: this
    /// is the first one, nothing was sent now.
    pub duplicate: bool,
}

/// A signal waiting in a run's inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxSignal {
    /// Row id; signals of one run are delivered in id order.
    pub id: i64,
    /// Signal name.
    pub name: String,
    /// JSON payload.
    pub payload: Value,
    /// The update id, when it was sent as an update (its idempotency key
    /// is [`UPDATE_KEY_PREFIX`] and the id).
    pub update_id: Option<String>,
}

/// The idempotency key of a signal sent as an update is this prefix and the
/// update id. A signal key a caller gives cannot hold a space, so no plain
/// signal is taken for an update.
pub const UPDATE_KEY_PREFIX: &str = "update ";

/// An activity task's outcome.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskOutcome {
    /// Completed with an output after `attempts` attempts.
    Completed {
        /// JSON output.
        output: Value,
        /// Attempts made.
        attempts: u32,
    },
    /// Failed for good.
    Failed(Failure),
}

/// A claimed activity task.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedTask {
    /// The run that scheduled it.
    pub key: RunKey,
    /// Operation number.
    pub op: u32,
    /// Activity name.
    pub name: String,
    /// Input.
    pub input: Value,
    /// Options.
    pub options: ActivityOptions,
    /// The claim's fencing token: completion is refused if it moved.
    pub claim_token: i64,
    /// The workflow of the run that scheduled it.
    pub workflow: String,
    /// The W3C trace context the run was started with, if any.
    pub trace_context: Option<String>,
    /// The attempt this claim runs: 1 for the call's first, counted
    /// across workers and crashes.
    pub attempt: u32,
    /// When the call's first attempt started (this claim's time for the
    /// first attempt).
    pub first_attempt_at: DateTime<Utc>,
    /// The previous attempt never reported (its worker died or its claim
    /// expired): the retry policy decides whether this one may run.
    pub previous_lost: bool,
}

/// What a notification is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WakeKind {
    /// A run became ready (started, signalled, activity done, timer due).
    Run,
    /// Cancellation was requested for a run.
    Cancel,
    /// A new activity task is ready.
    Task,
    /// A workflow module version was deployed (`run_id` holds the workflow).
    Deploy,
    /// A schedule was created, changed, resumed or deleted (`run_id` holds
    /// its name).
    Schedule,
}

/// A wake-up notification (LISTEN/NOTIFY on Postgres, in-process on SQLite).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wake {
    /// Instance.
    pub instance: String,
    /// Run concerned (empty for `Task`).
    pub run_id: String,
    /// Kind.
    pub kind: WakeKind,
}

/// Which request a cancellation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelKind {
    /// Stop the guest at once, with no clean-up (`terminate`).
    Terminate,
    /// Deliver the cancellation to the workflow, which may clean up
    /// (`cancel`).
    Graceful,
}

impl CancelKind {
    /// The `runs` column recording a request of this kind.
    pub(crate) fn column(self) -> &'static str {
        match self {
            CancelKind::Terminate => "cancel_requested_at",
            CancelKind::Graceful => "graceful_cancel_at",
        }
    }
}

/// The outcome of a cancellation request against the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelRequest {
    /// Recorded; the run will be cancelled by whoever executes it next.
    Requested,
    /// The run had already finished in this state.
    AlreadyFinal(RunState),
}

/// The result of [`super::RunStore::withdraw_cancel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelWithdrawal {
    /// The request was cleared; nobody will act on it.
    Withdrawn,
    /// The run holds no request, or a different one: nothing was changed.
    NotOurs,
    /// The run had finished, in this state (`cancelled`: the engine
    /// confirmed the request after all).
    AlreadyFinal(RunState),
}

/// A stored workflow module version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredModule {
    /// The workflow it was deployed for.
    pub workflow: String,
    /// Its content hash.
    pub hash: String,
    /// The component's bytes.
    pub bytes: Vec<u8>,
}

/// Whether a stored module version becomes its workflow's current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publish {
    /// Stored only (a client's copy of a workflow that has a version).
    #[cfg_attr(not(test), allow(dead_code))] // used by the crate's tests only since the API narrowed
    Store,
    /// Made current (a deploy).
    MakeCurrent,
    /// The file of a host's manifest: made current unless it is the file
    /// a host already published from its manifest (then a deploy made
    /// since stays current); recorded as the manifest's version.
    FromManifest,
}

/// What renewing one lease found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal {
    /// The lease is no longer held by this owner and token.
    Lost,
    /// The lease was extended.
    Renewed {
        /// The run has a termination request.
        cancel_requested: bool,
        /// The run has a cancellation request (to deliver to the
        /// workflow).
        graceful_cancel: bool,
        /// The run was paused: its engine suspends it at its next wait.
        paused: bool,
    },
}

impl Renewal {
    /// True when the lease was extended.
    #[allow(dead_code)] // no caller left since the API narrowed
    pub fn held(&self) -> bool {
        matches!(self, Renewal::Renewed { .. })
    }
}

/// The latest heartbeat of an activity call in progress.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivityHeartbeat {
    /// The call's operation number in its run.
    pub op: u32,
    /// The attempt that recorded it.
    pub attempt: u32,
    /// The details the activity reported.
    pub details: Value,
    /// When it was stored.
    pub recorded_at: DateTime<Utc>,
}

/// A compacted prefix of a run's journal.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The last `seq` it covers (it holds entries 1 to `upto_seq`).
    pub upto_seq: i64,
    /// Hex SHA-256 of `body`, checked on load.
    pub digest: String,
    /// The entries, as a JSON array of [`Event`]s.
    pub body: String,
}

/// Which of an instance's runs to list, and from where: every filter is
/// optional; runs come newest first (by creation time, then run id).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunQuery {
    /// Only runs in this state.
    pub state: Option<RunState>,
    /// Only runs of this workflow.
    pub workflow: Option<String>,
    /// Only runs created at or after this time.
    pub created_since: Option<DateTime<Utc>>,
    /// Only runs created before this time.
    pub created_until: Option<DateTime<Utc>>,
    /// Only runs that come after this one in the listing (its creation
    /// time and run id): the cursor of the page before.
    pub before: Option<(DateTime<Utc>, String)>,
    /// Only the children of this run (runs it started with
    /// `start-child`).
    pub parent: Option<String>,
    /// Only runs that have every one of these attributes (`key`, `value`)
    /// set to that value (AND).
    pub attributes: Vec<(String, String)>,
    /// At most this many runs.
    pub limit: i64,
}
