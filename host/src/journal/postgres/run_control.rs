//! Pausing, resuming and resetting runs on Postgres ([`RunControlStore`]).
//! A reset locks the run's row with its compare-and-set (the lease token
//! and the journal's end it was planned on), so an engine's fenced commit
//! either came before it (and the plan saw it) or is fenced out after it.

use std::sync::LazyLock;

use async_trait::async_trait;
use sqlx::Row;

use super::{notify, PostgresJournal};
use crate::journal::codec::{queue_of, run_from_row, to_json, FINAL_STATES_SQL, RUN_COLUMNS};
use crate::journal::{JournalError, ResetPlan, RunControlStore, RunKey, RunRecord, WakeKind};

static PAUSE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE runs SET paused_at = now(), updated_at = now() \
         WHERE instance = $1 AND run_id = $2 AND paused_at IS NULL AND state NOT IN {final_states} \
         RETURNING {RUN_COLUMNS}",
        final_states = *FINAL_STATES_SQL
    )
});

static RESUME: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE runs SET paused_at = NULL, updated_at = now(), wake_gen = wake_gen + 1, \
                wake_at = CASE WHEN state IN ('pending', 'suspended') THEN now() ELSE wake_at END \
         WHERE instance = $1 AND run_id = $2 AND paused_at IS NOT NULL AND state NOT IN {final_states} \
         RETURNING {RUN_COLUMNS}",
        final_states = *FINAL_STATES_SQL
    )
});

/// The reset's compare-and-set on the run: made `pending` and due, its
/// end, lease and requests cleared, its lease token moved on.
const RESET_RUN: &str = "UPDATE runs SET state = 'pending', output = NULL, error = NULL, lease_owner = NULL, \
        lease_expires_at = NULL, lease_token = lease_token + 1, wake_at = now(), wake_gen = wake_gen + 1, \
        cancel_requested_at = NULL, graceful_cancel_at = NULL, updated_at = now(), \
        paused_at = CASE WHEN $5 THEN paused_at ELSE NULL END \
     WHERE instance = $1 AND run_id = $2 AND lease_token = $3 AND state <> 'continued' \
       AND (SELECT COALESCE(MAX(seq), 0) FROM events WHERE instance = $1 AND run_id = $2) = $4 \
     RETURNING run_id";

/// The tasks of the calls whose schedule a reset superseded: kept as
/// `superseded`, their claim token moved on (a worker still holding a
/// claim can complete nothing), for the new path's call of the same
/// operation to replace (`task_sql::REPLACE_SUPERSEDED`).
const SUPERSEDE_TASKS: &str = "UPDATE activity_tasks SET state = 'superseded', claim_owner = NULL, \
        claim_expires_at = NULL, claim_token = claim_token + 1, outcome = NULL \
     WHERE instance = $1 AND run_id = $2 AND op = ANY($3)";

/// The task of a call whose schedule a reset kept and whose outcome it
/// superseded: written as new, no attempt made, its claim token moved on.
const REOPEN_TASK: &str = "INSERT INTO activity_tasks (instance, run_id, op, name, input, options, queue, priority, \
        ready_at, start_deadline) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now(), now() + $9::bigint * interval '1 millisecond') \
     ON CONFLICT (instance, run_id, op) DO UPDATE SET name = excluded.name, input = excluded.input, \
        options = excluded.options, queue = excluded.queue, priority = excluded.priority, state = 'pending', \
        claim_owner = NULL, claim_expires_at = NULL, claim_token = activity_tasks.claim_token + 1, outcome = NULL, \
        journaled = FALSE, attempts_started = 0, attempts_ended = 0, first_attempt_at = NULL, \
        ready_at = excluded.ready_at, start_deadline = excluded.start_deadline, created_at = now()";

#[async_trait]
impl RunControlStore for PostgresJournal {
    async fn pause_run(&self, key: &RunKey) -> Result<Option<RunRecord>, JournalError> {
        let row = self.commits.counted(sqlx::query(&PAUSE).bind(&key.instance).bind(&key.run_id).fetch_optional(&self.pool).await)?;
        row.as_ref().map(run_from_row).transpose()
    }

    async fn resume_run(&self, key: &RunKey) -> Result<Option<RunRecord>, JournalError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(&RESUME).bind(&key.instance).bind(&key.run_id).fetch_optional(&mut *tx).await?;
        let Some(row) = row else {
            return Ok(None);
        };
        notify(&mut tx, WakeKind::Run, &key.instance, &key.run_id).await?;
        self.commit_tx(tx).await?;
        run_from_row(&row).map(Some)
    }

    async fn reset_run(&self, key: &RunKey, plan: &ResetPlan) -> Result<Option<i64>, JournalError> {
        let (i, r) = (&key.instance, &key.run_id);
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query(RESET_RUN)
            .bind(i)
            .bind(r)
            .bind(plan.expected_token)
            .bind(plan.expected_last_seq)
            .bind(plan.keep_paused)
            .fetch_optional(&mut *tx)
            .await?;
        if changed.is_none() {
            return Ok(None);
        }
        let reset_id: i64 = sqlx::query(
            "SELECT COALESCE(MAX(reset_id), 0) + 1 AS id FROM run_resets WHERE instance = $1 AND run_id = $2",
        )
        .bind(i)
        .bind(r)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        sqlx::query(
            "INSERT INTO run_resets (instance, run_id, reset_id, kind, to_seq, reason, previous_state) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(i)
        .bind(r)
        .bind(reset_id)
        .bind(plan.kind)
        .bind(plan.to_seq)
        .bind(plan.reason.as_deref())
        .bind(plan.previous_state.as_str())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO superseded_events (instance, run_id, reset_id, seq, kind, body, recorded_at) \
             SELECT instance, run_id, $3, seq, kind, body, recorded_at FROM events \
             WHERE instance = $1 AND run_id = $2 AND seq > $4",
        )
        .bind(i)
        .bind(r)
        .bind(reset_id)
        .bind(plan.to_seq)
        .execute(&mut *tx)
        .await?;
        for sql in [
            "DELETE FROM events WHERE instance = $1 AND run_id = $2 AND seq > $3",
            "DELETE FROM snapshots WHERE instance = $1 AND run_id = $2 AND upto_seq > $3",
        ] {
            sqlx::query(sql).bind(i).bind(r).bind(plan.to_seq).execute(&mut *tx).await?;
        }
        let dropped: Vec<i64> = plan.dropped_ops.iter().map(|op| i64::from(*op)).collect();
        let ops: Vec<i64> = dropped.iter().copied().chain(plan.reopened.iter().map(|t| i64::from(t.op))).collect();
        sqlx::query(SUPERSEDE_TASKS).bind(i).bind(r).bind(&dropped).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM activity_heartbeats WHERE instance = $1 AND run_id = $2 AND op = ANY($3)")
            .bind(i)
            .bind(r)
            .bind(&ops)
            .execute(&mut *tx)
            .await?;
        for t in &plan.reopened {
            sqlx::query(REOPEN_TASK)
                .bind(i)
                .bind(r)
                .bind(i64::from(t.op))
                .bind(&t.name)
                .bind(to_json(key, "task input", &t.input)?)
                .bind(to_json(key, "task options", &t.options)?)
                .bind(queue_of(&t.options))
                .bind(t.options.priority)
                .bind(t.start_within_ms())
                .execute(&mut *tx)
                .await?;
        }
        notify(&mut tx, WakeKind::Run, i, r).await?;
        if !plan.reopened.is_empty() {
            notify(&mut tx, WakeKind::Task, i, "").await?;
        }
        self.commit_tx(tx).await?;
        Ok(Some(reset_id))
    }
}
