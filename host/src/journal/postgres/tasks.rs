//! Activity tasks on Postgres ([`TaskStore`]): claiming (`FOR UPDATE SKIP
//! LOCKED`, each claim one attempt), completion, claim renewal and
//! re-queueing for a retry, all fenced by the claim token and the claim's
//! expiry ([`claim_fenced!`]); the heartbeats of calls in progress (one
//! row per `(instance, run_id, op)`), and results stored under idempotency
//! keys. The reads are the trait's, shared by both stores.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use super::{lock_run, wake_run, PostgresJournal};
use crate::journal::codec::{
    claimed_from_row, millis, order_claimed, outcome_state, outcome_to_json};
use crate::journal::task_sql::{bind_task, claim_fenced, CLEAR_HEARTBEAT};
use crate::journal::{ClaimedTask, JournalError, RunKey, TaskOutcome, TaskStore};

#[async_trait]
impl TaskStore for PostgresJournal {

    async fn claim_tasks(
        &self,
        instance: &str,
        queues: &[String],
        names: &[String],
        owner: &str,
        ttl: Duration,
        limit: i64,
    ) -> Result<Vec<ClaimedTask>, JournalError> {
        let rows = sqlx::query(
            "WITH picked AS ( \
               SELECT instance, run_id, op FROM activity_tasks \
               WHERE instance = $1 AND queue = ANY($2) AND name = ANY($3) \
                 AND ((state = 'pending' AND ready_at <= now()) \
                   OR (state = 'claimed' AND claim_expires_at < now())) \
               ORDER BY priority DESC, ready_at, run_id, op LIMIT $4 \
               FOR UPDATE SKIP LOCKED) \
             UPDATE activity_tasks t SET state = 'claimed', claim_owner = $5, \
                    claim_token = t.claim_token + 1, \
                    claim_expires_at = now() + $6 * interval '1 millisecond', \
                    first_attempt_at = COALESCE(t.first_attempt_at, now()) \
             FROM picked, runs r \
             WHERE t.instance = picked.instance AND t.run_id = picked.run_id AND t.op = picked.op \
               AND r.instance = t.instance AND r.run_id = t.run_id \
             RETURNING t.instance, t.run_id, t.op, t.name, t.input, t.options, t.claim_token, \
                       t.priority, t.ready_at, t.attempts_started, t.attempts_ended, t.first_attempt_at, \
                       r.workflow, r.trace_context",
        )
        .bind(instance)
        .bind(queues)
        .bind(names)
        .bind(limit)
        .bind(owner)
        .bind(millis(ttl))
        .fetch_all(&self.pool)
        .await.inspect(|_| self.commits.add())?;
        Ok(order_claimed(rows.iter().map(claimed_from_row).collect::<Result<_, _>>()?))
    }

    async fn complete_task(
        &self,
        key: &RunKey,
        op: u32,
        claim_token: i64,
        outcome: &TaskOutcome,
    ) -> Result<bool, JournalError> {
        let stored = outcome_to_json(key, outcome)?;
        let mut tx = self.pool.begin().await?;
        // Lock the run first: every writer takes run rows before task rows.
        lock_run(&mut tx, key).await?;
        let sql = claim_fenced!("state = $5, outcome = $6, claim_expires_at = NULL", "now()");
        let done = bind_task(sqlx::query(sql), key, op)
            .bind(claim_token)
            .bind(outcome_state(outcome))
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

    async fn start_task(&self, key: &RunKey, op: u32, claim_token: i64) -> Result<bool, JournalError> {
        let sql = claim_fenced!("attempts_started = attempts_started + 1", "now()");
        let done = bind_task(sqlx::query(sql), key, op).bind(claim_token).execute(&self.pool).await.inspect(|_| self.commits.add())?;
        Ok(done.rows_affected() == 1)
    }

    async fn renew_task_claim(&self, key: &RunKey, op: u32, claim_token: i64, ttl: Duration) -> Result<bool, JournalError> {
        let sql = claim_fenced!("claim_expires_at = now() + $5 * interval '1 millisecond'", "now()");
        fenced_update(self, sql, key, op, claim_token, ttl).await
    }

    async fn retry_task(&self, key: &RunKey, op: u32, claim_token: i64, delay: Duration) -> Result<bool, JournalError> {
        let sql = claim_fenced!(
            "state = 'pending', claim_owner = NULL, claim_expires_at = NULL, \
             attempts_ended = attempts_started, ready_at = now() + $5 * interval '1 millisecond'",
            "now()"
        );
        fenced_update(self, sql, key, op, claim_token, delay).await
    }

    async fn record_heartbeat(&self, key: &RunKey, op: u32, attempt: u32, details: &Value) -> Result<(), JournalError> {
        let sql = "INSERT INTO activity_heartbeats (instance, run_id, op, attempt, details) VALUES ($1, $2, $3, $4, $5) \
                   ON CONFLICT (instance, run_id, op) DO UPDATE \
                   SET attempt = EXCLUDED.attempt, details = EXCLUDED.details, recorded_at = now()";
        bind_task(sqlx::query(sql), key, op).bind(attempt as i32).bind(details.to_string()).execute(&self.pool).await.inspect(|_| self.commits.add())?;
        Ok(())
    }

    async fn clear_heartbeat(&self, key: &RunKey, op: u32) -> Result<(), JournalError> {
        bind_task(sqlx::query(CLEAR_HEARTBEAT), key, op).execute(&self.pool).await.inspect(|_| self.commits.add())?;
        Ok(())
    }

    async fn put_idempotent_result(&self, instance: &str, key: &str, activity: &str, output: &Value) -> Result<(), JournalError> {
        sqlx::query(
            "INSERT INTO activity_results (instance, idempotency_key, activity, output) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (instance, idempotency_key) DO NOTHING",
        )
        .bind(instance)
        .bind(key)
        .bind(activity)
        .bind(output.to_string())
        .execute(&self.pool)
        .await.inspect(|_| self.commits.add())?;
        Ok(())
    }
}

/// Runs a [`claim_fenced!`] update whose `$5` is a duration in
/// milliseconds; true when the claim was still held.
async fn fenced_update(
    j: &PostgresJournal,
    sql: &'static str,
    key: &RunKey,
    op: u32,
    claim_token: i64,
    ms: Duration,
) -> Result<bool, JournalError> {
    let done = bind_task(sqlx::query(sql), key, op).bind(claim_token).bind(millis(ms)).execute(&j.pool).await.inspect(|_| j.commits.add())?;
    Ok(done.rows_affected() == 1)
}
