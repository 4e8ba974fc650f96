//! Module versions on SQLite ([`ModuleStore`]): the `modules` and
//! `module_heads` tables, and moving runs between versions. A checked
//! migration is one write transaction (SQLite's single writer) that reads
//! each run's state, lease and last `seq` and moves it, so no commit can
//! come in between.

use async_trait::async_trait;
use sqlx::Row;

use super::{SqliteJournal};
use crate::journal::codec::FINAL_STATES_SQL;
use crate::journal::{CheckedRun, JournalError, MigrationOutcome, ModuleStore, Publish, StoredModule, Wake, WakeKind};

#[async_trait]
impl ModuleStore for SqliteJournal {
    async fn put_module(&self, instance: &str, workflow: &str, hash: &str, bytes: &[u8], publish: Publish) -> Result<(), JournalError> {
        let mut w = self.write().await?;
        let now = self.now_ms();
        sqlx::query("INSERT OR IGNORE INTO modules (instance, hash, workflow, bytes, deployed_at) VALUES (?, ?, ?, ?, ?)")
            .bind(instance)
            .bind(hash)
            .bind(workflow)
            .bind(bytes)
            .bind(now)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query(
            "UPDATE runs SET wake_at = ?, updated_at = ? \
             WHERE instance = ? AND module_hash = ? AND state = 'suspended' AND wake_at IS NULL AND error IS NOT NULL",
        )
        .bind(now)
        .bind(now)
        .bind(instance)
        .bind(hash)
        .execute(&mut *w.tx)
        .await?;
        let head = match publish {
            Publish::Store => None,
            Publish::MakeCurrent => Some(
                "INSERT INTO module_heads (instance, workflow, hash, updated_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (instance, workflow) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at",
            ),
            Publish::FromManifest => Some(
                "INSERT INTO module_heads (instance, workflow, hash, updated_at, manifest_hash) VALUES (?1, ?2, ?3, ?4, ?3) \
                 ON CONFLICT (instance, workflow) DO UPDATE \
                 SET hash = excluded.hash, manifest_hash = excluded.manifest_hash, updated_at = excluded.updated_at \
                 WHERE module_heads.manifest_hash IS NOT excluded.manifest_hash",
            ),
        };
        if let Some(sql) = head {
            sqlx::query(sql).bind(instance).bind(workflow).bind(hash).bind(now).execute(&mut *w.tx).await?;
        }
        w.wakes.push(Wake { instance: instance.to_string(), run_id: workflow.to_string(), kind: WakeKind::Deploy });
        self.finish(w).await
    }

    async fn get_module(&self, instance: &str, hash: &str) -> Result<Option<StoredModule>, JournalError> {
        let row = sqlx::query("SELECT workflow, bytes FROM modules WHERE instance = ? AND hash = ?")
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
        let rows = sqlx::query("SELECT workflow, hash FROM module_heads WHERE instance = ? ORDER BY workflow")
            .bind(instance)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("workflow")?, r.try_get("hash")?))).collect()
    }

    async fn migrate_runs(&self, instance: &str, workflow: &str, run_ids: &[String], to: &str) -> Result<u64, JournalError> {
        let mut w = self.write().await?;
        let now = self.now_ms();
        let mut total = 0;
        let targets: Vec<Option<&String>> = if run_ids.is_empty() { vec![None] } else { run_ids.iter().map(Some).collect() };
        let sql = format!(
            "UPDATE runs SET module_hash = ?, updated_at = ?, \
                    wake_at = CASE WHEN state = 'suspended' AND wake_at IS NULL AND error IS NOT NULL \
                                   THEN ? ELSE wake_at END \
             WHERE instance = ? AND workflow = ? AND state NOT IN {final_states} \
               AND (? IS NULL OR run_id = ?)",
            final_states = *FINAL_STATES_SQL
        );
        for target in targets {
            let done = sqlx::query(&sql)
            .bind(to)
            .bind(now)
            .bind(now)
            .bind(instance)
            .bind(workflow)
            .bind(target)
            .bind(target)
            .execute(&mut *w.tx)
            .await?;
            total += done.rows_affected();
        }
        self.finish(w).await?;
        Ok(total)
    }

    async fn migrate_checked_runs(
        &self,
        instance: &str,
        workflow: &str,
        runs: &[CheckedRun],
        to: &str,
    ) -> Result<Vec<MigrationOutcome>, JournalError> {
        let mut out = vec![MigrationOutcome::Gone; runs.len()];
        let mut w = self.write().await?;
        let now = self.now_ms();
        for (i, run) in runs.iter().enumerate() {
            let sql = format!(
                "SELECT state NOT IN {final_states} AS unfinished, \
                        (lease_owner IS NOT NULL AND lease_expires_at >= ?4) AS leased \
                 FROM runs WHERE instance = ?1 AND run_id = ?2 AND workflow = ?3",
                final_states = *FINAL_STATES_SQL
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
        self.finish(w).await?;
        Ok(out)
    }
}
