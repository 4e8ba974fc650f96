//! A run paused while it executes here (`continuum pause`): the heartbeater
//! (at a lease renewal) or the facade (a pause made in this process) sets
//! the flag, and the engine suspends the run at its next wait, its lease
//! released, instead of waiting there (see `RunCtx::wait_for`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Shared between the registry and the run's engine.
#[derive(Debug, Clone, Default)]
pub struct PauseFlag(Arc<AtomicBool>);

impl PauseFlag {
    /// Marks the run paused.
    pub fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether the run was paused.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
