//! Activity tasks on SQLite: claiming (each claim one attempt),
//! completion, claim renewal and re-queueing for a retry, all fenced by
//! the claim token and the claim's expiry.

use std::time::Duration;

use crate::journal::postgres::codec::{claimed_from_row, millis, order_claimed, outcome_state, outcome_to_json};
use super::{json_list, now_ms, wake, SqliteJournal};
use crate::journal::{ClaimedTask, JournalError, RunKey, TaskOutcome, WakeKind};

/// See [`crate::journal::Journal::claim_tasks`].
pub(super) async fn claim(
    j: &SqliteJournal,
    instance: &str,
    queues: &[String],
    names: &[String],
    owner: &str,
    ttl: Duration,
    limit: i64,
) -> Result<Vec<ClaimedTask>, JournalError> {
    let now = now_ms();
    let mut w = j.write().await?;
    let rows = sqlx::query(
        "UPDATE activity_tasks SET state = 'claimed', claim_owner = ?5, claim_token = claim_token + 1, \
                claim_expires_at = ?6, attempts_started = attempts_started + 1, \
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
    j.finish(w).await?;
    Ok(order_claimed(claimed))
}

/// See [`crate::journal::Journal::complete_task`].
pub(super) async fn complete(
    j: &SqliteJournal,
    key: &RunKey,
    op: u32,
    claim_token: i64,
    outcome: &TaskOutcome,
) -> Result<bool, JournalError> {
    let stored = outcome_to_json(key, outcome)?;
    let now = now_ms();
    let mut w = j.write().await?;
    let done = sqlx::query(
        "UPDATE activity_tasks SET state = ?5, outcome = ?6, claim_expires_at = NULL \
         WHERE instance = ?1 AND run_id = ?2 AND op = ?3 AND claim_token = ?4 AND state = 'claimed' \
           AND claim_expires_at > ?7",
    )
    .bind(&key.instance)
    .bind(&key.run_id)
    .bind(i64::from(op))
    .bind(claim_token)
    .bind(outcome_state(outcome))
    .bind(stored)
    .bind(now)
    .execute(&mut *w.tx)
    .await?
    .rows_affected()
        == 1;
    if !done {
        return Ok(false);
    }
    w.wake_run(key, now).await?;
    w.wakes.push(wake(WakeKind::Run, key));
    j.finish(w).await?;
    Ok(true)
}

/// The condition every write of a claim's holder is fenced by: the claim
/// is still its own (token) and has not expired (`?5` is now, in ms).
macro_rules! fenced {
    ($set:literal) => {
        concat!(
            "UPDATE activity_tasks SET ",
            $set,
            " WHERE instance = ?1 AND run_id = ?2 AND op = ?3 AND claim_token = ?4 AND state = 'claimed' \
               AND claim_expires_at > ?5"
        )
    };
}

/// Runs a [`fenced!`] update whose `?6` is now plus `ms` (unix ms); true
/// when the claim was still held.
async fn fenced_update(
    j: &SqliteJournal,
    sql: &'static str,
    key: &RunKey,
    op: u32,
    claim_token: i64,
    ms: Duration,
) -> Result<bool, JournalError> {
    let mut w = j.write().await?;
    let now = now_ms();
    let done = sqlx::query(sql)
        .bind(&key.instance)
        .bind(&key.run_id)
        .bind(i64::from(op))
        .bind(claim_token)
        .bind(now)
        .bind(now.saturating_add(millis(ms)))
        .execute(&mut *w.tx)
        .await?;
    j.finish(w).await?;
    Ok(done.rows_affected() == 1)
}

/// See [`crate::journal::Journal::renew_task_claim`].
pub(super) async fn renew(
    j: &SqliteJournal,
    key: &RunKey,
    op: u32,
    claim_token: i64,
    ttl: Duration,
) -> Result<bool, JournalError> {
    fenced_update(j, fenced!("claim_expires_at = ?6"), key, op, claim_token, ttl).await
}

/// See [`crate::journal::Journal::retry_task`].
pub(super) async fn retry(
    j: &SqliteJournal,
    key: &RunKey,
    op: u32,
    claim_token: i64,
    delay: Duration,
) -> Result<bool, JournalError> {
    let sql = fenced!(
        "state = 'pending', claim_owner = NULL, claim_expires_at = NULL, \
         attempts_ended = attempts_started, ready_at = ?6"
    );
    fenced_update(j, sql, key, op, claim_token, delay).await
}
