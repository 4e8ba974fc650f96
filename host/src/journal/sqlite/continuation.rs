//! Continue-as-new on SQLite, inside a write's transaction of the group
//! commit: a write that ends its run `continued` creates the next run of
//! the chain with it (with the ended run's parent link and any
//! cancellation asked of it), names it in the ended run's `continued_to`,
//! and moves the signals the ended run did not take to it. SQLite's single
//! writer orders it with any cancellation or signal: one before is carried
//! over, one after finds the run `continued` and follows `continued_to`.

use super::{wake, WriteTx};
use std::sync::LazyLock;

use crate::journal::codec::to_json;
use crate::journal::continuation::{continuation_exists, LINK_CONTINUATION};
use crate::journal::{JournalError, RunWrite, Transition, WakeKind};

/// [`LINK_CONTINUATION`] with SQLite's placeholders.
static LINK_CONTINUATION_SQLITE: LazyLock<[String; 2]> = LazyLock::new(|| LINK_CONTINUATION.map(|s| s.replace('$', "?")));

impl WriteTx<'_> {
    /// Creates the next run of the chain if `w` continues its run.
    pub(super) async fn continue_run(&mut self, w: &RunWrite, now: i64) -> Result<(), JournalError> {
        let Some(Transition::Continue { next }) = &w.transition else { return Ok(()) };
        let inserted = sqlx::query(
            "INSERT OR IGNORE INTO runs (instance, run_id, workflow, module_hash, input, trace_context, state, wake_at, \
                                        created_at, updated_at, parent_run_id, parent_op, parent_close, \
                                        cancel_requested_at, graceful_cancel_at, continued_from, chain_root, chain_seq) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?7, ?7, \
                    p.parent_run_id, p.parent_op, p.parent_close, p.cancel_requested_at, p.graceful_cancel_at, \
                    p.run_id, ?8, ?9 \
             FROM runs p WHERE p.instance = ?1 AND p.run_id = ?10",
        )
        .bind(&next.run.key.instance)
        .bind(&next.run.key.run_id)
        .bind(&next.run.workflow)
        .bind(&next.run.module_hash)
        .bind(to_json(&next.run.key, "input", &next.run.input)?)
        .bind(next.run.trace_context.as_deref())
        .bind(now)
        .bind(&next.chain_root)
        .bind(next.chain_seq)
        .bind(&w.key.run_id)
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        if inserted != 1 {
            return Err(continuation_exists(&w.key, &next.run.key));
        }
        for statement in LINK_CONTINUATION_SQLITE.iter() {
            sqlx::query(statement)
                .bind(&w.key.instance)
                .bind(&w.key.run_id)
                .bind(&next.run.key.run_id)
                .execute(&mut *self.tx)
                .await?;
        }
        self.wakes.push(wake(WakeKind::Run, &next.run.key));
        Ok(())
    }
}
