//! A typed reader of `continuum show RUN --json`: the run's record, its
//! journal and the stored heartbeats of its activity calls in progress.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::cli_ok;

/// What `continuum show RUN --json` prints.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Shown {
    /// The run's record.
    pub run: ShownRun,
    /// The run's journal, in `seq` order.
    pub events: Vec<ShownEvent>,
    /// The latest heartbeat of each activity call in progress.
    pub heartbeats: Vec<ShownHeartbeat>,
    /// The activity calls without an outcome yet, each with `op`,
    /// `activity`, `queue`, `state`, `attempts_started` and `served`.
    #[serde(default)]
    pub open_activities: Vec<Value>,
    /// The child runs it started, each with `key`, `workflow`, `state`,
    /// `parent_op`, `parent_close` and `created_at`.
    #[serde(default)]
    pub children: Vec<Value>,
    /// The runs of its chain (continue-as-new), first run first, each with
    /// `key`, `chain_seq`, `state`, `module_hash` and `created_at`; empty
    /// when it neither continues nor was continued.
    #[serde(default)]
    pub chain: Vec<Value>,
    /// Its resets and retries, oldest first, each with `reset_id`,
    /// `kind`, `to_seq`, `reason`, `previous_state`, `at` and the
    /// `superseded` journal entries (as `events`).
    #[serde(default)]
    pub resets: Vec<Value>,
}

impl Shown {
    /// The `type` of every journal entry, in order.
    pub fn kinds(&self) -> Vec<&str> {
        self.events.iter().map(ShownEvent::kind).collect()
    }

    /// The journal entries of one `type`, in order.
    pub fn of_kind(&self, kind: &str) -> Vec<&ShownEvent> {
        of_kind(&self.events, kind)
    }

    /// Whether the journal holds an entry of this `type`.
    pub fn has(&self, kind: &str) -> bool {
        self.events.iter().any(|e| e.kind() == kind)
    }
}

/// The entries of one `type` among `events`, in order.
pub fn of_kind<'a>(events: &'a [ShownEvent], kind: &str) -> Vec<&'a ShownEvent> {
    events.iter().filter(|e| e.kind() == kind).collect()
}

/// A run's record as `show --json` prints it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ShownRun {
    /// The run's instance and id.
    pub key: ShownKey,
    /// The workflow name.
    pub workflow: String,
    /// The hash of the module version the run is on.
    pub module_hash: String,
    /// The lifecycle state (`pending`, `running`, `suspended`, `completed`, ...).
    pub state: String,
    /// The output, once completed.
    pub output: Option<Value>,
    /// The error (`code`, `message`, ...), once failed, cancelled or drifted
    /// (or while parked).
    pub error: Option<Value>,
    /// The lease holder, `node/instance/counter`, if any.
    pub lease_owner: Option<String>,
    /// The fencing token.
    pub lease_token: i64,
    /// When the current lease expires, as printed.
    pub lease_expires_at: Option<String>,
    /// When cancellation was requested, as printed.
    pub cancel_requested_at: Option<String>,
    /// The run that started this one as its child, if one did.
    #[serde(default)]
    pub parent_run_id: Option<String>,
    /// The attributes the workflow set on the run, by key.
    #[serde(default)]
    pub attributes: std::collections::BTreeMap<String, String>,
    /// The run of its chain this one continues (continue-as-new).
    #[serde(default)]
    pub continued_from: Option<String>,
    /// The run that continues this one, once it ended `continued`.
    #[serde(default)]
    pub continued_to: Option<String>,
    /// When the run was paused, while it is, as printed.
    #[serde(default)]
    pub paused_at: Option<String>,
}

impl ShownRun {
    /// The error's `code`, if the run has an error.
    pub fn error_code(&self) -> Option<&str> {
        self.error.as_ref()?.get("code")?.as_str()
    }

    /// The error's `message`, or `""`.
    pub fn error_message(&self) -> &str {
        self.error.as_ref().and_then(|e| e.get("message")).and_then(Value::as_str).unwrap_or("")
    }
}

/// A run's key: runs are keyed by instance and id.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ShownKey {
    /// The instance name.
    pub instance: String,
    /// The run id.
    pub run_id: String,
}

/// One journal entry: its position and its body (`type` and the fields of
/// that type).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ShownEvent {
    /// Position in the journal, from 1.
    pub seq: i64,
    /// The entry's body, tagged by `type`.
    pub body: Value,
    /// When it was written, as printed.
    pub recorded_at: String,
}

impl ShownEvent {
    /// The body's `type` (`run_started`, `activity_scheduled`, ...), or `""`.
    pub fn kind(&self) -> &str {
        self.body["type"].as_str().unwrap_or("")
    }

    /// The body's `op`, if it has one.
    pub fn op(&self) -> Option<i64> {
        self.body["op"].as_i64()
    }
}

/// The stored heartbeat of an activity call in progress.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ShownHeartbeat {
    /// The call's operation number.
    pub op: u32,
    /// The attempt that recorded it.
    pub attempt: u32,
    /// The details the activity reported.
    pub details: Value,
}

/// `continuum show RUN --json [--instance NAME]`, read.
pub fn show_json(manifest: &Path, run: &str, instance: Option<&str>) -> Shown {
    let mut args = vec!["show", run, "--json"];
    if let Some(i) = instance {
        args.extend(["--instance", i]);
    }
    let text = cli_ok(manifest, &args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("`continuum show --json` printed what `Shown` cannot read ({e}): {text}"))
}
