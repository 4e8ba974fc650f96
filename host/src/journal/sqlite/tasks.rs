//! Activity tasks on SQLite ([`TaskStore`]): claiming (each claim one
//! attempt), completion, claim renewal and re-queueing for a retry, all
//! fenced by the claim token and the claim's expiry ([`claim_fenced!`]);
//! the heartbeats of calls in progress (one row per `(instance, run_id,
//! op)`), and results stored under idempotency keys. The reads are the
//! trait's, shared by both stores.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use super::codec::json_list;
use super::{wake, SqliteJournal};
use crate::journal::codec::{
    claimed_from_row, millis, order_claimed, outcome_state, outcome_to_json};
use crate::journal::task_sql::{bind_task, claim_fenced, CLEAR_HEARTBEAT};
use crate::journal::{ClaimedTask, JournalError, RunKey, TaskOutcome, TaskStore, WakeKind};

#[async_trait]
impl TaskStore for SqliteJournal {
    async fn claim_tasks(
        &self,
        instance: &str,
        queues: &[String],
        names: &[String],
        owner: &str,
        ttl: Duration,
        limit: i64,
    ) -> Result<Vec<ClaimedTask>, JournalError> {
        let now = self.now_ms();
        let mut w = self.write().await?;
        let rows = sqlx::query(
            "UPDATE activity_tasks SET state = 'claimed', claim_owner = ?5, claim_token = claim_token + 1, \
                    claim_expires_at = ?6, \
                    first_attempt_at = COALESCE(first_attempt_at, ?7) \
             WHERE (instance, run_id, op) IN ( \
               SELECT instance, run_id, op FROM activity_tasks \
               WHERE instance = ?1 AND queue IN (SELECT value FROM json_each(?2)) \
                 AND name IN (SELECT value FROM json_each(?3)) \
                 AND ((state = 'pending' AND ready_at <= ?7) OR (state = 'claimed' AND claim_expires_at < ?7)) \
               ORDER BY priority DESC, ready_at, run_id, op LIMIT ?4) \
             RETURNING instance, run_id, op, name, input, options, claim_token, priority, ready_at, \
                       attempts_started, attempts_ended, first_attempt_at, \
                       (SELECT r.workflow FROM runs r \
                         WHERE r.instance = activity_tasks.instance AND r.run_id = activity_tasks.run_id) AS workflow, \
                       (SELECT r.trace_context FROM runs r \
                         WHERE r.instance = activity_tasks.instance AND r.run_id = activity_tasks.run_id) AS trace_context",
        )
        .bind(instance)
        .bind(json_list(queues)?)
        .bind(json_list(names)?)
        .bind(limit)
        .bind(owner)
        .bind(now.saturating_add(millis(ttl)))
        .bind(now)
        .fetch_all(&mut *w.tx)
        .await?;
        let claimed = rows.iter().map(claimed_from_row).collect::<Result<Vec<_>, _>>()?;
        self.finish(w).await?;
        Ok(order_claimed(claimed))
    }

    async fn complete_task(
        &self,
        key: &RunKey,
        op: u32,
        claim_token: i64,
        outcome: &TaskOutcome,
    ) -> Result<bool, JournalError> {
        let stored = outcome_to_json(key, outcome)?;
        let now = self.now_ms();
        let mut w = self.write().await?;
        let sql = claim_fenced!("state = $6, outcome = $7, claim_expires_at = NULL", "$5");
        let done = bind_task(sqlx::query(sql), key, op)
            .bind(claim_token)
            .bind(now)
            .bind(outcome_state(outcome))
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

    async fn start_task(&self, key: &RunKey, op: u32, claim_token: i64) -> Result<bool, JournalError> {
        let mut w = self.write().await?;
        let now = self.now_ms();
        let sql = claim_fenced!("attempts_started = attempts_started + 1", "$5");
        let done = bind_task(sqlx::query(sql), key, op).bind(claim_token).bind(now).execute(&mut *w.tx).await?;
        self.finish(w).await?;
        Ok(done.rows_affected() == 1)
    }

    async fn renew_task_claim(&self, key: &RunKey, op: u32, claim_token: i64, ttl: Duration) -> Result<bool, JournalError> {
        fenced_update(self, claim_fenced!("claim_expires_at = $6", "$5"), key, op, claim_token, ttl).await
    }

    async fn retry_task(&self, key: &RunKey, op: u32, claim_token: i64, delay: Duration) -> Result<bool, JournalError> {
        let sql = claim_fenced!(
            "state = 'pending', claim_owner = NULL, claim_expires_at = NULL, \
             attempts_ended = attempts_started, ready_at = $6",
            "$5"
        );
        fenced_update(self, sql, key, op, claim_token, delay).await
    }

    async fn record_heartbeat(&self, key: &RunKey, op: u32, attempt: u32, details: &Value) -> Result<(), JournalError> {
        let mut w = self.write().await?;
        let sql = "INSERT INTO activity_heartbeats (instance, run_id, op, attempt, details, recorded_at) \
                   VALUES ($1, $2, $3, $4, $5, $6) \
                   ON CONFLICT (instance, run_id, op) DO UPDATE \
                   SET attempt = excluded.attempt, details = excluded.details, recorded_at = excluded.recorded_at";
        bind_task(sqlx::query(sql), key, op)
            .bind(attempt as i32)
            .bind(details.to_string())
            .bind(self.now_ms())
            .execute(&mut *w.tx)
            .await?;
        self.finish(w).await
    }

    async fn clear_heartbeat(&self, key: &RunKey, op: u32) -> Result<(), JournalError> {
        let mut w = self.write().await?;
        bind_task(sqlx::query(CLEAR_HEARTBEAT), key, op).execute(&mut *w.tx).await?;
        self.finish(w).await
    }

    async fn put_idempotent_result(&self, instance: &str, key: &str, activity: &str, output: &Value) -> Result<(), JournalError> {
        let mut w = self.write().await?;
        sqlx::query(
            "INSERT OR IGNORE INTO activity_results (instance, idempotency_key, activity, output, created_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(instance)
        .bind(key)
        .bind(activity)
        .bind(output.to_string())
        .bind(self.now_ms())
        .execute(&mut *w.tx)
        .await?;
        self.finish(w).await
    }
}

/// Runs a [`claim_fenced!`] update whose `$5` is now and `$6` now plus
/// `ms` (unix ms); true when the claim was still held.
async fn fenced_update(
    j: &SqliteJournal,
    sql: &'static str,
    key: &RunKey,
    op: u32,
    claim_token: i64,
    ms: Duration,
) -> Result<bool, JournalError> {
    let mut w = j.write().await?;
    let now = j.now_ms();
    let done = bind_task(sqlx::query(sql), key, op)
        .bind(claim_token)
        .bind(now)
        .bind(now.saturating_add(millis(ms)))
        .execute(&mut *w.tx)
        .await?;
    j.finish(w).await?;
    Ok(done.rows_affected() == 1)
}
