//! Activity workers' announcements and the tasks waiting for one, on
//! Postgres ([`WorkerStore`]), in the database's time (`now()`).

use std::time::Duration;

use async_trait::async_trait;

use super::{lock_run, wake_run, PostgresJournal};
use crate::journal::codec::{millis, outcome_to_json};
use crate::journal::worker_store::{waiting_from_row, worker_from_row, WAITING_COLUMNS};
use crate::journal::{ActivityWorker, Failure, JournalError, RunKey, TaskOutcome, WaitingTask, WorkerStore};

#[async_trait]
impl WorkerStore for PostgresJournal {
    async fn announce_worker(
        &self,
        instance: &str,
        owner: &str,
        activities: &[String],
        queues: &[String],
        ttl: Duration,
    ) -> Result<(), JournalError> {
        sqlx::query(
            "INSERT INTO activity_workers (instance, owner, activities, queues, expires_at) \
             VALUES ($1, $2, $3, $4, now() + $5 * interval '1 millisecond') \
             ON CONFLICT (instance, owner) DO UPDATE SET activities = EXCLUDED.activities, \
                    queues = EXCLUDED.queues, expires_at = EXCLUDED.expires_at",
        )
        .bind(instance)
        .bind(owner)
        .bind(serde_json::to_string(activities).unwrap_or_else(|_| "[]".into()))
        .bind(serde_json::to_string(queues).unwrap_or_else(|_| "[]".into()))
        .bind(millis(ttl))
        .execute(&self.pool)
        .await.inspect(|_| self.commits.add())?;
        Ok(())
    }

    async fn withdraw_worker(&self, instance: &str, owner: &str) -> Result<(), JournalError> {
        sqlx::query("DELETE FROM activity_workers WHERE instance = $1 AND owner = $2")
            .bind(instance)
            .bind(owner)
            .execute(&self.pool)
            .await.inspect(|_| self.commits.add())?;
        Ok(())
    }

    async fn live_workers(&self, instance: &str) -> Result<Vec<ActivityWorker>, JournalError> {
        let rows = sqlx::query(
            "SELECT owner, activities, queues FROM activity_workers \
             WHERE instance = $1 AND expires_at > now() ORDER BY owner",
        )
        .bind(instance)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| worker_from_row(r, instance)).collect()
    }

    async fn past_start_deadline(&self, instance: &str, limit: i64) -> Result<Vec<WaitingTask>, JournalError> {
        let sql = format!(
            "SELECT {WAITING_COLUMNS} FROM activity_tasks \
             WHERE instance = $1 AND start_deadline IS NOT NULL AND state = 'pending' \
               AND start_deadline < now() AND attempts_started = 0 \
             ORDER BY start_deadline LIMIT $2"
        );
        let rows = sqlx::query(&sql).bind(instance).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(|r| waiting_from_row(r)).collect()
    }

    async fn long_waiting(&self, instance: &str, waited: Duration, limit: i64) -> Result<Vec<WaitingTask>, JournalError> {
        let sql = format!(
            "SELECT {WAITING_COLUMNS} FROM activity_tasks \
             WHERE instance = $1 AND state = 'pending' AND attempts_started = 0 \
               AND created_at < now() - $2 * interval '1 millisecond' \
             ORDER BY created_at LIMIT $3"
        );
        let rows = sqlx::query(&sql).bind(instance).bind(millis(waited)).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(|r| waiting_from_row(r)).collect()
    }

    async fn fail_unstarted(&self, key: &RunKey, op: u32, failure: &Failure) -> Result<bool, JournalError> {
        let stored = outcome_to_json(key, &TaskOutcome::Failed(failure.clone()))?;
        let mut tx = self.pool.begin().await?;
        // Lock the run first: every writer takes run rows before task rows.
        lock_run(&mut tx, key).await?;
        let done = sqlx::query(
            "UPDATE activity_tasks SET state = 'failed', outcome = $4 \
             WHERE instance = $1 AND run_id = $2 AND op = $3 AND state = 'pending' AND attempts_started = 0",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .bind(i64::from(op))
        .bind(stored)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !done {
            return Ok(false);
        }
        wake_run(&mut tx, key).await?;
        self.commit_tx(tx).await?;
        Ok(true)
    }
}
