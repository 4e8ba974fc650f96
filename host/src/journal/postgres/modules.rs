//! Module versions on Postgres ([`ModuleStore`]): the `modules` and
//! `module_heads` tables, and moving runs between versions. A checked
//! migration locks each run's row first (waiting for any commit in flight
//! on it, since every commit locks the rows it writes for), and only then
//! reads its state, lease and last `seq`, in statements of their own so
//! they see what that commit wrote.

use async_trait::async_trait;
use sqlx::Row;

use super::{notify, PostgresJournal};
use crate::journal::codec::FINAL_STATES_SQL;
use crate::journal::{CheckedRun, JournalError, MigrationOutcome, ModuleStore, Publish, StoredModule, WakeKind};

#[async_trait]
impl ModuleStore for PostgresJournal {
    async fn put_module(&self, instance: &str, workflow: &str, hash: &str, bytes: &[u8], publish: Publish) -> Result<(), JournalError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO modules (instance, hash, workflow, bytes) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (instance, hash) DO NOTHING",
        )
        .bind(instance)
        .bind(hash)
        .bind(workflow)
        .bind(bytes)
        .execute(&mut *tx)
        .await?;
        // Runs parked for lack of this version can go on now.
        sqlx::query(
            "UPDATE runs SET wake_at = now(), updated_at = now() \
             WHERE instance = $1 AND module_hash = $2 AND state = 'suspended' AND wake_at IS NULL \
               AND error IS NOT NULL",
        )
        .bind(instance)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
        let head = match publish {
            Publish::Store => None,
            Publish::MakeCurrent => Some(
                "INSERT INTO module_heads (instance, workflow, hash) VALUES ($1, $2, $3) \
                 ON CONFLICT (instance, workflow) DO UPDATE SET hash = EXCLUDED.hash, updated_at = now()",
            ),
            Publish::FromManifest => Some(
                "INSERT INTO module_heads (instance, workflow, hash, manifest_hash) VALUES ($1, $2, $3, $3) \
                 ON CONFLICT (instance, workflow) DO UPDATE \
                 SET hash = EXCLUDED.hash, manifest_hash = EXCLUDED.manifest_hash, updated_at = now() \
                 WHERE module_heads.manifest_hash IS DISTINCT FROM EXCLUDED.manifest_hash",
            ),
        };
        if let Some(sql) = head {
            sqlx::query(sql).bind(instance).bind(workflow).bind(hash).execute(&mut *tx).await?;
        }
        notify(&mut tx, WakeKind::Deploy, instance, workflow).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_module(&self, instance: &str, hash: &str) -> Result<Option<StoredModule>, JournalError> {
        let row = sqlx::query("SELECT workflow, bytes FROM modules WHERE instance = $1 AND hash = $2")
            .bind(instance)
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some(StoredModule { workflow: r.try_get("workflow")?, hash: hash.to_string(), bytes: r.try_get("bytes")? })),
        }
    }

    async fn current_modules(&self, instance: &str) -> Result<Vec<(String, String)>, JournalError> {
        let rows = sqlx::query("SELECT workflow, hash FROM module_heads WHERE instance = $1 ORDER BY workflow")
            .bind(instance)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("workflow")?, r.try_get("hash")?))).collect()
    }

    async fn migrate_runs(&self, instance: &str, workflow: &str, run_ids: &[String], to: &str) -> Result<u64, JournalError> {
        let sql = format!(
            "UPDATE runs SET module_hash = $4, updated_at = now(), \
                    wake_at = CASE WHEN state = 'suspended' AND wake_at IS NULL AND error IS NOT NULL \
                                   THEN now() ELSE wake_at END \
             WHERE instance = $1 AND workflow = $2 AND state NOT IN {final_states} \
               AND (cardinality($3::text[]) = 0 OR run_id = ANY($3))",
            final_states = *FINAL_STATES_SQL
        );
        let done = sqlx::query(&sql)
        .bind(instance)
        .bind(workflow)
        .bind(run_ids)
        .bind(to)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn migrate_checked_runs(
        &self,
        instance: &str,
        workflow: &str,
        runs: &[CheckedRun],
        to: &str,
    ) -> Result<Vec<MigrationOutcome>, JournalError> {
        let mut out = vec![MigrationOutcome::Gone; runs.len()];
        // Key order, as the commits lock, so the two cannot deadlock.
        let mut order: Vec<usize> = (0..runs.len()).collect();
        order.sort_by(|a, b| runs[*a].run_id.cmp(&runs[*b].run_id));
        let mut tx = self.pool.begin().await?;
        for i in order {
            let run = &runs[i];
            let sql = format!(
                "SELECT state NOT IN {final_states} AS unfinished, \
                        (lease_owner IS NOT NULL AND lease_expires_at >= now()) AS leased \
                 FROM runs WHERE instance = $1 AND run_id = $2 AND workflow = $3 FOR UPDATE",
                final_states = *FINAL_STATES_SQL
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
}
