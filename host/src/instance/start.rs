//! Starting a run: the record is inserted through the instance's group
//! commit and comes back as the database stored it; on a host that
//! executes the instance's runs and has a free slot, the run is taken at
//! creation and executed here at once, otherwise any host's dispatcher
//! picks it up.

use std::sync::Arc;

use serde_json::Value;

use crate::journal::{JournalError, NewRun, RunKey};
use crate::{input_limits, telemetry, Error, IfExists, Started};

use super::{start_conflict, Instance, Shared};

impl Instance {
    /// Starts a run of `workflow` with a JSON input, under `run_id` (a new
    /// UUID when `None`). Under an id that exists, the start is the same
    /// one again when that run has the same workflow and input: it returns
    /// the run (`existed`), or fails with [`Error::RunExists`] when
    /// `if_exists` says so; with another workflow or input it fails with
    /// [`Error::RunConflict`] naming the difference. Fails with
    /// [`Error::UnknownWorkflow`]; a run id or an input outside the limits
    /// is refused first ([`Error::InvalidName`], [`Error::PayloadTooLarge`]).
    pub async fn start_run(
        &self,
        workflow: &str,
        input: Value,
        run_id: Option<String>,
        if_exists: IfExists,
    ) -> Result<Started, Error> {
        start_run(&self.shared, workflow, input, run_id, if_exists).await
    }
}

/// [`Instance::start_run`] for the children (the scheduler), which hold the
/// instance's shared state rather than the instance.
pub(crate) async fn start_run(
    shared: &Arc<Shared>,
    workflow: &str,
    input: Value,
    run_id: Option<String>,
    if_exists: IfExists,
) -> Result<Started, Error> {
    if let Some(id) = &run_id {
        input_limits::check_run_id(id)?;
    }
    input_limits::check_payload("input", &input)?;
    let hash = shared.modules.current_hash(workflow).ok_or_else(|| Error::UnknownWorkflow {
        instance: shared.name.to_string(),
        workflow: workflow.to_string(),
        known: shared.modules.names(),
    })?;
    let run_id = run_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let key = RunKey::new(&*shared.name, run_id.clone());
    let run = NewRun {
        key: key.clone(),
        workflow: workflow.to_string(),
        module_hash: hash.clone(),
        input: input.clone(),
        trace_context: telemetry::current_traceparent(),
    };
    // A free execution slot, reserved before the insert, lets this host
    // take the run's first lease in it and start it at once.
    let local = shared
        .run_supervisor
        .as_ref()
        .filter(|_| shared.modules.is_loaded(&hash))
        .and_then(|s| s.slot().map(|slot| (s, slot)));
    let owner = local.as_ref().map(|_| shared.next_owner());
    let (record, lease) = match shared.batcher.create(run, owner.map(|o| (o, shared.lease_ttl))).await {
        Ok(created) => created,
        Err(JournalError::RunExists(_)) => return started_before(shared, &key, workflow, &input, if_exists).await,
        Err(e) => return Err(Error::from_journal(e, &key)),
    };
    tracing::info!(instance = %key.instance, run_id = %key.run_id, workflow, "run created");
    match (local, lease) {
        (Some((supervisor, slot)), Some(lease)) => {
            tracing::debug!(instance = %key.instance, run_id = %key.run_id, workflow, owner = %lease.owner, token = lease.token,
                "lease acquired at creation; run executed here");
            supervisor.spawn(shared.clone(), record, lease, slot);
        }
        _ => shared.wakeups.dispatcher.notify_one(),
    }
    Ok(Started { run_id, existed: false })
}

/// A start under the id of run `key`, which exists: the same start again,
/// or a conflict.
async fn started_before(shared: &Shared, key: &RunKey, workflow: &str, input: &Value, if_exists: IfExists) -> Result<Started, Error> {
    let run = shared.journal.get_run(key).await.map_err(|e| Error::from_journal(e, key))?;
    // Created a moment ago, so it is there unless it was deleted since.
    let run = run.ok_or_else(|| Error::RunExists { instance: key.instance.clone(), run_id: key.run_id.clone() })?;
    match start_conflict::difference(&run.workflow, &run.input, workflow, input) {
        Some(difference) => Err(Error::RunConflict { instance: key.instance.clone(), run_id: key.run_id.clone(), difference }),
        None if if_exists == IfExists::Fail => Err(Error::RunExists { instance: key.instance.clone(), run_id: key.run_id.clone() }),
        None => {
            tracing::info!(instance = %key.instance, run_id = %key.run_id, workflow, "run exists with the same workflow and input: returned");
            Ok(Started { run_id: key.run_id.clone(), existed: true })
        }
    }
}
