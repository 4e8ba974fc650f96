//! What both stores check about a run before a signal or a cancellation
//! request touches it, given the run as the request's transaction found
//! it: its state and workflow, `None` when it does not exist.

use super::{JournalError, RunKey, RunState};

/// The workflow of a run a signal may be sent to; fails with
/// [`JournalError::UnknownRun`] or [`JournalError::RunFinished`].
pub(in crate::journal) fn signal_target(key: &RunKey, found: Option<(RunState, String)>) -> Result<String, JournalError> {
    match found {
        None => Err(JournalError::UnknownRun(key.clone())),
        Some((state, _)) if state.is_final() => Err(JournalError::RunFinished { key: key.clone(), state }),
        Some((_, workflow)) => Ok(workflow),
    }
}

/// The final state of a run a cancellation request (or its withdrawal)
/// found, `None` while it is unfinished; fails with
/// [`JournalError::UnknownRun`].
pub(in crate::journal) fn final_state(key: &RunKey, found: Option<(RunState, String)>) -> Result<Option<RunState>, JournalError> {
    match found {
        None => Err(JournalError::UnknownRun(key.clone())),
        Some((state, _)) => Ok(Some(state).filter(|s| s.is_final())),
    }
}
