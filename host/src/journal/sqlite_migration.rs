//! Checked migration on SQLite: one write transaction (SQLite's single
//! writer) reads each run's state, lease and last `seq` and moves it, so no
//! commit can come in between.

use sqlx::Row;

use crate::journal::postgres::codec::FINAL_STATES_SQL;
use super::{now_ms, SqliteJournal};
use crate::journal::{CheckedRun, JournalError, MigrationOutcome};

/// See [`crate::journal::Journal::migrate_checked_runs`].
pub(super) async fn migrate_checked_runs(
    j: &SqliteJournal,
    instance: &str,
    workflow: &str,
    runs: &[CheckedRun],
    to: &str,
) -> Result<Vec<MigrationOutcome>, JournalError> {
    let mut out = vec![MigrationOutcome::Gone; runs.len()];
    let mut w = j.write().await?;
    let now = now_ms();
    for (i, run) in runs.iter().enumerate() {
        let sql = format!(
            "SELECT state NOT IN {FINAL_STATES_SQL} AS unfinished, \
                    (lease_owner IS NOT NULL AND lease_expires_at >= ?4) AS leased \
             FROM runs WHERE instance = ?1 AND run_id = ?2 AND workflow = ?3"
        );
        let row = sqlx::query(&sql)
            .bind(instance)
            .bind(&run.run_id)
            .bind(workflow)
            .bind(now)
            .fetch_optional(&mut *w.tx)
            .await?;
        let Some(row) = row else { continue };
        if !row.try_get::<bool, _>("unfinished")? {
            continue;
        }
        if row.try_get::<Option<bool>, _>("leased")?.unwrap_or(false) {
            out[i] = MigrationOutcome::Leased;
            continue;
        }
        let last_seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events WHERE instance = ?1 AND run_id = ?2")
            .bind(instance)
            .bind(&run.run_id)
            .fetch_one(&mut *w.tx)
            .await?;
        if last_seq != run.last_seq {
            out[i] = MigrationOutcome::HistoryGrew { last_seq };
            continue;
        }
        sqlx::query(
            "UPDATE runs SET module_hash = ?3, lease_owner = NULL, updated_at = ?4, \
                    wake_at = CASE WHEN state = 'suspended' AND wake_at IS NULL AND error IS NOT NULL \
                                   THEN ?4 ELSE wake_at END \
             WHERE instance = ?1 AND run_id = ?2",
        )
        .bind(instance)
        .bind(&run.run_id)
        .bind(to)
        .bind(now)
        .execute(&mut *w.tx)
        .await?;
        out[i] = MigrationOutcome::Migrated;
    }
    j.finish(w).await?;
    Ok(out)
}
