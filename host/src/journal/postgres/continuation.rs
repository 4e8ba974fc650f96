//! Continue-as-new on Postgres, inside the general path of the group
//! commit: a write that ends its run `continued` creates the next run of
//! the chain in the same transaction (with the ended run's parent link and
//! any cancellation asked of it), names it in the ended run's
//! `continued_to`, and moves the signals the ended run did not take to it.
//! The ended run's row is locked by the fence, so a cancellation or a
//! signal that came before the commit is carried over, and one that comes
//! after finds the run `continued` and follows `continued_to`.

use super::codec::wake_payload;
use super::{notify_all, Tx};
use crate::journal::codec::to_json;
use crate::journal::continuation::{continuation_exists, LINK_CONTINUATION};
use crate::journal::{JournalError, RunWrite, Transition, WakeKind};

/// Applies the continuations of the applied writes.
pub(super) async fn continue_runs(tx: &mut Tx, writes: &[&RunWrite]) -> Result<(), JournalError> {
    let mut payloads = Vec::new();
    for w in writes {
        let Some(Transition::Continue { next }) = &w.transition else { continue };
        let inserted = sqlx::query(
            "INSERT INTO runs (instance, run_id, workflow, module_hash, input, trace_context, state, wake_at, \
                               parent_run_id, parent_op, parent_close, cancel_requested_at, graceful_cancel_at, \
                               continued_from, chain_root, chain_seq) \
             SELECT $1, $2, $3, $4, $5, $6, 'pending', now(), \
                    p.parent_run_id, p.parent_op, p.parent_close, p.cancel_requested_at, p.graceful_cancel_at, \
                    p.run_id, $7, $8 \
             FROM runs p WHERE p.instance = $1 AND p.run_id = $9 \
             ON CONFLICT (instance, run_id) DO NOTHING \
             RETURNING run_id",
        )
        .bind(&next.run.key.instance)
        .bind(&next.run.key.run_id)
        .bind(&next.run.workflow)
        .bind(&next.run.module_hash)
        .bind(to_json(&next.run.key, "input", &next.run.input)?)
        .bind(next.run.trace_context.as_deref())
        .bind(&next.chain_root)
        .bind(next.chain_seq)
        .bind(&w.key.run_id)
        .fetch_optional(&mut **tx)
        .await?;
        if inserted.is_none() {
            return Err(continuation_exists(&w.key, &next.run.key));
        }
        for statement in LINK_CONTINUATION {
            sqlx::query(statement)
                .bind(&w.key.instance)
                .bind(&w.key.run_id)
                .bind(&next.run.key.run_id)
                .execute(&mut **tx)
                .await?;
        }
        payloads.push(wake_payload(&WakeKind::Run, &next.run.key.instance, &next.run.key.run_id));
    }
    notify_all(tx, payloads).await
}
