//! In-process wake-ups between an instance's children, and news of runs
//! that finished here (for local `await`). Wake-ups from other processes
//! arrive through the journal's notifications (see the signal router).

use tokio::sync::{broadcast, Notify};

use crate::journal::RunState;

/// A run that reached a final state in this process.
#[derive(Debug, Clone, PartialEq)]
pub struct RunFinished {
    /// The run id.
    pub run_id: String,
    /// Its final state.
    pub state: RunState,
}

/// The instance's in-process topics.
pub struct PubSub {
    /// Wakes the dispatcher (a run may be ready).
    pub dispatcher: Notify,
    /// Wakes the timer wheel (a timer was scheduled).
    pub timers: Notify,
    /// Wakes the activity dispatcher (a task may be ready).
    pub tasks: Notify,
    finished: broadcast::Sender<RunFinished>,
}

impl Default for PubSub {
    fn default() -> Self {
        Self {
            dispatcher: Notify::new(),
            timers: Notify::new(),
            tasks: Notify::new(),
            finished: broadcast::channel(4096).0,
        }
    }
}

impl PubSub {
    /// Announces a run that finished here.
    pub fn publish_finished(&self, run_id: &str, state: RunState) {
        let _ = self.finished.send(RunFinished { run_id: run_id.to_string(), state });
    }

    /// Subscribes to runs finishing here.
    pub fn subscribe_finished(&self) -> broadcast::Receiver<RunFinished> {
        self.finished.subscribe()
    }
}
