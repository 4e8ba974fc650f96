//! Activity tasks on Postgres: claiming (`FOR UPDATE SKIP LOCKED`, each
//! claim one attempt), completion, claim renewal and re-queueing for a
//! retry, all fenced by the claim token and the claim's expiry.

use std::time::Duration;

use super::codec::{claimed_from_row, millis, order_claimed, outcome_state, outcome_to_json};
use super::{lock_run, wake_run, PostgresJournal};
use crate::journal::{ClaimedTask, JournalError, RunKey, TaskOutcome};

/// See [`crate::journal::Journal::claim_tasks`].
pub(super) async fn claim(
    j: &PostgresJournal,
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
                attempts_started = t.attempts_started + 1, \
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
    .fetch_all(&j.pool)
    .await?;
    Ok(order_claimed(rows.iter().map(claimed_from_row).collect::<Result<_, _>>()?))
}

/// See [`crate::journal::Journal::complete_task`].
pub(super) async fn complete(
    j: &PostgresJournal,
    key: &RunKey,
    op: u32,
    claim_token: i64,
    outcome: &TaskOutcome,
) -> Result<bool, JournalError> {
    let stored = outcome_to_json(key, outcome)?;
    let mut tx = j.pool.begin().await?;
    // Lock the run first: every writer takes run rows before task rows.
    lock_run(&mut tx, key).await?;
    let done = sqlx::query(
        "UPDATE activity_tasks SET state = $5, outcome = $6, claim_expires_at = NULL \
         WHERE instance = $1 AND run_id = $2 AND op = $3 AND claim_token = $4 AND state = 'claimed' \
           AND claim_expires_at > now()",
    )
    .bind(&key.instance)
    .bind(&key.run_id)
    .bind(i64::from(op))
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
    tx.commit().await?;
    Ok(true)
}

/// The condition every write of a claim's holder is fenced by: the claim
/// is still its own (token) and has not expired.
macro_rules! fenced {
    ($set:literal) => {
        concat!(
            "UPDATE activity_tasks SET ",
            $set,
            " WHERE instance = $1 AND run_id = $2 AND op = $3 AND claim_token = $4 AND state = 'claimed' \
               AND claim_expires_at > now()"
        )
    };
}

/// Runs a [`fenced!`] update whose `$5` is a duration in milliseconds;
/// true when the claim was still held.
async fn fenced_update(
    j: &PostgresJournal,
    sql: &'static str,
    key: &RunKey,
    op: u32,
    claim_token: i64,
    ms: Duration,
) -> Result<bool, JournalError> {
    let done = sqlx::query(sql)
        .bind(&key.instance)
        .bind(&key.run_id)
        .bind(i64::from(op))
        .bind(claim_token)
        .bind(millis(ms))
        .execute(&j.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// See [`crate::journal::Journal::renew_task_claim`].
pub(super) async fn renew(
    j: &PostgresJournal,
    key: &RunKey,
    op: u32,
    claim_token: i64,
    ttl: Duration,
) -> Result<bool, JournalError> {
    let sql = fenced!("claim_expires_at = now() + $5 * interval '1 millisecond'");
    fenced_update(j, sql, key, op, claim_token, ttl).await
}

/// See [`crate::journal::Journal::retry_task`].
pub(super) async fn retry(
    j: &PostgresJournal,
    key: &RunKey,
    op: u32,
    claim_token: i64,
    delay: Duration,
) -> Result<bool, JournalError> {
    let sql = fenced!(
        "state = 'pending', claim_owner = NULL, claim_expires_at = NULL, \
         attempts_ended = attempts_started, ready_at = now() + $5 * interval '1 millisecond'"
    );
    fenced_update(j, sql, key, op, claim_token, delay).await
}
