//! In-process wake-ups between an instance's children, and news of runs
//! that finished here (for local `await`). Wake-ups from other processes
//! arrive through the journal's notifications (see the signal router).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use serde_json::Value;
use tokio::sync::{oneshot, Notify};

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

/// The instance's in-process topics.
pub struct PubSub {
    /// Wakes the dispatcher (a run may be ready).
    pub dispatcher: Notify,
    /// Wakes the activity dispatcher (a task may be ready).
    pub tasks: Notify,
    /// Who waits for which run to finish here.
    waiters: Mutex<HashMap<String, Vec<oneshot::Sender<RunFinished>>>>,
    recent: Mutex<(HashMap<String, RunFinished>, VecDeque<String>)>,
}

impl Default for PubSub {
    fn default() -> Self {
        Self {
            dispatcher: Notify::new(),
            tasks: Notify::new(),
            waiters: Mutex::new(HashMap::new()),
            recent: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }
}

impl PubSub {
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

}
