//! Pausing, resuming and resetting runs on SQLite ([`RunControlStore`]):
//! the same statements as on Postgres, timestamps in milliseconds from the
//! store's clock, under the single writer (which orders a reset against
//! the engines' fenced commits).

use std::sync::LazyLock;

use async_trait::async_trait;
use sqlx::Row;

use super::{wake, SqliteJournal, WriteTx};
use crate::journal::codec::{queue_of, run_from_row, to_json, FINAL_STATES_SQL, RUN_COLUMNS};
use crate::journal::{JournalError, ResetPlan, RunControlStore, RunKey, RunRecord, Wake, WakeKind};

static PAUSE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE runs SET paused_at = ?3, updated_at = ?3 \
         WHERE instance = ?1 AND run_id = ?2 AND paused_at IS NULL AND state NOT IN {final_states} \
         RETURNING {RUN_COLUMNS}",
        final_states = *FINAL_STATES_SQL
    )
});

static RESUME: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE runs SET paused_at = NULL, updated_at = ?3, wake_gen = wake_gen + 1, \
                wake_at = CASE WHEN state IN ('pending', 'suspended') THEN ?3 ELSE wake_at END \
         WHERE instance = ?1 AND run_id = ?2 AND paused_at IS NOT NULL AND state NOT IN {final_states} \
         RETURNING {RUN_COLUMNS}",
        final_states = *FINAL_STATES_SQL
    )
});

/// See the Postgres store's `RESET_RUN`.
const RESET_RUN: &str = "UPDATE runs SET state = 'pending', output = NULL, error = NULL, lease_owner = NULL, \
        lease_expires_at = NULL, lease_token = lease_token + 1, wake_at = ?6, wake_gen = wake_gen + 1, \
        cancel_requested_at = NULL, graceful_cancel_at = NULL, updated_at = ?6, \
        paused_at = CASE WHEN ?5 THEN paused_at ELSE NULL END \
     WHERE instance = ?1 AND run_id = ?2 AND lease_token = ?3 AND state <> 'continued' \
       AND (SELECT COALESCE(MAX(seq), 0) FROM events WHERE instance = ?1 AND run_id = ?2) = ?4 \
     RETURNING run_id";

impl SqliteJournal {
    /// [`PAUSE`] or [`RESUME`], with the run's wake-up on a resume.
    async fn set_paused(&self, key: &RunKey, sql: &str, resume: bool) -> Result<Option<RunRecord>, JournalError> {
        let now = self.now_ms();
        let mut w = self.write().await?;
        let row = sqlx::query(sql).bind(&key.instance).bind(&key.run_id).bind(now).fetch_optional(&mut *w.tx).await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let run = run_from_row(&row)?;
        if resume {
            w.wakes.push(wake(WakeKind::Run, key));
        }
        self.finish(w).await?;
        Ok(Some(run))
    }
}

#[async_trait]
impl RunControlStore for SqliteJournal {
    async fn pause_run(&self, key: &RunKey) -> Result<Option<RunRecord>, JournalError> {
        self.set_paused(key, &PAUSE, false).await
    }

    async fn resume_run(&self, key: &RunKey) -> Result<Option<RunRecord>, JournalError> {
        self.set_paused(key, &RESUME, true).await
    }

    async fn reset_run(&self, key: &RunKey, plan: &ResetPlan) -> Result<Option<i64>, JournalError> {
        let now = self.now_ms();
        let mut w = self.write().await?;
        let changed = sqlx::query(RESET_RUN)
            .bind(&key.instance)
            .bind(&key.run_id)
            .bind(plan.expected_token)
            .bind(plan.expected_last_seq)
            .bind(plan.keep_paused)
            .bind(now)
            .fetch_optional(&mut *w.tx)
            .await?;
        if changed.is_none() {
            return Ok(None);
        }
        let reset_id = write_reset(&mut w, key, plan, now).await?;
        w.wakes.push(wake(WakeKind::Run, key));
        if !plan.reopened.is_empty() {
            w.wakes.push(Wake { instance: key.instance.clone(), run_id: String::new(), kind: WakeKind::Task });
        }
        self.finish(w).await?;
        Ok(Some(reset_id))
    }
}

/// The rows of a reset whose compare-and-set held: its record, the
/// superseded entries moved, snapshots past the point dropped, the tasks
/// of the superseded calls marked superseded (claim token moved on), the
/// reopened calls' tasks written anew.
async fn write_reset(w: &mut WriteTx<'_>, key: &RunKey, plan: &ResetPlan, now: i64) -> Result<i64, JournalError> {
    let (i, r) = (&key.instance, &key.run_id);
    let reset_id: i64 =
        sqlx::query("SELECT COALESCE(MAX(reset_id), 0) + 1 AS id FROM run_resets WHERE instance = ?1 AND run_id = ?2")
            .bind(i)
            .bind(r)
            .fetch_one(&mut *w.tx)
            .await?
            .try_get("id")?;
    sqlx::query(
        "INSERT INTO run_resets (instance, run_id, reset_id, kind, to_seq, reason, previous_state, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .bind(i)
    .bind(r)
    .bind(reset_id)
    .bind(plan.kind)
    .bind(plan.to_seq)
    .bind(plan.reason.as_deref())
    .bind(plan.previous_state.as_str())
    .bind(now)
    .execute(&mut *w.tx)
    .await?;
    sqlx::query(
        "INSERT INTO superseded_events (instance, run_id, reset_id, seq, kind, body, recorded_at) \
         SELECT instance, run_id, ?3, seq, kind, body, recorded_at FROM events \
         WHERE instance = ?1 AND run_id = ?2 AND seq > ?4",
    )
    .bind(i)
    .bind(r)
    .bind(reset_id)
    .bind(plan.to_seq)
    .execute(&mut *w.tx)
    .await?;
    for sql in [
        "DELETE FROM events WHERE instance = ?1 AND run_id = ?2 AND seq > ?3",
        "DELETE FROM snapshots WHERE instance = ?1 AND run_id = ?2 AND upto_seq > ?3",
    ] {
        sqlx::query(sql).bind(i).bind(r).bind(plan.to_seq).execute(&mut *w.tx).await?;
    }
    for op in &plan.dropped_ops {
        sqlx::query(
            "UPDATE activity_tasks SET state = 'superseded', claim_owner = NULL, claim_expires_at = NULL, \
                    claim_token = claim_token + 1, outcome = NULL \
             WHERE instance = ?1 AND run_id = ?2 AND op = ?3",
        )
        .bind(i)
        .bind(r)
        .bind(i64::from(*op))
        .execute(&mut *w.tx)
        .await?;
    }
    for op in plan.dropped_ops.iter().chain(plan.reopened.iter().map(|t| &t.op)) {
        sqlx::query("DELETE FROM activity_heartbeats WHERE instance = ?1 AND run_id = ?2 AND op = ?3")
            .bind(i)
            .bind(r)
            .bind(i64::from(*op))
            .execute(&mut *w.tx)
            .await?;
    }
    for t in &plan.reopened {
        sqlx::query(
            "INSERT INTO activity_tasks (instance, run_id, op, name, input, options, queue, priority, ready_at, \
                                         created_at, start_deadline) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10) \
             ON CONFLICT (instance, run_id, op) DO UPDATE SET name = excluded.name, input = excluded.input, \
                options = excluded.options, queue = excluded.queue, priority = excluded.priority, state = 'pending', \
                claim_owner = NULL, claim_expires_at = NULL, claim_token = activity_tasks.claim_token + 1, \
                outcome = NULL, journaled = 0, attempts_started = 0, attempts_ended = 0, first_attempt_at = NULL, \
                ready_at = excluded.ready_at, start_deadline = excluded.start_deadline, created_at = excluded.created_at",
        )
        .bind(i)
        .bind(r)
        .bind(i64::from(t.op))
        .bind(&t.name)
        .bind(to_json(key, "task input", &t.input)?)
        .bind(to_json(key, "task options", &t.options)?)
        .bind(queue_of(&t.options))
        .bind(t.options.priority)
        .bind(now)
        .bind(t.start_within_ms().map(|ms| now.saturating_add(ms)))
        .execute(&mut *w.tx)
        .await?;
    }
    Ok(reset_id)
}
