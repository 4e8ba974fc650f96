//! A run's error: why a run failed, was cancelled, drifted or was parked.
//!
//! Stored as the run's `error` (and in its final journal event) as a JSON
//! object `{"code": ..., "message": ...}`; the details of an error, when it
//! has any, are further fields of the same object (a drift's `seq`,
//! `expected` and `found`; a parked run's `module_hash`), so rows written
//! before this type existed read back unchanged.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::engine::replay::Drift;

/// A run's error: a machine-readable code, a message for people, and
/// optional details.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct RunError {
    /// Machine-readable: one of the host's codes (the constants of this
    /// type) or the code a workflow returned with its own error.
    pub code: String,
    /// For people.
    pub message: String,
    /// Further fields, stored beside `code` and `message` (`None`: none).
    pub details: Option<Map<String, Value>>,
}

impl RunError {
    /// The run was cancelled on request.
    pub const CANCELLED: &'static str = "cancelled";
    /// The run was stopped at once, with no clean-up (`terminate`, a
    /// clean-up past its budget, or a guest that could not be told of its
    /// cancellation).
    pub const TERMINATED: &'static str = "terminated";
    /// The recorded history no longer matches the module.
    pub const REPLAY_DRIFT: &'static str = "replay_drift";
    /// The workflow returned an output that is not JSON.
    pub const BAD_OUTPUT: &'static str = "bad_output";
    /// The workflow trapped (or panicked).
    pub const TRAP: &'static str = "trap";
    /// The workflow broke the host's contract (a call out of order).
    pub const CONTRACT_VIOLATION: &'static str = "contract_violation";
    /// The workflow called WASI `exit` instead of returning (the exit code
    /// is the detail `exit_code`).
    pub const EXITED: &'static str = "exited";
    /// The module version the run was recorded with is not deployed (the
    /// run is parked until it is).
    pub const MODULE_VERSION_UNKNOWN: &'static str = "module_version_unknown";
    /// The workflow ran past its CPU time for one activation
    /// (`run_supervisor.max_activation_ms`).
    pub const CPU_LIMIT: &'static str = "cpu_limit";
    /// The workflow would record past one of its journal limits
    /// (`run_supervisor.max_activation_events`, `max_activation_mb` or
    /// `max_history_events`).
    pub const HISTORY_LIMIT: &'static str = "history_limit";
    /// The workflow's linear memory would grow past its limit
    /// (`run_supervisor.max_memory_mb`).
    pub const MEMORY_LIMIT: &'static str = "memory_limit";
    /// The workflow would create more core instances, tables or memories
    /// than its store allows (`run_supervisor.max_core_instances`,
    /// `max_tables`, `max_memories`).
    pub const STORE_LIMIT: &'static str = "store_limit";

    /// An error with this code and message, without details.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code: code.into(), message: message.into(), details: None }
    }

    /// Adds a detail field (beside `code` and `message`; a detail named
    /// `code` or `message` is not stored).
    pub fn with_detail(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.details.get_or_insert_with(Map::new).insert(name.into(), value.into());
        self
    }

    /// The run was cancelled on request.
    pub fn cancelled() -> Self {
        Self::new(Self::CANCELLED, "the run was cancelled on request")
    }

    /// The run was terminated: stopped with no clean-up, for `reason`.
    pub fn terminated(reason: &str) -> Self {
        Self::new(Self::TERMINATED, format!("the run was terminated: {reason}"))
    }

    /// The history drifted from the module at `drift`.
    pub fn replay_drift(drift: &Drift) -> Self {
        Self::new(Self::REPLAY_DRIFT, drift.to_string())
            .with_detail("seq", drift.seq)
            .with_detail("expected", drift.expected.clone())
            .with_detail("found", drift.found.clone())
    }

    /// The workflow's output is not JSON (`why`: the parser's complaint).
    pub fn bad_output(why: impl std::fmt::Display) -> Self {
        Self::new(Self::BAD_OUTPUT, format!("the workflow returned invalid JSON: {why}"))
    }

    /// The workflow trapped; `message` says how.
    pub fn trap(message: impl Into<String>) -> Self {
        Self::new(Self::TRAP, message)
    }

    /// The workflow broke the host's contract; `message` says how.
    pub fn contract_violation(message: impl Into<String>) -> Self {
        Self::new(Self::CONTRACT_VIOLATION, message)
    }

    /// The workflow called WASI `exit` with `exit_code` instead of
    /// returning.
    pub fn exited(exit_code: i32) -> Self {
        Self::new(Self::EXITED, format!("the workflow exited with code {exit_code} instead of returning"))
            .with_detail("exit_code", exit_code)
    }

    /// The run's module version (`module_hash`) is not deployed; `why`
    /// says what was looked for.
    pub fn module_version_unknown(why: impl Into<String>, module_hash: impl Into<String>) -> Self {
        Self::new(Self::MODULE_VERSION_UNKNOWN, why).with_detail("module_hash", module_hash.into())
    }

    /// The workflow ran for `limit` of CPU in one activation without
    /// waiting. Details: `limit` (the manifest key) and `value` (ms).
    pub fn cpu_limit(limit: std::time::Duration) -> Self {
        let ms = limit.as_millis() as u64;
        Self::new(
            Self::CPU_LIMIT,
            format!(
                "the workflow ran for {ms} ms of CPU in one activation without waiting; \
                 `run_supervisor.max_activation_ms` = {ms} allows no more"
            ),
        )
        .with_detail("limit", "run_supervisor.max_activation_ms")
        .with_detail("value", ms)
    }

    /// The run reached the journal limit `key` (the manifest key), whose
    /// value is `value`; `message` says what it recorded.
    pub fn history_limit(key: &str, value: u64, message: impl Into<String>) -> Self {
        Self::new(Self::HISTORY_LIMIT, message).with_detail("limit", key).with_detail("value", value)
    }

    /// The workflow's linear memory would grow to `desired` bytes, past
    /// its `limit` (bytes). Details: `limit` (the manifest key) and
    /// `value` (MiB).
    pub fn memory_limit(limit: usize, desired: usize) -> Self {
        let mb = (limit >> 20) as u64;
        Self::new(
            Self::MEMORY_LIMIT,
            format!(
                "the workflow's memory would grow to {} MiB; `run_supervisor.max_memory_mb` = {mb} allows no more",
                desired.div_ceil(1 << 20)
            ),
        )
        .with_detail("limit", "run_supervisor.max_memory_mb")
        .with_detail("value", mb)
    }

    /// The workflow's guest would create more `what` (core instances,
    /// tables or linear memories) than `key` =
    /// `allowed` lets it. Details: `limit` (the manifest key) and `value`.
    pub fn store_limit(what: &str, key: &str, allowed: usize, detail: &str) -> Self {
        Self::new(
            Self::STORE_LIMIT,
            format!("the workflow needs more {what} than `run_supervisor.{key}` = {allowed} allows ({detail})"),
        )
        .with_detail("limit", format!("run_supervisor.{key}"))
        .with_detail("value", allowed)
    }

    /// The stored JSON object: `code`, `message` and the details.
    pub fn into_value(self) -> Value {
        let mut object = Map::new();
        object.insert("code".into(), Value::String(self.code));
        object.insert("message".into(), Value::String(self.message));
        for (name, value) in self.details.into_iter().flatten() {
            object.entry(name).or_insert(value);
        }
        Value::Object(object)
    }

    /// Reads a stored error back (other fields than `code` and `message`
    /// become the details).
    pub fn from_value(value: Value) -> Result<Self, serde_json::Error> {
        serde_json::from_value(value)
    }
}

impl From<RunError> for Value {
    fn from(error: RunError) -> Self {
        error.into_value()
    }
}

impl Serialize for RunError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.clone().into_value().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RunError {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// The stored shape.
        #[derive(Deserialize)]
        struct Stored {
            code: String,
            message: String,
            #[serde(flatten)]
            details: Map<String, Value>,
        }
        let Stored { code, message, details } = Stored::deserialize(deserializer)?;
        Ok(Self { code, message, details: (!details.is_empty()).then_some(details) })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn without_details_it_is_code_and_message() {
        let value = RunError::cancelled().into_value();
        assert_eq!(value, json!({"code": "cancelled", "message": "the run was cancelled on request"}));
        assert_eq!(serde_json::to_value(RunError::cancelled()).ok(), Some(value.clone()));
        assert_eq!(RunError::from_value(value).ok(), Some(RunError::cancelled()));
    }

    #[test]
    fn details_are_fields_beside_code_and_message() {
        let drift = Drift { seq: 7, expected: "sleep(1s)".into(), found: "now()".into() };
        let value = RunError::replay_drift(&drift).into_value();
        assert_eq!(
            value,
            json!({"code": "replay_drift", "message": drift.to_string(), "seq": 7, "expected": "sleep(1s)", "found": "now()"})
        );
        assert_eq!(RunError::from_value(value).ok(), Some(RunError::replay_drift(&drift)));
        let parked = RunError::module_version_unknown("gone", "abc").into_value();
        assert_eq!(parked, json!({"code": "module_version_unknown", "message": "gone", "module_hash": "abc"}));
    }

    #[test]
    fn limit_errors_name_the_manifest_key_and_its_value() {
        let cpu = RunError::cpu_limit(std::time::Duration::from_millis(1500)).into_value();
        assert_eq!(cpu["code"], "cpu_limit");
        assert_eq!((cpu["limit"].clone(), cpu["value"].clone()), (json!("run_supervisor.max_activation_ms"), json!(1500)));
        assert!(cpu["message"].as_str().is_some_and(|m| m.contains("1500 ms") && m.contains("max_activation_ms")), "{cpu}");
        let memory = RunError::memory_limit(32 << 20, (32 << 20) + 1).into_value();
        assert_eq!(memory["code"], "memory_limit");
        assert_eq!(memory["value"], 32);
        assert!(memory["message"].as_str().is_some_and(|m| m.contains("33 MiB") && m.contains("max_memory_mb` = 32")), "{memory}");
        let history = RunError::history_limit("run_supervisor.max_history_events", 200, "full").into_value();
        assert_eq!(history, json!({"code": "history_limit", "message": "full", "limit": "run_supervisor.max_history_events", "value": 200}));
    }

    #[test]
    fn details_never_replace_code_or_message() {
        let e = RunError::new("x", "y").with_detail("code", "z");
        assert_eq!(e.into_value(), json!({"code": "x", "message": "y"}));
    }
}
