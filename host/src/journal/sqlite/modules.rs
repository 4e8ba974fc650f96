//! Module versions on SQLite ([`ModuleStore`]): the `modules` and
//! `module_heads` tables, and moving runs between versions. A checked
//! migration ([`migrate_checked`]) is one write transaction (SQLite's
//! single writer) that reads each run's state, lease and last `seq` and
//! moves it, so no commit can come in between. The reads are the trait's,
//! shared by both stores.

use std::sync::LazyLock;

use async_trait::async_trait;
use sqlx::Row;

use super::{SqliteJournal, WriteTx};
use crate::journal::codec::FINAL_STATES_SQL;
use crate::journal::migration::{find_sql, migrate_checked, move_sql, CheckedMover, LAST_SEQ};
use crate::journal::{CheckedRun, JournalError, MigrationOutcome, ModuleStore, Publish, Wake, WakeKind};

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
        let mut w = self.write().await?;
        let now = self.now_ms();
        let out = migrate_checked(&mut Mover { w: &mut w, now, instance, workflow, to }, runs).await?;
        self.finish(w).await?;
        Ok(out)
    }
}

/// Reads the run `$1`/`$2` of workflow `$3` at `$4`.
static FIND: LazyLock<String> = LazyLock::new(|| find_sql("$4", ""));

/// Moves the run `$1`/`$2` to version `$3` at `$4`.
static MOVE: LazyLock<String> = LazyLock::new(|| move_sql("$4"));

/// A checked migration in a SQLite write transaction (SQLite's single
/// writer: no commit can come in between its reads and its moves).
struct Mover<'a, 'w> {
    w: &'a mut WriteTx<'w>,
    now: i64,
    instance: &'a str,
    workflow: &'a str,
    to: &'a str,
}

impl CheckedMover for Mover<'_, '_> {
    async fn find(&mut self, run_id: &str) -> Result<Option<(bool, bool)>, JournalError> {
        let row = sqlx::query(&FIND)
            .bind(self.instance)
            .bind(run_id)
            .bind(self.workflow)
            .bind(self.now)
            .fetch_optional(&mut *self.w.tx)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some((row.try_get("unfinished")?, row.try_get::<Option<bool>, _>("leased")?.unwrap_or(false))))
    }

    async fn last_seq(&mut self, run_id: &str) -> Result<i64, JournalError> {
        Ok(sqlx::query_scalar(LAST_SEQ).bind(self.instance).bind(run_id).fetch_one(&mut *self.w.tx).await?)
    }

    async fn move_run(&mut self, run_id: &str) -> Result<(), JournalError> {
        sqlx::query(&MOVE).bind(self.instance).bind(run_id).bind(self.to).bind(self.now).execute(&mut *self.w.tx).await?;
        Ok(())
    }
}
