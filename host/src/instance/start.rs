//! Starting a run: the record is inserted through the instance's group
//! commit and comes back as the database stored it; on a host that
//! executes the instance's runs and has a free slot, the run is taken at
//! creation and executed here at once, otherwise any host's dispatcher
//! picks it up.

use serde_json::Value;

use crate::journal::{NewRun, RunKey};
use crate::{input_limits, telemetry, Error};

use super::Instance;

impl Instance {
    /// Starts a run of `workflow` with a JSON input, under `run_id` (a new
    /// UUID when `None`); returns its run id. Fails with
    /// [`Error::UnknownWorkflow`] or [`Error::RunExists`]; a run id or an
    /// input outside the limits is refused first ([`Error::InvalidName`],
    /// [`Error::PayloadTooLarge`]).
    pub async fn start_run(&self, workflow: &str, input: Value, run_id: Option<String>) -> Result<String, Error> {
        if let Some(id) = &run_id {
            input_limits::check_run_id(id)?;
        }
        input_limits::check_payload("input", &input)?;
        let hash = self.modules().current_hash(workflow).ok_or_else(|| Error::UnknownWorkflow {
            instance: self.name().to_string(),
            workflow: workflow.to_string(),
            known: self.modules().names(),
        })?;
        let run_id = run_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let key = RunKey::new(self.name(), run_id.clone());
        let run = NewRun {
            key: key.clone(),
            workflow: workflow.to_string(),
            module_hash: hash.clone(),
            input,
            trace_context: telemetry::current_traceparent(),
        };
        let shared = &self.shared;
        // A free execution slot, reserved before the insert, lets this host
        // take the run's first lease in it and start it at once.
        let local = shared
            .run_supervisor
            .as_ref()
            .filter(|_| self.modules().is_loaded(&hash))
            .and_then(|s| s.slot().map(|slot| (s, slot)));
        let owner = local.as_ref().map(|_| shared.next_owner());
        let (record, lease) = shared.batcher.create(run, owner.map(|o| (o, shared.lease_ttl))).await.map_err(|e| Error::from_journal(e, &key))?;
        tracing::info!(instance = %key.instance, run_id = %key.run_id, workflow, "run created");
        match (local, lease) {
            (Some((supervisor, slot)), Some(lease)) => {
                tracing::debug!(instance = %key.instance, run_id = %key.run_id, workflow, owner = %lease.owner, token = lease.token,
                    "lease acquired at creation; run executed here");
                supervisor.spawn(shared.clone(), record, lease, slot);
            }
            _ => shared.wakeups.dispatcher.notify_one(),
        }
        Ok(run_id)
    }
}
