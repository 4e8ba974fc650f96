//! Child workflows on Postgres, inside the general path of the group
//! commit: the child runs a parent's write starts are inserted in its
//! transaction (each once: a parent's replay inserts nothing), and a
//! write that ends a run of a family wakes the run's parent and applies
//! the parent-close policy of its unfinished children in the same
//! transaction, so neither can be lost to a crash in between.

use std::sync::LazyLock;

use sqlx::Row;

use super::codec::wake_payload;
use super::{notify_all, Tx};
use crate::journal::codec::{to_json, FINAL_STATES_SQL};
use crate::journal::{JournalError, RunWrite, WakeKind};

/// Column arrays of the child runs of the applied writes.
#[derive(Default)]
pub(super) struct ChildRows {
    instance: Vec<String>,
    run_id: Vec<String>,
    workflow: Vec<String>,
    module_hash: Vec<String>,
    input: Vec<String>,
    trace_context: Vec<Option<String>>,
    parent_run_id: Vec<String>,
    parent_op: Vec<i64>,
    parent_close: Vec<&'static str>,
}

impl ChildRows {
    /// Adds the child runs `w` starts.
    pub(super) fn push(&mut self, w: &RunWrite) -> Result<(), JournalError> {
        for c in &w.children {
            self.instance.push(c.run.key.instance.clone());
            self.run_id.push(c.run.key.run_id.clone());
            self.workflow.push(c.run.workflow.clone());
            self.module_hash.push(c.run.module_hash.clone());
            self.input.push(to_json(&c.run.key, "input", &c.run.input)?);
            self.trace_context.push(c.run.trace_context.clone());
            self.parent_run_id.push(w.key.run_id.clone());
            self.parent_op.push(i64::from(c.parent_op));
            self.parent_close.push(c.parent_close.as_str());
        }
        Ok(())
    }
}

/// Inserts the child runs, pending and due now, each key once (a run
/// that exists is left as it is), and notifies the dispatchers of those
/// inserted. Returns how many it inserted.
pub(super) async fn insert_children(tx: &mut Tx, c: ChildRows) -> Result<u64, JournalError> {
    if c.run_id.is_empty() {
        return Ok(0);
    }
    let rows = sqlx::query(
        "INSERT INTO runs (instance, run_id, workflow, module_hash, input, trace_context, state, wake_at, \
                           parent_run_id, parent_op, parent_close) \
         SELECT instance, run_id, workflow, module_hash, input, trace_context, 'pending', now(), \
                parent_run_id, parent_op, parent_close \
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
                     $8::bigint[], $9::text[]) \
           AS u(instance, run_id, workflow, module_hash, input, trace_context, parent_run_id, parent_op, parent_close) \
         ON CONFLICT (instance, run_id) DO NOTHING \
         RETURNING instance, run_id",
    )
    .bind(c.instance)
    .bind(c.run_id)
    .bind(c.workflow)
    .bind(c.module_hash)
    .bind(c.input)
    .bind(c.trace_context)
    .bind(c.parent_run_id)
    .bind(c.parent_op)
    .bind(c.parent_close)
    .fetch_all(&mut **tx)
    .await?;
    let mut payloads = Vec::with_capacity(rows.len());
    for row in rows {
        let (instance, run_id): (String, String) = (row.try_get("instance")?, row.try_get("run_id")?);
        payloads.push(wake_payload(&WakeKind::Run, &instance, &run_id));
    }
    let inserted = payloads.len() as u64;
    notify_all(tx, payloads).await?;
    Ok(inserted)
}

/// Wakes the unfinished parents of the ended runs (as a signal does).
static WAKE_PARENTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH ended AS ( \
             SELECT DISTINCT c.instance, c.parent_run_id FROM runs c \
             JOIN UNNEST($1::text[], $2::text[]) AS u(instance, run_id) \
               ON c.instance = u.instance AND c.run_id = u.run_id \
             WHERE c.parent_run_id IS NOT NULL) \
         UPDATE runs p SET wake_gen = p.wake_gen + 1, updated_at = now(), \
                wake_at = CASE WHEN p.state IN ('pending', 'suspended') THEN now() ELSE p.wake_at END \
         FROM ended e WHERE p.instance = e.instance AND p.run_id = e.parent_run_id \
           AND p.state NOT IN {final_states} \
         RETURNING p.instance, p.run_id",
        final_states = *FINAL_STATES_SQL
    )
});

/// Requests the cancellation or the termination of the unfinished
/// children of the ended runs, by their parent-close policy (as
/// `cancel` and `terminate` record theirs).
static CLOSE_CHILDREN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE runs c SET \
                graceful_cancel_at = CASE WHEN c.parent_close = 'cancel' \
                                          THEN COALESCE(c.graceful_cancel_at, now()) ELSE c.graceful_cancel_at END, \
                cancel_requested_at = CASE WHEN c.parent_close = 'terminate' \
                                           THEN COALESCE(c.cancel_requested_at, now()) ELSE c.cancel_requested_at END, \
                wake_gen = c.wake_gen + 1, wake_at = now(), updated_at = now() \
         FROM UNNEST($1::text[], $2::text[]) AS u(instance, run_id) \
         WHERE c.instance = u.instance AND c.parent_run_id = u.run_id \
           AND c.parent_close IN ('cancel', 'terminate') AND c.state NOT IN {final_states} \
         RETURNING c.instance, c.run_id",
        final_states = *FINAL_STATES_SQL
    )
});

/// The runs ended by the applied writes that may have a parent or
/// children.
#[derive(Default)]
pub(super) struct EndedRows {
    instance: Vec<String>,
    run_id: Vec<String>,
}

impl EndedRows {
    /// Adds `w`'s run if the write ends a run of a family.
    pub(super) fn push(&mut self, w: &RunWrite) {
        if w.ends_family() {
            self.instance.push(w.key.instance.clone());
            self.run_id.push(w.key.run_id.clone());
        }
    }
}

/// For the ended runs (after their transitions): wakes their parents
/// and applies their children's parent-close policy, with the
/// notifications of both.
pub(super) async fn end_families(tx: &mut Tx, e: EndedRows) -> Result<(), JournalError> {
    if e.run_id.is_empty() {
        return Ok(());
    }
    let woken = sqlx::query(&WAKE_PARENTS).bind(&e.instance).bind(&e.run_id).fetch_all(&mut **tx).await?;
    let closed = sqlx::query(&CLOSE_CHILDREN).bind(&e.instance).bind(&e.run_id).fetch_all(&mut **tx).await?;
    let mut payloads = Vec::with_capacity(woken.len() + closed.len());
    for (rows, kind) in [(woken, WakeKind::Run), (closed, WakeKind::Cancel)] {
        for row in rows {
            let (instance, run_id): (String, String) = (row.try_get("instance")?, row.try_get("run_id")?);
            payloads.push(wake_payload(&kind, &instance, &run_id));
        }
    }
    notify_all(tx, payloads).await
}
