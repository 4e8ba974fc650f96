//! The API's answer bodies as `--server` reads them: the fields the CLI
//! prints, typed (the server's `/openapi.json` documents them whole).

use continuum_host::{CancelOutcome, RunInfo, RunState, WorkflowVersions};
use serde::Deserialize;
use serde_json::Value;

/// `POST .../runs`.
#[derive(Debug, Deserialize)]
pub struct Started {
    /// The run id.
    pub run_id: String,
    /// The run existed with the same workflow and input: nothing started.
    #[serde(default)]
    pub existed: bool,
}

/// `POST .../signals`.
#[derive(Debug, Deserialize)]
pub struct SignalSent {
    /// The run had received the signal before with the same idempotency
    /// key: nothing was sent now.
    #[serde(default)]
    pub duplicate: bool,
}

/// `POST .../queries`.
#[derive(Debug, Deserialize)]
pub struct QueryAnswered {
    /// The workflow's answer.
    pub answer: Value,
}

/// `POST .../updates`, `GET .../updates/{update_id}`.
#[derive(Debug, Deserialize)]
pub struct UpdateAnswer {
    /// The update id.
    pub update_id: String,
    /// The run it was delivered to.
    pub run_id: String,
    /// True once the workflow replied.
    pub replied: bool,
    /// The reply.
    #[serde(default)]
    pub reply: Option<Value>,
}

/// `GET .../runs`: a page of runs.
#[derive(Debug, Deserialize)]
pub struct RunPage {
    /// The runs, newest first.
    pub runs: Vec<RunInfo>,
    /// The next page's cursor.
    pub next_cursor: Option<String>,
}

/// `GET .../result`.
#[derive(Debug, Deserialize)]
pub struct RunResult {
    /// True when the run is final.
    pub done: bool,
    /// Its state.
    pub state: RunState,
    /// The output, when completed.
    pub output: Option<Value>,
    /// The error, when failed, cancelled or drifted.
    pub error: Option<Value>,
}

/// `POST .../retry` and `POST .../reset`.
#[derive(Debug, Deserialize)]
pub struct ResetDone {
    /// The last journal entry kept.
    pub to_seq: i64,
    /// How many entries the reset superseded.
    pub superseded: usize,
}

/// `POST .../cancel` and `POST .../terminate`.
#[derive(Debug, Deserialize)]
pub struct Cancelled {
    /// `cancelled`, `terminated`, `requested` or `already_final`.
    pub outcome: String,
    /// The run's state (final unless `requested`).
    pub state: RunState,
}

impl Cancelled {
    /// The outcome as the library gives it to the direct path; an outcome
    /// this client does not know is the reason returned.
    pub fn outcome(&self, verb: &str) -> Result<CancelOutcome, String> {
        match self.outcome.as_str() {
            "cancelled" | "terminated" => Ok(CancelOutcome::Cancelled),
            "requested" => Ok(CancelOutcome::Requested),
            "already_final" => Ok(CancelOutcome::AlreadyFinal(self.state)),
            other => Err(format!("unknown {verb} outcome `{other}`")),
        }
    }
}

/// `GET .../workflows`.
#[derive(Debug, Deserialize)]
pub struct WorkflowList {
    /// The workflows and their versions.
    pub workflows: Vec<WorkflowVersions>,
}

/// `GET /v1/instances`.
#[derive(Debug, Deserialize)]
pub struct InstanceList {
    /// The instances.
    pub instances: Vec<InstanceEntry>,
}

/// One instance.
#[derive(Debug, Deserialize)]
pub struct InstanceEntry {
    /// Its name.
    pub name: String,
}

/// A run's replay check (deploy `checks`, replay `runs`).
#[derive(Debug, Deserialize)]
pub struct RunCheck {
    /// The run.
    pub run_id: String,
    /// Whether it replays on the candidate.
    pub compatible: bool,
    /// The verdict in words.
    pub verdict: String,
}

/// A run left on its version by a deploy.
#[derive(Debug, Deserialize)]
pub struct NotMigrated {
    /// The run.
    pub run_id: String,
    /// Why.
    pub reason: String,
}

/// `POST .../workflows/{workflow}/versions`.
#[derive(Debug, Deserialize)]
pub struct Deployed {
    /// The new current version.
    pub hash: String,
    /// Runs moved to it.
    pub migrated: u64,
    /// The replay checks.
    pub checks: Vec<RunCheck>,
    /// Runs left on their version.
    pub not_migrated: Vec<NotMigrated>,
    /// Runs that finished on their version first.
    pub finished: Vec<String>,
}

/// `POST .../replay`.
#[derive(Debug, Deserialize)]
pub struct Replayed {
    /// The verdict of each run.
    pub runs: Vec<RunCheck>,
}
