//! Checked migration: moving runs to a new module version only if their
//! history is still the one a replay check approved: what it returns, and
//! its per-run rule, written once for both stores.

use std::future::Future;

use super::codec::FINAL_STATES_SQL;
use super::JournalError;

/// A run a replay check approved for migration, and the history it saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRun {
    /// The run id.
    pub run_id: String,
    /// The last journal `seq` the check replayed (0: an empty journal).
    pub last_seq: i64,
}

/// What a checked migration did with one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationOutcome {
    /// The run now records the new version.
    Migrated,
    /// The run recorded more entries since the check; it was not moved.
    HistoryGrew {
        /// The run's last `seq` now.
        last_seq: i64,
    },
    /// A live lease holds the run (it is executing, and may record more
    /// entries on its old version); it was not moved.
    Leased,
    /// No unfinished run of that workflow has that id (it finished, or
    /// belongs to another workflow); nothing was moved.
    Gone,
}

/// What a store reads and writes for each run of a checked migration, all
/// in the migration's one transaction (the statements:
/// [`find_sql`], [`LAST_SEQ`], [`move_sql`]).
pub(in crate::journal) trait CheckedMover: Send {
    /// The run `run_id` of the migrated workflow as the migration finds
    /// it: whether it is unfinished and whether a live lease holds it;
    /// `None` when the workflow has no run with that id.
    fn find(&mut self, run_id: &str) -> impl Future<Output = Result<Option<(bool, bool)>, JournalError>> + Send;

    /// The last journal `seq` of the run (0: an empty journal).
    fn last_seq(&mut self, run_id: &str) -> impl Future<Output = Result<i64, JournalError>> + Send;

    /// Moves the run to the new version: clears its (expired) lease and
    /// makes it due if it is parked.
    fn move_run(&mut self, run_id: &str) -> impl Future<Output = Result<(), JournalError>> + Send;
}

/// Moves each of `runs` that is still an unfinished run of the workflow,
/// held by no live lease, and whose journal still ends at the `last_seq`
/// its check saw; in key order (the order commits lock runs in). Returns an
/// outcome per run, in the order given.
pub(in crate::journal) async fn migrate_checked(
    m: &mut impl CheckedMover,
    runs: &[CheckedRun],
) -> Result<Vec<MigrationOutcome>, JournalError> {
    let mut out = vec![MigrationOutcome::Gone; runs.len()];
    let mut order: Vec<usize> = (0..runs.len()).collect();
    order.sort_by(|a, b| runs[*a].run_id.cmp(&runs[*b].run_id));
    for i in order {
        let run = &runs[i];
        out[i] = match m.find(&run.run_id).await? {
            None | Some((false, _)) => MigrationOutcome::Gone,
            Some((true, true)) => MigrationOutcome::Leased,
            Some((true, false)) => match m.last_seq(&run.run_id).await? {
                last_seq if last_seq != run.last_seq => MigrationOutcome::HistoryGrew { last_seq },
                _ => {
                    m.move_run(&run.run_id).await?;
                    MigrationOutcome::Migrated
                }
            },
        };
    }
    Ok(out)
}

/// Reads the run `$1`/`$2` of workflow `$3` as [`CheckedMover::find`]
/// returns it (columns `unfinished`, `leased`), a lease counting as live
/// until `now` (an SQL expression: the store's now); `suffix` ends the
/// statement (a row lock).
pub(in crate::journal) fn find_sql(now: &str, suffix: &str) -> String {
    format!(
        "SELECT state NOT IN {final_states} AS unfinished, \
                (lease_owner IS NOT NULL AND lease_expires_at >= {now}) AS leased \
         FROM runs WHERE instance = $1 AND run_id = $2 AND workflow = $3{suffix}",
        final_states = *FINAL_STATES_SQL
    )
}

/// The last journal `seq` of the run `$1`/`$2` (0: an empty journal).
pub(in crate::journal) const LAST_SEQ: &str = "SELECT COALESCE(MAX(seq), 0) FROM events WHERE instance = $1 AND run_id = $2";

/// Moves the run `$1`/`$2` to module version `$3` at `now` (an SQL
/// expression: the store's now), as [`CheckedMover::move_run`] says.
pub(in crate::journal) fn move_sql(now: &str) -> String {
    format!(
        "UPDATE runs SET module_hash = $3, lease_owner = NULL, updated_at = {now}, \
                wake_at = CASE WHEN state = 'suspended' AND wake_at IS NULL AND error IS NOT NULL \
                               THEN {now} ELSE wake_at END \
         WHERE instance = $1 AND run_id = $2"
    )
}
