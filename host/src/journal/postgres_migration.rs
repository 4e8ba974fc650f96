//! Checked migration on Postgres: each run's row is locked first (waiting
//! for any commit in flight on it, since every commit locks the rows it
//! writes for), and only then are its state, lease and last `seq` read, in
//! statements of their own so they see what that commit wrote.

use sqlx::Row;

use super::codec::FINAL_STATES_SQL;
use super::PostgresJournal;
use crate::journal::{CheckedRun, JournalError, MigrationOutcome};

/// See [`crate::journal::Journal::migrate_checked_runs`].
pub(super) async fn migrate_checked_runs(
    j: &PostgresJournal,
    instance: &str,
    workflow: &str,
    runs: &[CheckedRun],
    to: &str,
) -> Result<Vec<MigrationOutcome>, JournalError> {
    let mut out = vec![MigrationOutcome::Gone; runs.len()];
    // Key order, as the commits lock, so the two cannot deadlock.
    let mut order: Vec<usize> = (0..runs.len()).collect();
    order.sort_by(|a, b| runs[*a].run_id.cmp(&runs[*b].run_id));
    let mut tx = j.pool.begin().await?;
    for i in order {
        let run = &runs[i];
        let sql = format!(
            "SELECT state NOT IN {FINAL_STATES_SQL} AS unfinished, \
                    (lease_owner IS NOT NULL AND lease_expires_at >= now()) AS leased \
             FROM runs WHERE instance = $1 AND run_id = $2 AND workflow = $3 FOR UPDATE"
        );
        let row = sqlx::query(&sql).bind(instance).bind(&run.run_id).bind(workflow).fetch_optional(&mut *tx).await?;
        let Some(row) = row else { continue };
        if !row.try_get::<bool, _>("unfinished")? {
            continue;
        }
        if row.try_get::<Option<bool>, _>("leased")?.unwrap_or(false) {
            out[i] = MigrationOutcome::Leased;
            continue;
        }
        let last_seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events WHERE instance = $1 AND run_id = $2")
            .bind(instance)
            .bind(&run.run_id)
            .fetch_one(&mut *tx)
            .await?;
        if last_seq != run.last_seq {
            out[i] = MigrationOutcome::HistoryGrew { last_seq };
            continue;
        }
        sqlx::query(
            "UPDATE runs SET module_hash = $3, lease_owner = NULL, updated_at = now(), \
                    wake_at = CASE WHEN state = 'suspended' AND wake_at IS NULL AND error IS NOT NULL \
                                   THEN now() ELSE wake_at END \
             WHERE instance = $1 AND run_id = $2",
        )
        .bind(instance)
        .bind(&run.run_id)
        .bind(to)
        .execute(&mut *tx)
        .await?;
        out[i] = MigrationOutcome::Migrated;
    }
    tx.commit().await?;
    Ok(out)
}
