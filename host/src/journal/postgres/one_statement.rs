//! The common group commit in one statement, run in autocommit: one round
//! trip and one WAL flush for the whole batch instead of `BEGIN`, the fence,
//! the rows, the transitions and `COMMIT` one after the other.
//!
//! One data-modifying `WITH` query locks the runs whose lease still holds
//! (the [`fence`](super::fence), in key order), applies their transitions
//! to those same rows, inserts the events of the writes that held, marks
//! their consumed
//! signals and journaled task outcomes, and notifies runs a suspension left
//! due. It is atomic like the transaction it replaces: an event `seq` that
//! exists already fails all of it.
//!
//! Used when every write of the batch is of a different run and none
//! inserts activity tasks or child runs, cancels or continues its run
//! (continue-as-new), or ends a run
//! that has a parent or children (those take the general path, whose
//! statements a single query could not order).

use std::sync::LazyLock;

use sqlx::{PgPool, Row};

use super::codec::{wake_payload, WAKE_CHANNEL};
use super::fence::held;
use crate::journal::codec::{attribute_sets, journaled_ops, to_json, transition_columns};
use crate::journal::{JournalError, RunWrite, Transition, WakeKind};

/// True when [`commit`] can apply `writes`.
pub(super) fn applies_to(writes: &[RunWrite]) -> bool {
    let mut keys = std::collections::HashSet::with_capacity(writes.len());
    writes.iter().all(|w| {
        w.tasks.is_empty()
            && w.dropped_tasks.is_empty()
            && !matches!(w.transition, Some(Transition::Cancel { .. } | Transition::Continue { .. }))
            && w.children.is_empty()
            && attribute_sets(w).is_empty()
            && !w.ends_family()
            && keys.insert(&w.key)
    })
}

/// Column arrays of the writes, one row per write (`idx` is its position).
#[derive(Default)]
struct WriteRows {
    instance: Vec<String>,
    run_id: Vec<String>,
    owner: Vec<String>,
    token: Vec<i64>,
    idx: Vec<i64>,
    state: Vec<Option<&'static str>>,
    output: Vec<Option<String>>,
    error: Vec<Option<String>>,
    wake_at: Vec<Option<chrono::DateTime<chrono::Utc>>>,
    seen_gen: Vec<Option<i64>>,
    payload: Vec<String>,
}

/// Column arrays of rows that belong to a write (`idx`): events, consumed
/// signals, journaled task outcomes.
#[derive(Default)]
struct Owned<T> {
    instance: Vec<String>,
    run_id: Vec<String>,
    idx: Vec<i64>,
    cols: T,
}

impl<T> Owned<T> {
    fn push(&mut self, w: &RunWrite, idx: usize) {
        self.instance.push(w.key.instance.clone());
        self.run_id.push(w.key.run_id.clone());
        self.idx.push(idx as i64);
    }
}

/// The whole commit, in one statement.
static STATEMENT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH u AS ( \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], \
                                  $6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::bigint[], $11::text[]) \
               AS u(instance, run_id, owner, token, idx, state, output, error, wake_at, seen_gen, payload)), \
         locked AS ({held}), \
         upd AS ( \
             UPDATE runs r SET updated_at = now(), \
                    state = COALESCE(l.state, r.state), \
                    output = CASE WHEN l.state IS NULL THEN r.output ELSE l.output END, \
                    error = CASE WHEN l.state IS NULL THEN r.error ELSE l.error END, \
                    lease_owner = CASE WHEN l.state IS NULL THEN r.lease_owner END, \
                    lease_expires_at = CASE WHEN l.state IS NULL THEN r.lease_expires_at END, \
                    wake_at = CASE WHEN l.state IS NULL THEN r.wake_at \
                                   WHEN l.seen_gen IS NOT NULL AND r.wake_gen <> l.seen_gen THEN now() \
                                   ELSE l.wake_at END \
             FROM locked l WHERE r.instance = l.instance AND r.run_id = l.run_id \
             RETURNING l.idx, l.payload, \
                       (l.state IS NOT NULL AND r.state = 'suspended' AND r.wake_at <= now()) AS due), \
         ev AS ( \
             INSERT INTO events (instance, run_id, seq, kind, body) \
             SELECT e.instance, e.run_id, e.seq, e.kind, e.body \
             FROM UNNEST($12::text[], $13::text[], $14::bigint[], $15::bigint[], $16::text[], $17::text[]) \
                  AS e(instance, run_id, idx, seq, kind, body) \
             WHERE e.idx IN (SELECT idx FROM locked)), \
         sg AS ( \
             UPDATE signals s SET consumed_at = now() \
             FROM UNNEST($18::text[], $19::text[], $20::bigint[], $21::bigint[]) AS g(instance, run_id, idx, n) \
             WHERE s.id = g.n AND s.instance = g.instance AND s.run_id = g.run_id AND s.consumed_at IS NULL \
               AND g.idx IN (SELECT idx FROM locked)), \
         jn AS ( \
             UPDATE activity_tasks t SET journaled = TRUE \
             FROM UNNEST($22::text[], $23::text[], $24::bigint[], $25::bigint[]) AS g(instance, run_id, idx, n) \
             WHERE t.instance = g.instance AND t.run_id = g.run_id AND t.op = g.n \
               AND g.idx IN (SELECT idx FROM locked)) \
         SELECT idx, CASE WHEN due THEN pg_notify($26, payload) END AS notified FROM upd",
        held = held("u.*", "u")
    )
});

/// Applies `writes` (see [`applies_to`]); returns, per write, whether its
/// lease held and it was applied.
pub(super) async fn commit(pool: &PgPool, writes: &[RunWrite]) -> Result<Vec<bool>, JournalError> {
    let mut w = WriteRows::default();
    let mut ev: Owned<(Vec<i64>, Vec<&'static str>, Vec<String>)> = Owned::default();
    let mut sg: Owned<Vec<i64>> = Owned::default();
    let mut jn: Owned<Vec<i64>> = Owned::default();
    for (i, write) in writes.iter().enumerate() {
        let key = &write.key;
        w.instance.push(key.instance.clone());
        w.run_id.push(key.run_id.clone());
        w.owner.push(write.lease.owner.clone());
        w.token.push(write.lease.token);
        w.idx.push(i as i64);
        w.payload.push(wake_payload(&WakeKind::Run, &key.instance, &key.run_id));
        let columns = write.transition.as_ref().map(|t| transition_columns(key, t)).transpose()?;
        w.state.push(columns.as_ref().map(|c| c.state.as_str()));
        w.output.push(columns.as_ref().and_then(|c| c.output.clone()));
        w.error.push(columns.as_ref().and_then(|c| c.error.clone()));
        w.wake_at.push(columns.as_ref().and_then(|c| c.wake_at));
        w.seen_gen.push(columns.as_ref().and_then(|c| c.seen_gen));
        for (seq, body) in &write.events {
            ev.push(write, i);
            ev.cols.0.push(*seq);
            ev.cols.1.push(body.kind());
            ev.cols.2.push(to_json(key, "event body", body)?);
        }
        for id in &write.consumed_signals {
            sg.push(write, i);
            sg.cols.push(*id);
        }
        for op in journaled_ops(write) {
            jn.push(write, i);
            jn.cols.push(i64::from(op));
        }
    }
    let rows = sqlx::query(&STATEMENT)
        .bind(w.instance)
        .bind(w.run_id)
        .bind(w.owner)
        .bind(w.token)
        .bind(w.idx)
        .bind(w.state)
        .bind(w.output)
        .bind(w.error)
        .bind(w.wake_at)
        .bind(w.seen_gen)
        .bind(w.payload)
        .bind(ev.instance)
        .bind(ev.run_id)
        .bind(ev.idx)
        .bind(ev.cols.0)
        .bind(ev.cols.1)
        .bind(ev.cols.2)
        .bind(sg.instance)
        .bind(sg.run_id)
        .bind(sg.idx)
        .bind(sg.cols)
        .bind(jn.instance)
        .bind(jn.run_id)
        .bind(jn.idx)
        .bind(jn.cols)
        .bind(WAKE_CHANNEL)
        .fetch_all(pool)
        .await?;
    let mut applied = vec![false; writes.len()];
    for row in rows {
        let idx: i64 = row.try_get("idx")?;
        if let Some(a) = usize::try_from(idx).ok().and_then(|i| applied.get_mut(i)) {
            *a = true;
        }
    }
    Ok(applied)
}
