//! The run supervisor: executes runs in this process, at most N at once,
//! each as its own task under a lease, and reports how each attempt ended.
//! Execution slots are reserved before runs are claimed, so every claimed
//! run starts at once; its claim window says how many to claim at a time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use crate::engine::{execute_attempt, AttemptOutcome, LeaseClock};
use crate::journal::{Lease, RunRecord, RunState, RunWrite, Transition};
use crate::run_error::RunError;

use super::claim_window::ClaimWindow;
use super::module_lookup::{self, ModuleLookup};
use super::Shared;

/// Executes runs for one instance.
pub struct RunSupervisor {
    permits: Arc<Semaphore>,
    window: ClaimWindow,
    freeing: Arc<Freeing>,
}

/// Tells the dispatcher when a slot frees after it found none free.
#[derive(Default)]
struct Freeing {
    starved: AtomicBool,
    freed: Notify,
}

/// A reserved execution slot: a run claimed into it starts at once. The
/// slot frees when this value is dropped.
pub struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    reserved_at: Instant,
    freeing: Arc<Freeing>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        // The permit goes back first, so a dispatcher woken here finds it.
        drop(self.permit.take());
        if self.freeing.starved.swap(false, Ordering::AcqRel) {
            self.freeing.freed.notify_one();
        }
    }
}

impl RunSupervisor {
    /// A supervisor allowing `max` runs at once.
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Self { permits: Arc::new(Semaphore::new(max)), window: ClaimWindow::new(max), freeing: Arc::default() }
    }

    /// Reserves up to `most` free execution slots, no more than the claim
    /// window allows: the runs to claim next.
    pub fn reserve(&self, most: usize) -> Vec<Slot> {
        let n = most.min(self.window.size());
        let mut slots = Vec::with_capacity(n);
        while slots.len() < n {
            let Some(slot) = self.slot() else { break };
            slots.push(slot);
        }
        if slots.is_empty() && n > 0 {
            self.freeing.starved.store(true, Ordering::Release);
            // A slot that freed between the failed reservation and the flag
            // would never tell: look once more.
            if let Some(slot) = self.slot() {
                self.freeing.starved.store(false, Ordering::Release);
                slots.push(slot);
            }
        }
        slots
    }

    /// Resolves when a slot frees after [`reserve`](Self::reserve) found
    /// none free.
    pub async fn slot_freed(&self) {
        self.freeing.freed.notified().await
    }

    /// One free execution slot, if there is one (for a run this host
    /// creates and takes the first lease of).
    pub fn slot(&self) -> Option<Slot> {
        let permit = self.permits.clone().try_acquire_owned().ok()?;
        Some(Slot { permit: Some(permit), reserved_at: Instant::now(), freeing: self.freeing.clone() })
    }

    /// The claim window, told here when a lease renewal came back late.
    pub fn window(&self) -> &ClaimWindow {
        &self.window
    }

    /// Executes `run` under `lease` in a task of its own, in `slot`. The
    /// lease is given up if the run cannot execute here.
    pub fn spawn(&self, shared: Arc<Shared>, run: RunRecord, lease: Lease, slot: Slot) {
        let run_id = run.key.run_id.clone();
        let clock = LeaseClock::new(shared.lease_ttl);
        let Some((cancel, pause)) = shared.registry.insert(&run_id, &run.workflow, lease.clone(), clock.clone()) else {
            return;
        };
        let task_shared = shared.clone();
        let handle = tokio::spawn(async move {
            let shared = task_shared;
            let slot = slot; // held until the attempt ends
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
            let outcome = execute_attempt(shared.run_env(), module, run, lease.clone(), clock, cancel, pause).await;
            shared.registry.remove(&key.run_id);
            if let Some(supervisor) = &shared.run_supervisor {
                supervisor.window.attempt_ended(slot.reserved_at.elapsed(), shared.lease_ttl, matches!(outcome, AttemptOutcome::LeaseLost));
            }
            let state = match &outcome {
                AttemptOutcome::Completed(output) => Some((RunState::Completed, Some((Some(output.clone()), None)))),
                AttemptOutcome::Failed(error) => Some((RunState::Failed, Some((None, Some(error.clone()))))),
                AttemptOutcome::Cancelled => Some((RunState::Cancelled, None)),
                AttemptOutcome::Drifted(_) => Some((RunState::Drifted, None)),
                AttemptOutcome::Continued(_) => Some((RunState::Continued, Some((None, None)))),
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
                    if let Ok(true) = shared.journal.release_lease(&key, &lease, Duration::ZERO).await {
                        tracing::debug!(instance = %key.instance, run_id = %key.run_id, %workflow, owner = %lease.owner,
                            token = lease.token, reason = "aborted", "lease released");
                    }
                    None
                }
                AttemptOutcome::Deferred(_) => {
                    // Logged by the engine; due again once guests had time
                    // to give memory back.
                    if let Ok(true) = shared.journal.release_lease(&key, &lease, crate::engine::defer_delay()).await {
                        tracing::debug!(instance = %key.instance, run_id = %key.run_id, %workflow, owner = %lease.owner,
                            token = lease.token, reason = "deferred", "lease released");
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
