//! The run supervisor: executes runs in this process, at most N at once,
//! each as its own task under a lease, and reports how each attempt ended.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::engine::{execute_attempt, AttemptOutcome, LeaseClock};
use crate::journal::{Lease, RunRecord, RunState, RunWrite, Transition};
use crate::run_error::RunError;

use super::module_lookup::{self, ModuleLookup};
use super::Shared;

/// Executes runs for one instance.
pub struct RunSupervisor {
    permits: Arc<Semaphore>,
}

impl RunSupervisor {
    /// A supervisor allowing `max` runs at once.
    pub fn new(max: usize) -> Self {
        Self { permits: Arc::new(Semaphore::new(max.max(1))) }
    }

    /// Free execution slots.
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }

    /// Executes `run` under `lease` in a task of its own. The lease is given
    /// up if the run cannot execute here.
    pub fn spawn(&self, shared: Arc<Shared>, run: RunRecord, lease: Lease) {
        let permits = self.permits.clone();
        let run_id = run.key.run_id.clone();
        let clock = LeaseClock::new(shared.lease_ttl);
        let Some(cancel) = shared.registry.insert(&run_id, &run.workflow, lease.clone(), clock.clone()) else {
            return;
        };
        let task_shared = shared.clone();
        let handle = tokio::spawn(async move {
            let shared = task_shared;
            let Ok(_permit) = permits.acquire_owned().await else { return };
            let key = run.key.clone();
            let module = match module_lookup::find(&shared.modules, &run.module_hash, &run.workflow, &key.instance).await {
                ModuleLookup::Found(m) => m,
                // A failure that may pass (the database): never park; the
                // lease, no longer renewed, expires and recovery retries.
                ModuleLookup::Transient(why) => {
                    tracing::warn!(instance = %key.instance, run_id = %key.run_id, workflow = %run.workflow,
                        module_hash = %run.module_hash, reason = %why, "module version not loaded; the run is left for recovery");
                    shared.registry.remove(&key.run_id);
                    return;
                }
                // Never replay a run on code it was not recorded with: park
                // it until its version is deployed again.
                ModuleLookup::Unavailable(why) => {
                    tracing::warn!(instance = %key.instance, run_id = %key.run_id, workflow = %run.workflow,
                        module_hash = %run.module_hash, reason = %why, "run parked: module version unknown");
                    let mut write = RunWrite::new(key.clone(), lease.clone());
                    write.transition = Some(Transition::Park {
                        error: RunError::module_version_unknown(why, run.module_hash.clone()).into_value(),
                        seen_wake_gen: run.wake_gen,
                    });
                    match shared.journal.commit(&[write]).await {
                        Ok(applied) if applied.first() == Some(&true) => tracing::debug!(instance = %key.instance, run_id = %key.run_id,
                            workflow = %run.workflow, owner = %lease.owner, token = lease.token, reason = "parked", "lease released"),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(instance = %key.instance, run_id = %key.run_id, workflow = %run.workflow, error = %e, "parking the run failed"),
                    }
                    shared.registry.remove(&key.run_id);
                    return;
                }
            };
            let workflow = run.workflow.clone();
            let outcome = execute_attempt(shared.run_env(), module, run, lease.clone(), clock, cancel).await;
            shared.registry.remove(&key.run_id);
            let state = match &outcome {
                AttemptOutcome::Completed(output) => Some((RunState::Completed, Some((Some(output.clone()), None)))),
                AttemptOutcome::Failed(error) => Some((RunState::Failed, Some((None, Some(error.clone()))))),
                AttemptOutcome::Cancelled => Some((RunState::Cancelled, None)),
                AttemptOutcome::Drifted(_) => Some((RunState::Drifted, None)),
                AttemptOutcome::Suspended { since_snapshot } => {
                    if let Some(snapshotter) = &shared.snapshotter {
                        snapshotter.consider(&key, &workflow, *since_snapshot);
                    }
                    // A signal or result that came in while the run executed
                    // made it due again at once; a timer it set may be the
                    // instance's next.
                    shared.wakeups.run_suspended();
                    None
                }
                AttemptOutcome::LeaseLost => None,
                AttemptOutcome::Aborted(reason) => {
                    tracing::warn!(instance = %key.instance, run_id = %key.run_id, %workflow, %reason, "run attempt aborted; releasing its lease");
                    if let Ok(true) = shared.journal.release_lease(&key, &lease).await {
                        tracing::debug!(instance = %key.instance, run_id = %key.run_id, %workflow, owner = %lease.owner,
                            token = lease.token, reason = "aborted", "lease released");
                    }
                    None
                }
            };
            if let Some((state, result)) = state {
                shared.finished_runs.publish_finished(&key.run_id, state, result);
            }
        });
        shared.registry.set_abort(&run_id, handle.abort_handle());
    }
}
