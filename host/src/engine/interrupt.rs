//! Why a host import stopped the guest before it returned. The import
//! returns the reason as a trap; the run executor reads it back and acts.

use std::time::Duration;

use crate::journal::JournalError;

use super::replay::Drift;
use super::run_limits::JournalLimit;

/// A reason to stop executing the guest.
#[derive(Debug, thiserror::Error)]
pub enum Interrupt {
    /// The workflow waits for something that is not there yet; its state
    /// was committed and the run suspended.
    #[error("the run suspended")]
    Suspended,
    /// The module asked for a different step than the journal holds.
    #[error("{0}")]
    Drift(Drift),
    /// The run is stopped at once, with no clean-up: its termination was
    /// asked for, or its clean-up after a cancellation ran out of time, or
    /// it made no host call to be told of a cancellation (why).
    #[error("the run was terminated: {0}")]
    Terminated(String),
    /// The lease was lost: another engine owns the run now.
    #[error("the lease on the run was lost")]
    LeaseLost,
    /// The journal failed.
    #[error("journal error: {0}")]
    Journal(#[from] JournalError),
    /// A replay check reached the end of the recorded history: everything
    /// recorded was replayed without drift.
    #[error("the recorded history was replayed to its end")]
    ReplayEnd,
    /// The guest spent its activation's CPU time (this much) without
    /// waiting.
    #[error("{}", cpu_limit_message(.0))]
    CpuLimit(Duration),
    /// The run reached one of its journal limits.
    #[error("{0}")]
    JournalLimit(JournalLimit),
    /// The instance's guests hold all of its memory budget
    /// (`run_supervisor.max_guests_memory_mb`): the activation is deferred,
    /// the run is not at fault.
    #[error(
        "the instance's workflow guests hold {used_mb} MiB of `run_supervisor.max_guests_memory_mb` = {limit_mb} MiB; \
         the activation is deferred"
    )]
    MemoryDeferred {
        /// MiB held when the budget refused.
        used_mb: usize,
        /// The budget, in MiB.
        limit_mb: usize,
    },
    /// The host refused what the workflow asked (a continue-as-new with
    /// input that is not JSON, or an unknown version): the run fails with
    /// this error.
    #[error("{}", .0.message)]
    Failed(crate::run_error::RunError),
    /// The guest broke the contract (an unknown handle, a bad payload).
    #[error("the workflow broke the host contract: {0}")]
    Contract(String),
}

impl Interrupt {
    /// Wraps the interrupt as a wasmtime error, to unwind the guest.
    pub fn trap(self) -> wasmtime::Error {
        wasmtime::Error::new(self)
    }
}

/// What [`Interrupt::CpuLimit`] says: the run's error message.
fn cpu_limit_message(limit: &Duration) -> String {
    crate::run_error::RunError::cpu_limit(*limit).message
}
