//! The runs executing in this process for one instance: their leases (for
//! the heartbeater), a way to cancel them, and a way to stop them when their
//! lease is lost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio::task::AbortHandle;

use crate::engine::{LeaseClock, PauseFlag, StopRequest};
use crate::journal::{Lease, RunKey};

struct LiveRun {
    lease: Lease,
    clock: LeaseClock,
    workflow: Arc<str>,
    stop: watch::Sender<StopRequest>,
    pause: PauseFlag,
    abort: Option<AbortHandle>,
}


/// A lease held here, with the run's workflow (for the events about it).
#[derive(Debug, Clone)]
pub struct HeldLease {
    /// The run.
    pub key: RunKey,
    /// Its lease.
    pub lease: Lease,
    /// The run's workflow.
    pub workflow: Arc<str>,
    /// Until when the run's engine counts on the lease (moved on at each
    /// renewal).
    pub clock: LeaseClock,
}

/// Live runs by run id.
#[derive(Default)]
pub struct Registry {
    runs: Mutex<HashMap<String, LiveRun>>,
}

impl Registry {
    /// Registers a run of `workflow` about to execute here under `lease`
    /// (counted on until `clock` runs out); returns the receiver of what is
    /// asked of it and its pause flag, or `None` if it is executing here
    /// already.
    pub fn insert(&self, run_id: &str, workflow: &str, lease: Lease, clock: LeaseClock) -> Option<(watch::Receiver<StopRequest>, PauseFlag)> {
        let mut runs = self.runs.lock().ok()?;
        if runs.contains_key(run_id) {
            return None;
        }
        let (stop, rx) = watch::channel(StopRequest::None);
        let pause = PauseFlag::default();
        runs.insert(run_id.to_string(), LiveRun { lease, clock, workflow: workflow.into(), stop, pause: pause.clone(), abort: None });
        Some((rx, pause))
    }

    /// Tells the run's engine, if it executes here, that the run was
    /// paused (it suspends at its next wait); returns its workflow.
    pub fn pause(&self, run_id: &str) -> Option<Arc<str>> {
        let runs = self.runs.lock().ok()?;
        let run = runs.get(run_id)?;
        run.pause.set();
        Some(run.workflow.clone())
    }

    /// Attaches the task executing the run, so a lost lease can stop it.
    pub fn set_abort(&self, run_id: &str, abort: AbortHandle) {
        if let Ok(mut runs) = self.runs.lock() {
            if let Some(r) = runs.get_mut(run_id) {
                r.abort = Some(abort);
            }
        }
    }

    /// Forgets a run that stopped executing here.
    pub fn remove(&self, run_id: &str) {
        if let Ok(mut runs) = self.runs.lock() {
            runs.remove(run_id);
        }
    }

    /// True if the run executes here.
    pub fn contains(&self, run_id: &str) -> bool {
        self.runs.lock().map(|r| r.contains_key(run_id)).unwrap_or(false)
    }

    /// Number of runs executing here.
    #[allow(dead_code)] // no caller left since the API narrowed
    pub fn len(&self) -> usize {
        self.runs.lock().map(|r| r.len()).unwrap_or(0)
    }

    /// True if no run executes here.
    #[allow(dead_code)] // no caller left since the API narrowed
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Asks the run for a cancellation if it executes here (its engine
    /// delivers it to the workflow); returns its workflow then, `None` if
    /// it does not execute here.
    pub fn cancel(&self, run_id: &str) -> Option<Arc<str>> {
        self.ask(run_id, StopRequest::Cancel)
    }

    /// Asks the run to stop at once if it executes here; returns its
    /// workflow then, `None` if it does not execute here.
    pub fn terminate(&self, run_id: &str) -> Option<Arc<str>> {
        self.ask(run_id, StopRequest::Terminate)
    }

    fn ask(&self, run_id: &str, request: StopRequest) -> Option<Arc<str>> {
        let runs = self.runs.lock().ok()?;
        let r = runs.get(run_id)?;
        r.stop.send_if_modified(|now| {
            let raise = request > *now;
            if raise {
                *now = request;
            }
            raise
        });
        Some(r.workflow.clone())
    }

    /// The leases held here, for renewal.
    pub fn leases(&self, instance: &str) -> Vec<HeldLease> {
        self.runs
            .lock()
            .map(|runs| {
                runs.iter()
                    .map(|(id, r)| HeldLease {
                        key: RunKey::new(instance, id.clone()),
                        lease: r.lease.clone(),
                        workflow: r.workflow.clone(),
                        clock: r.clock.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Stops a run whose lease was lost: it must not write again.
    pub fn lease_lost(&self, run_id: &str) {
        if let Ok(mut runs) = self.runs.lock() {
            if let Some(r) = runs.remove(run_id) {
                if let Some(a) = r.abort {
                    a.abort();
                }
            }
        }
    }
}
