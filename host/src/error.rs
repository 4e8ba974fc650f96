//! The errors of the public API.

use std::time::Duration;

use crate::input_limits::clip;
use crate::journal::{JournalError, RunKey, RunState};
use crate::modules::ModuleError;

/// Errors returned by [`crate::Continuum`] and the embedding API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No instance of that name is registered.
    #[error("instance `{}` is not registered", clip(.0))]
    InstanceNotRegistered(String),
    /// An instance of that name is registered already.
    #[error("instance `{0}` is already registered")]
    InstanceAlreadyRegistered(String),
    /// The instance serves no workflow of that name.
    #[error("unknown workflow `{}` in instance `{instance}` (known: {known})", clip(.workflow))]
    UnknownWorkflow {
        /// Instance.
        instance: String,
        /// The name asked for.
        workflow: String,
        /// The names it serves, comma-separated.
        known: String,
    },
    /// A payload is not valid JSON.
    #[error("invalid JSON {what}: {message}")]
    InvalidJson {
        /// What the payload was for.
        what: String,
        /// The parser's message.
        message: String,
    },
    /// No run with that id in the instance.
    #[error("run `{}` not found in instance `{instance}`", clip(.run_id))]
    UnknownRun {
        /// Instance.
        instance: String,
        /// Run id.
        run_id: String,
    },
    /// A run with that id exists already in the instance.
    #[error("run `{run_id}` already exists in instance `{instance}`")]
    RunExists {
        /// Instance.
        instance: String,
        /// Run id.
        run_id: String,
    },
    /// A run with that id exists already in the instance with another
    /// workflow or input than this start's; nothing was started.
    #[error("run `{run_id}` already exists in instance `{instance}` and differs from this start: {difference}")]
    RunConflict {
        /// Instance.
        instance: String,
        /// Run id.
        run_id: String,
        /// The first difference found (the workflow, or where the inputs
        /// differ).
        difference: String,
    },
    /// The run received a signal with this idempotency key before, with
    /// another name or payload; nothing was sent.
    #[error("run `{run_id}` in instance `{instance}` already received a signal with idempotency key `{key}`, {difference}")]
    SignalKeyConflict {
        /// Instance.
        instance: String,
        /// Run id.
        run_id: String,
        /// The idempotency key.
        key: String,
        /// How the first signal differs from this one.
        difference: String,
    },
    /// The run has finished; it takes no more signals.
    #[error("run `{run_id}` in instance `{instance}` is already {state}")]
    RunFinished {
        /// Instance.
        instance: String,
        /// Run id.
        run_id: String,
        /// Its final state.
        state: RunState,
    },
    /// The run did not finish in time.
    #[error("run `{run_id}` in instance `{instance}` did not finish within {waited:?}")]
    AwaitTimeout {
        /// Instance.
        instance: String,
        /// Run id.
        run_id: String,
        /// How long we waited.
        waited: Duration,
    },
    /// A live engine on another host holds the run and did not confirm its
    /// termination in time. The request was withdrawn (nothing is left
    /// half-done); retrying is safe.
    #[error("termination of run `{run_id}` in instance `{instance}` was not confirmed within {waited:?} (its engine holds the lease); retry")]
    CancelNotConfirmed {
        /// Instance.
        instance: String,
        /// Run id.
        run_id: String,
        /// How long we waited.
        waited: Duration,
    },
    /// A deploy was refused: the runs it was to migrate would diverge.
    #[error("deploy of workflow `{workflow}` refused: {reasons}")]
    DeployRefused {
        /// The workflow.
        workflow: String,
        /// Each incompatible run and its first diverging step.
        reasons: String,
    },
    /// A run named for a replay check or a migration is a run of another
    /// workflow than the module checked.
    #[error("run `{run_id}` in instance `{instance}` is a run of workflow `{found}`, not `{expected}` (a replay check covers one workflow)")]
    WorkflowMismatch {
        /// Instance.
        instance: String,
        /// Run id.
        run_id: String,
        /// The run's workflow.
        found: String,
        /// The workflow checked.
        expected: String,
    },
    /// A replay check named neither a workflow nor runs.
    #[error("nothing to replay: name the workflow (`--workflow`) or the runs")]
    NothingToReplay,
    /// A module could not be loaded.
    #[error(transparent)]
    Module(#[from] ModuleError),
    /// A workflow's component file was refused before it could become a
    /// version (not a component, does not compile, or does not fit the
    /// `workflow` world): nothing was published, the workflow's current
    /// version is unchanged.
    #[error("workflow `{}` of instance `{instance}`: {source}", clip(.workflow))]
    WorkflowModule {
        /// Instance.
        instance: String,
        /// The workflow the file was given for.
        workflow: String,
        /// What is wrong with the file (it names the file).
        #[source]
        source: ModuleError,
    },
    /// The run's workflow answers no queries where the run is (its
    /// component does not import `queries`, or registers no handler).
    #[error("workflow `{workflow}` does not answer queries (run `{}` in instance `{instance}`)", clip(.run_id))]
    QueriesUnsupported {
        /// Instance.
        instance: String,
        /// Run id.
        run_id: String,
        /// The run's workflow.
        workflow: String,
    },
    /// The run's workflow has no query of that name.
    #[error("workflow `{workflow}` has no query `{}` (run `{}` in instance `{instance}`; its queries: {known})", clip(.query), clip(.run_id))]
    UnknownQuery {
        /// Instance.
        instance: String,
        /// Run id.
        run_id: String,
        /// The run's workflow.
        workflow: String,
        /// The query asked.
        query: String,
        /// The queries it answers, comma-separated.
        known: String,
    },
    /// The query's handler failed (its message), or the run's history
    /// could not be replayed to answer it.
    #[error("query `{}` of run `{}` in instance `{instance}` failed: {message}", clip(.query), clip(.run_id))]
    QueryFailed {
        /// Instance.
        instance: String,
        /// Run id.
        run_id: String,
        /// The query asked.
        query: String,
        /// The handler's error, or why the replay failed.
        message: String,
    },
    /// The workflow rejected the update: it replied with this error.
    #[error("update `{update_id}` of run `{}` in instance `{instance}` was rejected: {message}", clip(.run_id))]
    UpdateRejected {
        /// Instance.
        instance: String,
        /// Run id.
        run_id: String,
        /// The update id.
        update_id: String,
        /// The workflow's error message.
        message: String,
    },
    /// No reply to the update came in time; the update stays delivered
    /// (wait again with `await_update`).
    #[error("update `{update_id}` of run `{}` in instance `{instance}` was not replied to within {waited:?} (it stays delivered)", clip(.run_id))]
    UpdateTimeout {
        /// Instance.
        instance: String,
        /// Run id.
        run_id: String,
        /// The update id.
        update_id: String,
        /// How long we waited.
        waited: Duration,
    },
    /// The run ended without replying to the update.
    #[error("run `{}` in instance `{instance}` ended {state} without replying to update `{update_id}`", clip(.run_id))]
    UpdateNotReplied {
        /// Instance.
        instance: String,
        /// Run id.
        run_id: String,
        /// The update id.
        update_id: String,
        /// The run's final state.
        state: RunState,
    },
    /// An activity component file was refused (not a component, does not
    /// compile, or does not fit the `activity` world).
    #[error("activity component of instance `{instance}`: {source}")]
    ActivityModule {
        /// Instance.
        instance: String,
        /// What is wrong with the file (it names the file).
        #[source]
        source: ModuleError,
    },
    /// A run id, signal name or workflow name outside the limits
    /// ([`crate::MAX_RUN_ID_CHARS`], [`crate::MAX_SIGNAL_NAME_CHARS`],
    /// [`crate::MAX_WORKFLOW_NAME_CHARS`]; no control characters, no
    /// whitespace in ids and workflow names). Nothing was written.
    #[error("invalid {what} `{value}`: {reason}")]
    InvalidName {
        /// What the value was for: "run id", "signal name", "workflow name".
        what: &'static str,
        /// The value, clipped to a short line.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A JSON payload larger than [`crate::MAX_PAYLOAD_BYTES`]. Nothing
    /// was written.
    #[error("the {what} is larger than the limit of {limit} bytes")]
    PayloadTooLarge {
        /// What the payload was for: "input", "signal payload".
        what: &'static str,
        /// The limit in bytes.
        limit: usize,
    },
    /// The database failed or refused an operation (or its URL names no
    /// supported database).
    #[error(transparent)]
    Database(DatabaseError),
    /// The instance's database could not be opened (refused, unknown host,
    /// bad credentials, no answer in time, ...).
    #[error("the database of instance `{instance}` is unreachable: {source}")]
    DatabaseUnreachable {
        /// Instance.
        instance: String,
        /// Why.
        #[source]
        source: DatabaseError,
    },
    /// The manifest the instances were built from is invalid (for example
    /// an instance's database is unreachable).
    #[error(transparent)]
    Manifest(Box<crate::manifest::ManifestError>),
    /// A node name that cannot be the first part of lease owners
    /// (`node/instance/n`): empty, or with `/`, whitespace or control
    /// characters.
    #[error("invalid node name `{node}` for instance `{instance}`: {reason}")]
    InvalidNode {
        /// Instance.
        instance: String,
        /// The name given.
        node: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A schedule was refused: an invalid name, cron expression or time
    /// zone, a one-shot time in the past.
    #[error("invalid schedule `{name}` in instance `{instance}`: {reason}")]
    InvalidSchedule {
        /// Instance.
        instance: String,
        /// The schedule's name (clipped).
        name: String,
        /// Why.
        reason: String,
    },
    /// No schedule of that name.
    #[error("schedule `{}` not found in instance `{instance}`", clip(.name))]
    UnknownSchedule {
        /// Instance.
        instance: String,
        /// The name asked for.
        name: String,
    },
    /// A schedule of that name exists already.
    #[error("schedule `{name}` already exists in instance `{instance}`")]
    ScheduleExists {
        /// Instance.
        instance: String,
        /// Its name.
        name: String,
    },
    /// A pause, resume, retry or reset the run's state does not allow;
    /// nothing was written.
    #[error("cannot {verb} run `{run_id}` in instance `{instance}`: {reason}")]
    RunControlRefused {
        /// `pause`, `resume`, `retry` or `reset`.
        verb: String,
        /// Instance.
        instance: String,
        /// The run.
        run_id: String,
        /// Why.
        reason: String,
    },
    /// A reset to a journal entry the run does not have; nothing was
    /// written.
    #[error("cannot reset run `{run_id}` in instance `{instance}` to entry {to_seq}: {reason}")]
    InvalidResetPoint {
        /// Instance.
        instance: String,
        /// The run.
        run_id: String,
        /// The entry asked for.
        to_seq: i64,
        /// Why.
        reason: String,
    },
    /// The configuration is invalid.
    #[error("invalid configuration of instance `{instance}`: {message}")]
    Config {
        /// Instance.
        instance: String,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// True when retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::CancelNotConfirmed { .. } | Error::AwaitTimeout { .. } | Error::UpdateTimeout { .. })
    }

    /// [`Error::UnknownRun`] for `key`.
    pub(crate) fn unknown_run(key: &RunKey) -> Error {
        Error::UnknownRun { instance: key.instance.clone(), run_id: key.run_id.clone() }
    }

    /// A journal error about the run `key`, as the API reports it: the
    /// run's own conditions by name, anything else as a database error.
    pub(crate) fn from_journal(e: JournalError, key: &RunKey) -> Error {
        match e {
            JournalError::UnknownRun(_) => Error::unknown_run(key),
            JournalError::RunExists(_) => Error::RunExists { instance: key.instance.clone(), run_id: key.run_id.clone() },
            JournalError::SignalKeyConflict { signal_key, difference, .. } => Error::SignalKeyConflict {
                instance: key.instance.clone(),
                run_id: key.run_id.clone(),
                key: signal_key,
                difference,
            },
            JournalError::RunFinished { state, .. } => {
                Error::RunFinished { instance: key.instance.clone(), run_id: key.run_id.clone(), state }
            }
            other => Error::from(other),
        }
    }
}

impl From<JournalError> for Error {
    fn from(e: JournalError) -> Self {
        Error::Database(DatabaseError(e))
    }
}

/// A database failure: what the database (or its driver) said, with the
/// driver's error as [`std::error::Error::source`]. Opaque, so no driver
/// type is part of the API.
#[derive(Debug)]
pub struct DatabaseError(pub(crate) JournalError);

impl std::fmt::Display for DatabaseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for DatabaseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.0)
    }
}
