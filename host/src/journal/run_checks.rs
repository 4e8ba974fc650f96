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

/// The signal sent before with an idempotency key (`$3`) to the run
/// `$2` of instance `$1` or to any run of its chain (continue-as-new): its
/// id, name and JSON payload text. A key is the chain's, as the run id a
/// caller holds leads to the chain's latest run: a resend addressed to a
/// run that has continued since finds the signal its first sending
/// delivered to an earlier run. Postgres placeholders; SQLite's
/// ([`CHAIN_SIGNAL_KEY_SQLITE`]) are the same with `?`.
pub(in crate::journal) const CHAIN_SIGNAL_KEY: &str = "\
    WITH root AS (SELECT COALESCE((SELECT chain_root FROM runs WHERE instance = $1 AND run_id = $2), $2) AS id) \
    SELECT s.id, s.name, s.payload FROM signals s \
     WHERE s.instance = $1 AND s.idempotency_key = $3 \
       AND s.run_id IN (SELECT id FROM root \
                        UNION ALL SELECT r.run_id FROM runs r JOIN root ON r.chain_root = root.id WHERE r.instance = $1) \
     ORDER BY s.id LIMIT 1";

/// [`CHAIN_SIGNAL_KEY`] with SQLite's placeholders.
pub(in crate::journal) static CHAIN_SIGNAL_KEY_SQLITE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| CHAIN_SIGNAL_KEY.replace('$', "?"));

/// What a signal sent with an idempotency key finds: the signal sent before
/// with that key (`found`: its id, name and JSON payload text) is this one
/// again (returns its id), or `SignalKeyConflict` naming the difference;
/// `None` when the key is new.
pub(in crate::journal) fn keyed_resend(
    key: &RunKey,
    signal_key: &str,
    found: Option<(i64, String, String)>,
    name: &str,
    payload: &serde_json::Value,
) -> Result<Option<i64>, JournalError> {
    let Some((id, first_name, first_payload)) = found else { return Ok(None) };
    let difference = if first_name != name {
        Some(format!("named `{first_name}`, not `{name}`"))
    } else if serde_json::from_str::<serde_json::Value>(&first_payload).ok().as_ref() != Some(payload) {
        Some(format!("with another payload ({})", crate::input_limits::clip(&first_payload)))
    } else {
        None
    };
    match difference {
        None => Ok(Some(id)),
        Some(difference) => Err(JournalError::SignalKeyConflict { key: key.clone(), signal_key: signal_key.into(), difference }),
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
