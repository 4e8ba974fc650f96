//! Activity workers' announcements and the tasks waiting for one, on
//! SQLite ([`WorkerStore`]), in the journal's clock (milliseconds).

use std::time::Duration;

use async_trait::async_trait;

use super::{wake, SqliteJournal};
use crate::journal::codec::{millis, outcome_to_json};
use crate::journal::worker_store::{waiting_from_row, worker_from_row, WAITING_COLUMNS};
use crate::journal::{ActivityWorker, Failure, JournalError, RunKey, TaskOutcome, WaitingTask, WakeKind, WorkerStore};

#[async_trait]
impl WorkerStore for SqliteJournal {
    async fn announce_worker(
        &self,
        instance: &str,
        owner: &str,
        activities: &[String],
        queues: &[String],
        ttl: Duration,
    ) -> Result<(), JournalError> {
        let mut w = self.write().await?;
        let expires = self.now_ms().saturating_add(millis(ttl));
        sqlx::query(
            "INSERT INTO activity_workers (instance, owner, activities, queues, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (instance, owner) DO UPDATE SET activities = excluded.activities, \
                    queues = excluded.queues, expires_at = excluded.expires_at",
        )
        .bind(instance)
        .bind(owner)
        .bind(serde_json::to_string(activities).unwrap_or_else(|_| "[]".into()))
        .bind(serde_json::to_string(queues).unwrap_or_else(|_| "[]".into()))
        .bind(expires)
        .execute(&mut *w.tx)
        .await?;
        self.finish(w).await
    }

    async fn withdraw_worker(&self, instance: &str, owner: &str) -> Result<(), JournalError> {
        let mut w = self.write().await?;
        sqlx::query("DELETE FROM activity_workers WHERE instance = ?1 AND owner = ?2")
            .bind(instance)
            .bind(owner)
            .execute(&mut *w.tx)
            .await?;
        self.finish(w).await
    }

    async fn live_workers(&self, instance: &str) -> Result<Vec<ActivityWorker>, JournalError> {
        let rows = sqlx::query(
            "SELECT owner, activities, queues FROM activity_workers \
             WHERE instance = ?1 AND expires_at > ?2 ORDER BY owner",
        )
        .bind(instance)
        .bind(self.now_ms())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| worker_from_row(r, instance)).collect()
    }

    async fn past_start_deadline(&self, instance: &str, limit: i64) -> Result<Vec<WaitingTask>, JournalError> {
        let sql = format!(
            "SELECT {WAITING_COLUMNS} FROM activity_tasks \
             WHERE instance = ?1 AND start_deadline IS NOT NULL AND state = 'pending' \
               AND start_deadline < ?2 AND attempts_started = 0 \
             ORDER BY start_deadline LIMIT ?3"
        );
        let rows = sqlx::query(&sql).bind(instance).bind(self.now_ms()).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(|r| waiting_from_row(r)).collect()
    }

    async fn long_waiting(&self, instance: &str, waited: Duration, limit: i64) -> Result<Vec<WaitingTask>, JournalError> {
        let sql = format!(
            "SELECT {WAITING_COLUMNS} FROM activity_tasks \
             WHERE instance = ?1 AND state = 'pending' AND attempts_started = 0 AND created_at < ?2 \
             ORDER BY created_at LIMIT ?3"
        );
        let before = self.now_ms().saturating_sub(millis(waited));
        let rows = sqlx::query(&sql).bind(instance).bind(before).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(|r| waiting_from_row(r)).collect()
    }

    async fn fail_unstarted(&self, key: &RunKey, op: u32, failure: &Failure) -> Result<bool, JournalError> {
        let stored = outcome_to_json(key, &TaskOutcome::Failed(failure.clone()))?;
        let now = self.now_ms();
        let mut w = self.write().await?;
        let done = sqlx::query(
            "UPDATE activity_tasks SET state = 'failed', outcome = ?4 \
             WHERE instance = ?1 AND run_id = ?2 AND op = ?3 AND state = 'pending' AND attempts_started = 0",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .bind(i64::from(op))
        .bind(stored)
        .execute(&mut *w.tx)
        .await?
        .rows_affected()
            == 1;
        if !done {
            return Ok(false);
        }
        w.wake_run(key, now).await?;
        w.wakes.push(wake(WakeKind::Run, key));
        self.finish(w).await?;
        Ok(true)
    }
}
