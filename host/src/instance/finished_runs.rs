//! News of runs that finished in this process, for a local `await`: its
//! waiters are told at once, and a late `await` finds the recent ones.
//! Runs that finished elsewhere are read from the journal.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use serde_json::Value;
use tokio::sync::oneshot;

use crate::journal::RunState;

/// Runs with waiters past which the waiters that gave up are pruned.
const PRUNE_WAITERS_AT: usize = 1024;

/// Finished runs remembered for a local `await` that comes late.
const RECENT_FINISHED: usize = 4096;

/// A run that reached a final state in this process.
#[derive(Debug, Clone, PartialEq)]
pub struct RunFinished {
    /// The run id.
    pub run_id: String,
    /// Its final state.
    pub state: RunState,
    /// Its output and error as committed, when known here (`None`: read
    /// them from the journal).
    pub result: Option<(Option<Value>, Option<Value>)>,
}

/// The runs that finished here: who waits for which, and the recent ones.
#[derive(Default)]
pub struct FinishedRuns {
    /// Who waits for which run to finish here.
    waiters: Mutex<HashMap<String, Vec<oneshot::Sender<RunFinished>>>>,
    /// The recent ones with a known result, and their order of arrival.
    recent: Mutex<(HashMap<String, RunFinished>, VecDeque<String>)>,
}

impl FinishedRuns {
    /// Announces a run that finished here (after its final state was
    /// committed), with its output and error when known.
    pub fn publish_finished(&self, run_id: &str, state: RunState, result: Option<(Option<Value>, Option<Value>)>) {
        let finished = RunFinished { run_id: run_id.to_string(), state, result };
        if finished.result.is_some() {
            if let Ok(mut recent) = self.recent.lock() {
                let (by_id, order) = &mut *recent;
                if by_id.insert(finished.run_id.clone(), finished.clone()).is_none() {
                    order.push_back(finished.run_id.clone());
                }
                while order.len() > RECENT_FINISHED {
                    if let Some(old) = order.pop_front() {
                        by_id.remove(&old);
                    }
                }
            }
        }
        let waiting = self.waiters.lock().ok().and_then(|mut w| w.remove(&finished.run_id));
        for waiter in waiting.into_iter().flatten() {
            let _ = waiter.send(finished.clone());
        }
    }

    /// Completes when the run finishes in this process (or never). Ask
    /// before reading the run's state, so that an end in between is not
    /// missed.
    pub fn watch_finished(&self, run_id: &str) -> oneshot::Receiver<RunFinished> {
        let (tx, rx) = oneshot::channel();
        if let Ok(mut w) = self.waiters.lock() {
            // Waiters that gave up (timed out, or awaited a run that
            // finished elsewhere) are dropped on the way.
            if w.len() >= PRUNE_WAITERS_AT {
                w.retain(|_, list| {
                    list.retain(|s| !s.is_closed());
                    !list.is_empty()
                });
            }
            let list = w.entry(run_id.to_string()).or_default();
            list.retain(|s| !s.is_closed());
            list.push(tx);
        }
        rx
    }

    /// A run that finished here recently, with its result.
    pub fn finished_here(&self, run_id: &str) -> Option<RunFinished> {
        self.recent.lock().ok().and_then(|r| r.0.get(run_id).cloned())
    }

    /// Forgets a run's recent end: it was reset and runs again, so a local
    /// `await` must read it from the journal.
    pub fn forget(&self, run_id: &str) {
        if let Ok(mut recent) = self.recent.lock() {
            let (by_id, order) = &mut *recent;
            if by_id.remove(run_id).is_some() {
                order.retain(|r| r != run_id);
            }
        }
    }
}
