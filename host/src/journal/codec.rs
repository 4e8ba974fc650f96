//! Encoding and decoding shared by the Postgres and SQLite journals: JSON
//! columns, row decoding through [`TsRow`] (each store's codec implements
//! it for its rows, with errors mapped to [`JournalError::Corrupt`]), task
//! outcomes, wake-up payloads, the list of final states as SQL, and the
//! in-batch ordering rule of `commit`.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{ColumnIndex, Decode, Row, Type};

use crate::journal::{
    ActivityOptions, Event, EventBody, Failure, InboxSignal, JournalError, Lease, RunKey, RunRecord,
    RunState, RunWrite, TaskOutcome, Transition,
};

/// The states a run never leaves ([`RunState::FINAL`]), as a SQL list:
/// `('completed', 'failed', 'cancelled', 'drifted', 'continued')`.
pub(in crate::journal) static FINAL_STATES_SQL: LazyLock<String> = LazyLock::new(|| {
    let names: Vec<String> = RunState::FINAL.iter().map(|s| format!("'{}'", s.as_str())).collect();
    format!("({})", names.join(", "))
});

/// A `Corrupt` error for `key`.
pub(in crate::journal) fn corrupt(key: impl std::fmt::Display, detail: impl Into<String>) -> JournalError {
    JournalError::Corrupt { key: key.to_string(), detail: detail.into() }
}

/// Serializes a value to JSON text; failure is reported against the run.
pub(in crate::journal) fn to_json<T: Serialize>(key: &RunKey, what: &str, v: &T) -> Result<String, JournalError> {
    serde_json::to_string(v).map_err(|e| corrupt(key, format!("cannot encode {what}: {e}")))
}

/// Parses JSON text stored for the run.
pub(in crate::journal) fn from_json<T: for<'de> Deserialize<'de>>(
    key: &str,
    what: &str,
    text: &str,
) -> Result<T, JournalError> {
    serde_json::from_str(text).map_err(|e| corrupt(key, format!("bad {what} JSON: {e}")))
}

/// A task outcome as stored in `activity_tasks.outcome`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
enum StoredOutcome {
    Completed { output: Value, attempts: u32 },
    Failed { failure: Failure },
}

/// Encodes a task outcome for storage.
pub(in crate::journal) fn outcome_to_json(key: &RunKey, outcome: &TaskOutcome) -> Result<String, JournalError> {
    let stored = match outcome {
        TaskOutcome::Completed { output, attempts } => {
            StoredOutcome::Completed { output: output.clone(), attempts: *attempts }
        }
        TaskOutcome::Failed(failure) => StoredOutcome::Failed { failure: failure.clone() },
    };
    to_json(key, "task outcome", &stored)
}

/// Decodes a stored task outcome.
pub(in crate::journal) fn outcome_from_json(key: &str, text: &str) -> Result<TaskOutcome, JournalError> {
    Ok(match from_json::<StoredOutcome>(key, "task outcome", text)? {
        StoredOutcome::Completed { output, attempts } => TaskOutcome::Completed { output, attempts },
        StoredOutcome::Failed { failure } => TaskOutcome::Failed(failure),
    })
}

/// The `state` stored for a task outcome.
pub(in crate::journal) fn outcome_state(outcome: &TaskOutcome) -> &'static str {
    match outcome {
        TaskOutcome::Completed { .. } => "completed",
        TaskOutcome::Failed(_) => "failed",
    }
}

/// The task queue named by activity options.
pub(in crate::journal) fn queue_of(options: &ActivityOptions) -> &str {
    options.queue.as_deref().unwrap_or("default")
}

/// The operations whose activity outcome a write takes into the journal.
pub(in crate::journal) fn journaled_ops(write: &RunWrite) -> impl Iterator<Item = u32> + '_ {
    write.events.iter().filter_map(|(_, body)| match body {
        EventBody::ActivityCompleted { op, .. } | EventBody::ActivityFailed { op, .. } => Some(*op),
        _ => None,
    })
}

/// The attributes a write sets (`attribute_set` events), by key: the
/// last value of a key set more than once in the write.
pub(in crate::journal) fn attribute_sets(write: &RunWrite) -> std::collections::BTreeMap<&str, &str> {
    write
        .events
        .iter()
        .filter_map(|(_, body)| match body {
            EventBody::AttributeSet { key, value } => Some((key.as_str(), value.as_str())),
            _ => None,
        })
        .collect()
}

/// Reads a column, reporting a decoding failure as `Corrupt` for `key`.
pub(in crate::journal) fn col<'r, R, T>(row: &'r R, name: &str, key: &str) -> Result<T, JournalError>
where
    R: Row,
    T: Decode<'r, R::Database> + Type<R::Database>,
    for<'a> &'a str: ColumnIndex<R>,
{
    row.try_get(name).map_err(|e| corrupt(key, format!("column `{name}`: {e}")))
}

/// A stored row, whatever the database: typed column reads with decoding
/// failures reported as `Corrupt` for `key`. (Public in name only, for
/// [`ReadPool`](super::reads::ReadPool): this module is private to the
/// journal.)
pub trait TsRow {
    /// Reads a text column.
    fn text(&self, name: &str, key: &str) -> Result<String, JournalError>;
    /// Reads a nullable text column.
    fn opt_text(&self, name: &str, key: &str) -> Result<Option<String>, JournalError>;
    /// Reads a 64-bit integer column.
    fn int(&self, name: &str, key: &str) -> Result<i64, JournalError>;
    /// Reads a nullable 64-bit integer column.
    fn opt_int(&self, name: &str, key: &str) -> Result<Option<i64>, JournalError>;
    /// Reads a 32-bit integer column.
    fn int32(&self, name: &str, key: &str) -> Result<i32, JournalError>;
    /// Reads a blob column.
    fn bytes(&self, name: &str, key: &str) -> Result<Vec<u8>, JournalError>;
    /// Reads a nullable timestamp column.
    fn ts(&self, name: &str, key: &str) -> Result<Option<DateTime<Utc>>, JournalError>;

    /// Reads a non-null timestamp column.
    fn ts_req(&self, name: &str, key: &str) -> Result<DateTime<Utc>, JournalError> {
        self.ts(name, key)?.ok_or_else(|| corrupt(key, format!("column `{name}` is null")))
    }

    /// The run key of a row with `instance` and `run_id` columns, as text
    /// for error messages.
    fn key_text(&self) -> String {
        let instance = self.text("instance", "?").unwrap_or_else(|_| "?".into());
        let run_id = self.text("run_id", "?").unwrap_or_else(|_| "?".into());
        format!("{instance}/{run_id}")
    }
}

/// The columns every row type reads the same way (all but timestamps),
/// for a store's `impl TsRow`.
macro_rules! common_columns {
    ($row:ty) => {
        fn text(&self, name: &str, key: &str) -> Result<String, JournalError> {
            col::<$row, String>(self, name, key)
        }
        fn opt_text(&self, name: &str, key: &str) -> Result<Option<String>, JournalError> {
            col::<$row, Option<String>>(self, name, key)
        }
        fn int(&self, name: &str, key: &str) -> Result<i64, JournalError> {
            col::<$row, i64>(self, name, key)
        }
        fn opt_int(&self, name: &str, key: &str) -> Result<Option<i64>, JournalError> {
            col::<$row, Option<i64>>(self, name, key)
        }
        fn int32(&self, name: &str, key: &str) -> Result<i32, JournalError> {
            col::<$row, i32>(self, name, key)
        }
        fn bytes(&self, name: &str, key: &str) -> Result<Vec<u8>, JournalError> {
            col::<$row, Vec<u8>>(self, name, key)
        }
    };
}
pub(in crate::journal) use common_columns;

/// The columns [`run_from_row`] reads.
pub(in crate::journal) const RUN_COLUMNS: &str = "instance, run_id, workflow, module_hash, input, state, output, \
     error, lease_owner, lease_token, lease_expires_at, wake_at, wake_gen, cancel_requested_at, \
     graceful_cancel_at, created_at, updated_at, trace_context, parent_run_id, continued_from, continued_to, \
     chain_root, chain_seq, paused_at";

/// Decodes a `runs` row selected with [`RUN_COLUMNS`].
pub(in crate::journal) fn run_from_row<R: TsRow + ?Sized>(row: &R) -> Result<RunRecord, JournalError>
{
    let k = row.key_text();
    let k = k.as_str();
    let state = row.text("state", k)?;
    let output = row.opt_text("output", k)?;
    let error = row.opt_text("error", k)?;
    Ok(RunRecord {
        key: RunKey::new(row.text("instance", k)?, row.text("run_id", k)?),
        workflow: row.text("workflow", k)?,
        module_hash: row.text("module_hash", k)?,
        input: from_json(k, "input", &row.text("input", k)?)?,
        state: RunState::parse(&state).ok_or_else(|| corrupt(k, format!("unknown state `{state}`")))?,
        output: output.map(|o| from_json(k, "output", &o)).transpose()?,
        error: error.map(|e| from_json(k, "error", &e)).transpose()?,
        lease_owner: row.opt_text("lease_owner", k)?,
        lease_token: row.int("lease_token", k)?,
        lease_expires_at: row.ts("lease_expires_at", k)?,
        wake_at: row.ts("wake_at", k)?,
        wake_gen: row.int("wake_gen", k)?,
        cancel_requested_at: row.ts("cancel_requested_at", k)?,
        graceful_cancel_at: row.ts("graceful_cancel_at", k)?,
        created_at: row.ts_req("created_at", k)?,
        updated_at: row.ts_req("updated_at", k)?,
        trace_context: row.opt_text("trace_context", k)?,
        parent_run_id: row.opt_text("parent_run_id", k)?,
        continued_from: row.opt_text("continued_from", k)?,
        continued_to: row.opt_text("continued_to", k)?,
        chain_root: row.opt_text("chain_root", k)?,
        chain_seq: row.opt_int("chain_seq", k)?.unwrap_or(0),
        paused_at: row.ts("paused_at", k)?,
    })
}

/// Decodes an `events` row (`seq`, `body`, `recorded_at`).
pub(in crate::journal) fn event_from_row<R: TsRow + ?Sized>(row: &R, key: &RunKey) -> Result<Event, JournalError>
{
    let k = key.to_string();
    let body = row.text("body", &k)?;
    Ok(Event {
        seq: row.int("seq", &k)?,
        body: from_json::<EventBody>(&k, "event body", &body)?,
        recorded_at: row.ts_req("recorded_at", &k)?,
    })
}

/// Decodes a `signals` row (`id`, `name`, `payload`, `idempotency_key`).
pub(in crate::journal) fn signal_from_row<R: TsRow + ?Sized>(row: &R, key: &RunKey) -> Result<InboxSignal, JournalError>
{
    let k = key.to_string();
    let payload = row.text("payload", &k)?;
    Ok(InboxSignal {
        id: row.int("id", &k)?,
        name: row.text("name", &k)?,
        payload: from_json(&k, "signal payload", &payload)?,
        update_id: row
            .opt_text("idempotency_key", &k)?
            .and_then(|key| key.strip_prefix(super::model::UPDATE_KEY_PREFIX).map(str::to_string)),
    })
}

/// Reads an operation number stored as a 64-bit integer.
pub(in crate::journal) fn op_from_row<R: TsRow + ?Sized>(row: &R, key: &str) -> Result<u32, JournalError>
{
    let op = row.int("op", key)?;
    u32::try_from(op).map_err(|_| corrupt(key, format!("operation number {op} out of range")))
}

/// Decodes a task outcome row (`op`, `outcome`).
pub(in crate::journal) fn outcome_from_row<R: TsRow + ?Sized>(row: &R, key: &RunKey) -> Result<(u32, TaskOutcome), JournalError>
{
    let k = key.to_string();
    let op = op_from_row(row, &k)?;
    let text = row.opt_text("outcome", &k)?;
    let text = text.ok_or_else(|| corrupt(&k, format!("task {op} is finished without an outcome")))?;
    Ok((op, outcome_from_json(&k, &text)?))
}

/// A claimed task row with its ordering columns (`priority`, `ready_at`):
/// its attempt is the one after those started (an attempt counts when it
/// starts, not when it is claimed), and the previous one was lost when it
/// started but never ended.
pub(in crate::journal) fn claimed_from_row<R: TsRow + ?Sized>(
    row: &R,
) -> Result<(i32, DateTime<Utc>, crate::journal::ClaimedTask), JournalError>
{
    let k = row.key_text();
    let k = k.as_str();
    let input = row.text("input", k)?;
    let options = row.text("options", k)?;
    let count = |name: &str| u32::try_from(row.int32(name, k)?).map_err(|_| corrupt(k, format!("negative `{name}`")));
    let (started, ended) = (count("attempts_started")?, count("attempts_ended")?);
    let task = crate::journal::ClaimedTask {
        key: RunKey::new(row.text("instance", k)?, row.text("run_id", k)?),
        op: op_from_row(row, k)?,
        name: row.text("name", k)?,
        input: from_json(k, "task input", &input)?,
        options: from_json(k, "task options", &options)?,
        claim_token: row.int("claim_token", k)?,
        workflow: row.text("workflow", k)?,
        trace_context: row.opt_text("trace_context", k)?,
        attempt: started.saturating_add(1),
        first_attempt_at: row.ts_req("first_attempt_at", k)?,
        previous_lost: ended < started,
    };
    Ok((row.int32("priority", k)?, row.ts_req("ready_at", k)?, task))
}

/// The `runs` columns a transition sets: state, output and error (JSON
/// text), `wake_at`, and the `wake_gen` the run saw (a suspension that
/// missed a wake-up is made due at once).
pub(in crate::journal) struct TransitionColumns {
    pub state: RunState,
    pub output: Option<String>,
    pub error: Option<String>,
    pub wake_at: Option<DateTime<Utc>>,
    pub seen_gen: Option<i64>,
}

/// The columns `t` sets on the run `key`.
pub(in crate::journal) fn transition_columns(key: &RunKey, t: &Transition) -> Result<TransitionColumns, JournalError> {
    let err = |e: &Value| to_json(key, "error", e).map(Some);
    let (state, output, error, wake_at, seen_gen) = match t {
        Transition::Suspend { wake_at, seen_wake_gen } => (RunState::Suspended, None, None, *wake_at, Some(*seen_wake_gen)),
        Transition::Complete { output } => (RunState::Completed, Some(to_json(key, "output", output)?), None, None, None),
        Transition::Fail { error } => (RunState::Failed, None, err(error)?, None, None),
        Transition::Cancel { error } => (RunState::Cancelled, None, err(error)?, None, None),
        Transition::Park { error, seen_wake_gen } => (RunState::Suspended, None, err(error)?, None, Some(*seen_wake_gen)),
        Transition::Drift { error } => (RunState::Drifted, None, err(error)?, None, None),
        Transition::Continue { .. } => (RunState::Continued, None, None, None, None),
    };
    Ok(TransitionColumns { state, output, error, wake_at, seen_gen })
}

/// Decodes an `activity_heartbeats` row of the run `key`.
pub(in crate::journal) fn heartbeat_from_row<R: TsRow + ?Sized>(
    row: &R,
    key: &RunKey,
) -> Result<crate::journal::ActivityHeartbeat, JournalError> {
    let k = key.to_string();
    let k = k.as_str();
    Ok(crate::journal::ActivityHeartbeat {
        op: op_from_row(row, k)?,
        attempt: u32::try_from(row.int32("attempt", k)?).map_err(|_| corrupt(k, "negative attempt"))?,
        details: from_json(k, "heartbeat details", &row.text("details", k)?)?,
        recorded_at: row.ts_req("recorded_at", k)?,
    })
}

/// Orders claimed tasks highest priority first, then oldest first.
pub(in crate::journal) fn order_claimed(
    mut rows: Vec<(i32, DateTime<Utc>, crate::journal::ClaimedTask)>,
) -> Vec<crate::journal::ClaimedTask> {
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.key.cmp(&b.2.key)).then(a.2.op.cmp(&b.2.op)));
    rows.into_iter().map(|(_, _, t)| t).collect()
}

/// A duration in whole milliseconds, saturating.
pub(in crate::journal) fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Decodes a `runs` row's `state` and `workflow` (a run as a request on it
/// finds it).
pub(in crate::journal) fn state_and_workflow<R: TsRow + ?Sized>(row: &R, key: &RunKey) -> Result<(RunState, String), JournalError> {
    let k = key.to_string();
    let state = row.text("state", &k)?;
    let workflow = row.text("workflow", &k)?;
    let state = RunState::parse(&state).ok_or_else(|| corrupt(key, format!("unknown state `{state}`")))?;
    Ok((state, workflow))
}

/// Decodes a run ([`RUN_COLUMNS`]) whose lease `owner` has just taken:
/// the lease, and the run.
pub(in crate::journal) fn leased_run<R: TsRow + ?Sized>(row: &R, owner: &str) -> Result<(Lease, RunRecord), JournalError> {
    let run = run_from_row(row)?;
    Ok((Lease { owner: owner.to_string(), token: run.lease_token }, run))
}

/// The lease a run was created with, if it was created leased.
pub(in crate::journal) fn creation_lease(run: &RunRecord) -> Option<Lease> {
    run.lease_owner.as_ref().map(|owner| Lease { owner: owner.clone(), token: run.lease_token })
}
