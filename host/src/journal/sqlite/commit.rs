//! The group commit on SQLite ([`CommitStore`]): the batch's writes one
//! after the other in one write transaction, each applied only if its
//! [`fence`](super::fence) holds (the run's lease still held): its events
//! (and the run attributes they set),
//! consumed signals, journaled task outcomes, new activity tasks and child
//! runs, and its transition (with the clean-up of a cancelled run, and
//! what ending a run of a family does: see [`family`](super::family)). A transition
//! releases the lease, so a later write of the same run in the batch no
//! longer holds it.

use std::sync::LazyLock;

use async_trait::async_trait;
use sqlx::Row;

use super::fence::{self, FENCE};
use super::{wake, SqliteJournal, WriteTx};
use crate::journal::codec::{attribute_sets, journaled_ops, queue_of, to_json, transition_columns};
use crate::journal::{CommitStore, JournalError, RunKey, RunWrite, Transition, Wake, WakeKind};

/// Inserts one activity task (one that exists is kept unless a reset
/// superseded it: `task_sql::REPLACE_SUPERSEDED`).
static INSERT_TASK: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "INSERT INTO activity_tasks (instance, run_id, op, name, input, options, queue, priority, \
                                     ready_at, created_at, attempts_started, attempts_ended, \
                                     first_attempt_at, start_deadline) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
         ON CONFLICT (instance, run_id, op) DO UPDATE SET {REPLACE_SUPERSEDED}",
        REPLACE_SUPERSEDED = crate::journal::task_sql::REPLACE_SUPERSEDED,
    )
});

/// Touches the run `?1`/`?2` at `?5` if its lease is still `?3`/`?4`.
static TOUCH_FENCED: LazyLock<String> = LazyLock::new(|| format!("UPDATE runs SET updated_at = ?5 WHERE {FENCE}"));

#[async_trait]
impl CommitStore for SqliteJournal {
    async fn commit(&self, writes: &[RunWrite]) -> Result<Vec<bool>, JournalError> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.now_ms();
        let mut w = self.write().await?;
        let mut applied = Vec::with_capacity(writes.len());
        for write in writes {
            applied.push(w.apply(write, now).await?);
        }
        self.finish(w).await?;
        Ok(applied)
    }
}

impl WriteTx<'_> {
    /// Applies one write if its fence holds; returns whether it did.
    async fn apply(&mut self, w: &RunWrite, now: i64) -> Result<bool, JournalError> {
        let held = fence::bind(sqlx::query(&TOUCH_FENCED), &w.key, &w.lease)
            .bind(now)
            .execute(&mut *self.tx)
            .await?
            .rows_affected()
            == 1;
        if !held {
            return Ok(false);
        }
        let (inst, rid) = (&w.key.instance, &w.key.run_id);
        for (seq, body) in &w.events {
            sqlx::query(
                "INSERT INTO events (instance, run_id, seq, kind, body, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .bind(inst)
            .bind(rid)
            .bind(seq)
            .bind(body.kind())
            .bind(to_json(&w.key, "event body", body)?)
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        }
        for (key, value) in attribute_sets(w) {
            sqlx::query(
                "INSERT INTO run_attributes (instance, run_id, key, value, created_at) \
                 SELECT ?1, ?2, ?3, ?4, created_at FROM runs WHERE instance = ?1 AND run_id = ?2 \
                 ON CONFLICT (instance, run_id, key) DO UPDATE SET value = excluded.value",
            )
            .bind(inst)
            .bind(rid)
            .bind(key)
            .bind(value)
            .execute(&mut *self.tx)
            .await?;
        }
        for t in &w.tasks {
            sqlx::query(&INSERT_TASK)
            .bind(inst)
            .bind(rid)
            .bind(i64::from(t.op))
            .bind(&t.name)
            .bind(to_json(&w.key, "task input", &t.input)?)
            .bind(to_json(&w.key, "task options", &t.options)?)
            .bind(queue_of(&t.options))
            .bind(t.options.priority)
            .bind(t.attempts.ready_at.map_or(now, |at| at.timestamp_millis()))
            .bind(now)
            .bind(i64::from(t.attempts.started))
            .bind(i64::from(t.attempts.ended))
            .bind(t.attempts.first_at.map(|at| at.timestamp_millis()))
            .bind(t.start_within_ms().map(|ms| now.saturating_add(ms)))
            .execute(&mut *self.tx)
            .await?;
        }
        if !w.tasks.is_empty() {
            self.wakes.push(Wake { instance: inst.clone(), run_id: String::new(), kind: WakeKind::Task });
        }
        self.insert_children(w, now).await?;
        for id in &w.consumed_signals {
            sqlx::query(
                "UPDATE signals SET consumed_at = ?4 \
                 WHERE id = ?3 AND instance = ?1 AND run_id = ?2 AND consumed_at IS NULL",
            )
            .bind(inst)
            .bind(rid)
            .bind(id)
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        }
        for op in &w.dropped_tasks {
            // A claimed one goes on until its run ends.
            sqlx::query("DELETE FROM activity_tasks WHERE instance = ?1 AND run_id = ?2 AND op = ?3 AND state = 'pending'")
                .bind(inst)
                .bind(rid)
                .bind(i64::from(*op))
                .execute(&mut *self.tx)
                .await?;
        }
        for op in journaled_ops(w) {
            sqlx::query("UPDATE activity_tasks SET journaled = 1 WHERE instance = ?1 AND run_id = ?2 AND op = ?3")
                .bind(inst)
                .bind(rid)
                .bind(i64::from(op))
                .execute(&mut *self.tx)
                .await?;
        }
        if let Some(t) = &w.transition {
            self.transition(&w.key, t, now).await?;
        }
        self.continue_run(w, now).await?;
        if w.ends_family() {
            self.end_family(&w.key, now).await?;
        }
        Ok(true)
    }

    /// Applies a state transition and releases the lease.
    async fn transition(&mut self, key: &RunKey, t: &Transition, now: i64) -> Result<(), JournalError> {
        let c = transition_columns(key, t)?;
        let (state, output, error, seen_gen) = (c.state, c.output, c.error, c.seen_gen);
        let wake_at = c.wake_at.map(|w| w.timestamp_millis());
        let row = sqlx::query(
            "UPDATE runs SET state = ?3, output = ?4, error = ?5, lease_owner = NULL, \
                    lease_expires_at = NULL, updated_at = ?8, \
                    wake_at = CASE WHEN ?7 IS NOT NULL AND wake_gen <> ?7 THEN ?8 ELSE ?6 END \
             WHERE instance = ?1 AND run_id = ?2 \
             RETURNING (state = 'suspended' AND wake_at <= ?8) AS due",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .bind(state.as_str())
        .bind(output)
        .bind(error)
        .bind(wake_at)
        .bind(seen_gen)
        .bind(now)
        .fetch_one(&mut *self.tx)
        .await?;
        if row.try_get::<Option<bool>, _>("due")?.unwrap_or(false) {
            self.wakes.push(wake(WakeKind::Run, key));
        }
        if matches!(t, Transition::Cancel { .. } | Transition::Continue { .. }) {
            sqlx::query(
                "DELETE FROM activity_tasks WHERE instance = ?1 AND run_id = ?2 AND state IN ('pending', 'claimed')",
            )
            .bind(&key.instance)
            .bind(&key.run_id)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }
}
