//! Module versions on Postgres ([`ModuleStore`]): the `modules` and
//! `module_heads` tables, and moving runs between versions. A checked
//! migration locks each run's row first (waiting for any commit in flight
//! on it, since every commit locks the rows it writes for), and only then
//! reads its state, lease and last `seq`, in statements of their own so
//! they see what that commit wrote ([`migrate_checked`]). The reads are the
//! trait's, shared by both stores.

use std::sync::LazyLock;

use async_trait::async_trait;
use sqlx::Row;

use super::{notify, PostgresJournal, Tx};
use crate::journal::codec::FINAL_STATES_SQL;
use crate::journal::migration::{find_sql, migrate_checked, move_sql, CheckedMover, LAST_SEQ};
use crate::journal::{CheckedRun, JournalError, MigrationOutcome, ModuleStore, Publish, WakeKind};

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
        self.commit_tx(tx).await?;
        Ok(())
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
        .await.inspect(|_| self.commits.add())?;
        Ok(done.rows_affected())
    }

    async fn migrate_checked_runs(
        &self,
        instance: &str,
        workflow: &str,
        runs: &[CheckedRun],
        to: &str,
    ) -> Result<Vec<MigrationOutcome>, JournalError> {
        let mut tx = self.pool.begin().await?;
        let out = migrate_checked(&mut Mover { tx: &mut tx, instance, workflow, to }, runs).await?;
        self.commit_tx(tx).await?;
        Ok(out)
    }
}

/// Locks the run `$1`/`$2` of workflow `$3` and reads it.
static FIND: LazyLock<String> = LazyLock::new(|| find_sql("now()", " FOR UPDATE"));

/// Moves the run `$1`/`$2` to version `$3`.
static MOVE: LazyLock<String> = LazyLock::new(|| move_sql("now()"));

/// A checked migration in a Postgres transaction: it locks each run's row
/// before it reads the run's journal.
struct Mover<'a> {
    tx: &'a mut Tx,
    instance: &'a str,
    workflow: &'a str,
    to: &'a str,
}

impl CheckedMover for Mover<'_> {
    async fn find(&mut self, run_id: &str) -> Result<Option<(bool, bool)>, JournalError> {
        let row = sqlx::query(&FIND).bind(self.instance).bind(run_id).bind(self.workflow).fetch_optional(&mut **self.tx).await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some((row.try_get("unfinished")?, row.try_get::<Option<bool>, _>("leased")?.unwrap_or(false))))
    }

    async fn last_seq(&mut self, run_id: &str) -> Result<i64, JournalError> {
        Ok(sqlx::query_scalar(LAST_SEQ).bind(self.instance).bind(run_id).fetch_one(&mut **self.tx).await?)
    }

    async fn move_run(&mut self, run_id: &str) -> Result<(), JournalError> {
        sqlx::query(&MOVE).bind(self.instance).bind(run_id).bind(self.to).execute(&mut **self.tx).await?;
        Ok(())
    }
}
