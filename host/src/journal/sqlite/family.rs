//! Child workflows on SQLite, inside a write's transaction of the group
//! commit: the child runs a parent's write starts are inserted with it
//! (each once: a parent's replay inserts nothing), and a write that ends a
//! run of a family wakes the run's parent and applies the parent-close
//! policy of its unfinished children, so neither can be lost to a crash in
//! between.

use std::sync::LazyLock;

use sqlx::Row;

use super::{wake, WriteTx};
use crate::journal::codec::{to_json, FINAL_STATES_SQL};
use crate::journal::{JournalError, RunKey, RunWrite, WakeKind};

/// Wakes the run's parent, if it has one that has not ended (as a signal
/// does).
static WAKE_PARENT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE runs SET wake_gen = wake_gen + 1, updated_at = ?3, \
                wake_at = CASE WHEN state IN ('pending', 'suspended') THEN ?3 ELSE wake_at END \
         WHERE instance = ?1 \
           AND run_id = (SELECT parent_run_id FROM runs WHERE instance = ?1 AND run_id = ?2) \
           AND state NOT IN {final_states} \
         RETURNING run_id",
        final_states = *FINAL_STATES_SQL
    )
});

/// Requests the cancellation or the termination of the run's unfinished
/// children by their parent-close policy (as `cancel` and `terminate`
/// record theirs).
static CLOSE_CHILDREN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE runs SET \
                graceful_cancel_at = CASE WHEN parent_close = 'cancel' \
                                          THEN COALESCE(graceful_cancel_at, ?3) ELSE graceful_cancel_at END, \
                cancel_requested_at = CASE WHEN parent_close = 'terminate' \
                                           THEN COALESCE(cancel_requested_at, ?3) ELSE cancel_requested_at END, \
                wake_gen = wake_gen + 1, wake_at = ?3, updated_at = ?3 \
         WHERE instance = ?1 AND parent_run_id = ?2 \
           AND parent_close IN ('cancel', 'terminate') AND state NOT IN {final_states} \
         RETURNING run_id",
        final_states = *FINAL_STATES_SQL
    )
});

impl WriteTx<'_> {
    /// Inserts the child runs `w` starts, pending and due now, each key
    /// once (a run that exists is left as it is).
    pub(super) async fn insert_children(&mut self, w: &RunWrite, now: i64) -> Result<(), JournalError> {
        for c in &w.children {
            let inserted = sqlx::query(
                "INSERT OR IGNORE INTO runs (instance, run_id, workflow, module_hash, input, state, wake_at, \
                                            created_at, updated_at, trace_context, parent_run_id, parent_op, parent_close) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6, ?6, ?7, ?8, ?9, ?10)",
            )
            .bind(&c.run.key.instance)
            .bind(&c.run.key.run_id)
            .bind(&c.run.workflow)
            .bind(&c.run.module_hash)
            .bind(to_json(&c.run.key, "input", &c.run.input)?)
            .bind(now)
            .bind(c.run.trace_context.as_deref())
            .bind(&w.key.run_id)
            .bind(i64::from(c.parent_op))
            .bind(c.parent_close.as_str())
            .execute(&mut *self.tx)
            .await?
            .rows_affected()
                == 1;
            if inserted {
                self.wakes.push(wake(WakeKind::Run, &c.run.key));
            }
        }
        Ok(())
    }

    /// After the final transition of the run `key`, which may have a
    /// parent or children: wakes its parent and applies its children's
    /// parent-close policy.
    pub(super) async fn end_family(&mut self, key: &RunKey, now: i64) -> Result<(), JournalError> {
        for (sql, kind) in [(&*WAKE_PARENT, WakeKind::Run), (&*CLOSE_CHILDREN, WakeKind::Cancel)] {
            let rows = sqlx::query(sql).bind(&key.instance).bind(&key.run_id).bind(now).fetch_all(&mut *self.tx).await?;
            for row in rows {
                let run_id: String = row.try_get("run_id")?;
                self.wakes.push(wake(kind.clone(), &RunKey::new(key.instance.clone(), run_id)));
            }
        }
        Ok(())
    }
}
