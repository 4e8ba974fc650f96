//! What the verbs print, and the exit code it implies: one place for both
//! ways to reach the runs (the database directly, or a server's HTTP API
//! with `--server`), so scripts read the same output either way.

use continuum_host::{CancelOutcome, RunHistory, RunInfo, RunState, WorkflowVersions};
use serde_json::Value;

use crate::exit::{EXIT_OK, EXIT_RETRYABLE, EXIT_RUN_NOT_COMPLETED};
use crate::show;

/// A run of a listing (`runs`), one line: its id, state, workflow,
/// creation time, then its attributes (`key=value`) if it has any.
pub fn run_line(run: &RunInfo) {
    let attributes: String = run.attributes.iter().map(|(k, v)| format!("  {k}={v}")).collect();
    outln!("{}  {:<10} {:<16} {}{attributes}", run.key.run_id, run.state, run.workflow, run.created_at.to_rfc3339());
}

/// A page of a listing (`runs`): a line per run (with `json`, the run as
/// one JSON object per line), then, when more runs match, the cursor of
/// the next page: on stderr as `next page: --cursor CURSOR` in text; as a
/// last line `{"next_cursor": CURSOR}` on stdout with `json`.
pub fn runs(runs: &[RunInfo], next_cursor: Option<&str>, json: bool) {
    for run in runs {
        if json {
            outln!("{}", serde_json::to_string(run).unwrap_or_default());
        } else {
            run_line(run);
        }
    }
    match (next_cursor, json) {
        (Some(c), true) => outln!("{}", serde_json::json!({ "next_cursor": c })),
        (Some(c), false) => errln!("next page: --cursor {c}"),
        (None, _) => {}
    }
}

/// An instance's workflows (`workflows`): a line per workflow, then one
/// per version stored, oldest first, the current one marked.
pub fn workflows(workflows: &[WorkflowVersions]) {
    for w in workflows {
        outln!("{}", w.workflow);
        for v in &w.versions {
            let current = if w.current.as_deref() == Some(v.hash.as_str()) { "  (current)" } else { "" };
            outln!("  {}  {}{current}", v.hash, v.deployed_at.to_rfc3339());
        }
    }
}

/// A run's history (`show`): text, or JSON with `--json`.
pub fn history(history: &RunHistory, json: bool) {
    if json {
        // Through a JSON value, as this command always printed it.
        let doc = serde_json::to_value(history).unwrap_or_default();
        outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        out!("{}", show::render(history));
    }
}

/// A finished run (`await`): its output on stdout and 0 when completed;
/// else its error, its state on stderr and 3.
pub fn awaited(run_id: &str, state: RunState, output: Option<Value>, error: Option<Value>) -> u8 {
    if state == RunState::Completed {
        outln!("{}", output.unwrap_or(Value::Null));
        EXIT_OK
    } else {
        outln!("{}", error.unwrap_or(Value::Null));
        errln!("run {run_id} ended {state}");
        EXIT_RUN_NOT_COMPLETED
    }
}

/// A run started (`start`): its id on stdout; a note on stderr when the
/// run existed with the same workflow and input and nothing was started.
pub fn started(run_id: &str, existed: bool) {
    if existed {
        errln!("continuum: run `{run_id}` exists with the same workflow and input: not started again");
    }
    outln!("{run_id}");
}

/// A signal sent (`signal`), or not sent again because the run received it
/// before with the same idempotency `key`.
pub fn signalled(run_id: &str, name: &str, key: Option<&str>, duplicate: bool) {
    if duplicate {
        outln!("signal `{name}` was sent to run {run_id} before with key `{}`: not sent again", key.unwrap_or_default());
    } else {
        outln!("signal `{name}` sent to run {run_id}");
    }
}

/// A query's answer (`query`): its JSON on stdout.
pub fn answered(answer: &Value) {
    outln!("{answer}");
}

/// How a cancel ended (`cancel`).
pub fn cancelled(run_id: &str, outcome: &CancelOutcome) {
    match outcome {
        CancelOutcome::Cancelled => outln!("run {run_id} cancelled"),
        CancelOutcome::AlreadyFinal(state) => outln!("run {run_id} had already finished: {state}"),
        CancelOutcome::Requested => {
            outln!("run {run_id}: cancellation requested; the workflow is told and cleans up (the request stands)")
        }
        other => outln!("run {run_id}: {other:?}"),
    }
}

/// A run paused (`pause`) or resumed (`resume`).
pub fn paused(run_id: &str, paused: bool) {
    outln!("run {run_id} {}", if paused { "paused" } else { "resumed" });
}

/// A run reset (`reset`) or retried (`retry`): where it goes on from.
pub fn reset(what: &str, run_id: &str, to_seq: i64, superseded: usize) {
    outln!("run {run_id} {what} from journal entry {to_seq} ({superseded} later entr{} kept as history)",
        if superseded == 1 { "y" } else { "ies" });
}

/// How a terminate ended (`terminate`).
pub fn terminated(run_id: &str, outcome: &CancelOutcome) {
    match outcome {
        CancelOutcome::AlreadyFinal(state) => outln!("run {run_id} had already finished: {state}"),
        _ => outln!("run {run_id} terminated"),
    }
}

/// What a deploy did, as both paths know it.
pub struct Deployed {
    /// The workflow.
    pub workflow: String,
    /// The new current version.
    pub hash: String,
    /// Runs moved to it.
    pub migrated: u64,
    /// Each run checked and its verdict, in words.
    pub checks: Vec<(String, String)>,
    /// Runs that finished on their version first.
    pub finished: Vec<String>,
    /// Runs left on their version, and why.
    pub not_migrated: Vec<(String, String)>,
}

/// A deploy's report (`deploy`); 4 when runs were left unmigrated.
pub fn deployed(d: &Deployed) -> u8 {
    for (run, verdict) in &d.checks {
        outln!("run {run}: {verdict}");
    }
    for run in &d.finished {
        outln!("run {run}: finished on its version before it could be migrated");
    }
    for (run, why) in &d.not_migrated {
        outln!("run {run}: not migrated: {why}");
    }
    outln!("deployed {} version {} ({} run(s) migrated)", d.workflow, d.hash, d.migrated);
    if d.not_migrated.is_empty() {
        EXIT_OK
    } else {
        errln!("{} run(s) not migrated; deploying again retries them", d.not_migrated.len());
        EXIT_RETRYABLE
    }
}

/// A replay's verdicts (`replay`): each run, whether compatible, the
/// verdict in words; 3 when any is incompatible.
pub fn replayed(verdicts: &[(String, bool, String)]) -> u8 {
    let mut all_ok = true;
    for (run, compatible, verdict) in verdicts {
        all_ok &= compatible;
        outln!("run {run}: {verdict}");
    }
    outln!("{} run(s) replayed, {}", verdicts.len(), if all_ok { "all compatible" } else { "some incompatible" });
    if all_ok {
        EXIT_OK
    } else {
        EXIT_RUN_NOT_COMPLETED
    }
}
