//! Continue-as-new as the journal holds it: the next run of a chain that
//! a run's final write creates, the id that run gets, and a run of a
//! chain as `continuum show` lists it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{JournalError, NewRun, RunKey, RunState};
use crate::input_limits::MAX_RUN_ID_CHARS;

/// The next run of a chain, created in the transaction that ends the run
/// it continues (`Transition::Continue`). It takes the ended run's parent
/// link (so the chain's final end wakes the parent) and any cancellation
/// asked of it; the signals the ended run did not take move to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Continuation {
    /// The next run (same instance and workflow).
    pub run: NewRun,
    /// The chain's first run.
    pub chain_root: String,
    /// The next run's position in the chain (1 for the first
    /// continuation).
    pub chain_seq: i64,
}

/// The statements both stores run once the next run is created (Postgres
/// placeholders; SQLite's are the same with `?`): the ended run (`$2`)
/// names it (`$3`) in `continued_to`, and the signals the ended run did not
/// take move to it.
pub(super) const LINK_CONTINUATION: [&str; 2] = [
    "UPDATE runs SET continued_to = $3 WHERE instance = $1 AND run_id = $2",
    "UPDATE signals SET run_id = $3 WHERE instance = $1 AND run_id = $2 AND consumed_at IS NULL",
];

/// The error of a continuation whose run id is taken: the engine checked
/// the id was free, so a run created with it since is not this chain's,
/// and the continuation is not recorded.
pub(super) fn continuation_exists(ended: &RunKey, next: &RunKey) -> JournalError {
    JournalError::Corrupt { key: next.to_string(), detail: format!("the continuation of run `{}` exists already", ended.run_id) }
}

/// The id of the `seq`-th continuation of the chain whose first run is
/// `root`: `<root>-can-<seq>` (a digest of `root` in place of it when that
/// would be too long). The same on every host and every replay.
pub fn continuation_run_id(root: &str, seq: i64) -> String {
    let id = format!("{root}-can-{seq}");
    if id.chars().count() <= MAX_RUN_ID_CHARS {
        return id;
    }
    format!("{}-can-{seq}", hex::encode(Sha256::digest(root.as_bytes())))
}

/// A run of a chain, as `continuum show` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChainRun {
    /// The run's key.
    pub key: RunKey,
    /// Its position in the chain (0: the first run).
    pub chain_seq: i64,
    /// Its state.
    pub state: RunState,
    /// The module version it ran on.
    pub module_hash: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_ids_are_derived_from_the_root_and_the_position() {
        assert_eq!(continuation_run_id("loop-1", 3), "loop-1-can-3");
        assert_ne!(continuation_run_id("loop-1", 3), continuation_run_id("loop-1", 4));
        let long = "x".repeat(MAX_RUN_ID_CHARS);
        let id = continuation_run_id(&long, 12);
        assert!(id.chars().count() <= MAX_RUN_ID_CHARS, "{id}");
    }
}
