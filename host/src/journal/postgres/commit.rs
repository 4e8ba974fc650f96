//! The group commit on Postgres ([`CommitStore`]). A batch of writes to
//! different runs that neither insert activity tasks nor cancel goes
//! through [`one_statement`](super::one_statement) (one round trip); any
//! other batch takes the general path here, in one transaction: the
//! [`fence`](super::fence) (the runs whose lease still holds, locked in key
//! order), then the rows of the writes that held (events, consumed signals,
//! journaled task outcomes, the run attributes their events set), their
//! new activity tasks and child runs, and
//! their transitions (with the notifications of runs left due, the clean-up
//! of cancelled ones, and what ending a run of a family does: see
//! [`family`](super::family)).

use std::collections::BTreeSet;
use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

use super::codec::{plan_applied, wake_payload};
use super::fence::{held, LeaseArrays, LEASES};
use super::continuation;
use super::family::{self, ChildRows, EndedRows};
use super::{notify_all, one_statement, PostgresJournal, Tx};
use crate::journal::codec::{attribute_sets, journaled_ops, queue_of, to_json, transition_columns};
use crate::journal::{CommitStore, JournalError, RunKey, RunWrite, Transition, WakeKind};

#[async_trait]
impl CommitStore for PostgresJournal {
    async fn commit(&self, writes: &[RunWrite]) -> Result<Vec<bool>, JournalError> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        if one_statement::applies_to(writes) {
            return self.commits.counted(one_statement::commit(&self.pool, writes).await);
        }
        // A write that ends a run of a family also locks its parent or its
        // children, which the fence did not lock in key order: a child and
        // its parent ending at once in two batches can deadlock. Postgres
        // aborts one of them, which changed nothing and is applied again.
        let mut deadlocks = 0;
        loop {
            match self.commit_general(writes).await {
                Err(e) if is_deadlock(&e) && deadlocks < MAX_DEADLOCK_RETRIES => {
                    deadlocks += 1;
                    tracing::debug!(deadlocks, "group commit aborted by a deadlock; applying it again");
                }
                done => return done,
            }
        }
    }
}

/// How often a batch aborted by a deadlock is applied again.
const MAX_DEADLOCK_RETRIES: u32 = 5;

/// Whether Postgres aborted the transaction to break a deadlock.
fn is_deadlock(e: &JournalError) -> bool {
    match e {
        JournalError::Database(sqlx::Error::Database(db)) => db.code().as_deref() == Some("40P01"),
        _ => false,
    }
}

impl PostgresJournal {
    /// The general path of [`CommitStore::commit`]: one transaction.
    async fn commit_general(&self, writes: &[RunWrite]) -> Result<Vec<bool>, JournalError> {
        let mut tx = self.pool.begin().await?;
        let held = fence(&mut tx, writes).await?;
        let applied = plan_applied(writes, &held);
        let mut batch = Batch::build(writes, &applied)?;
        write_rows(&mut tx, &mut batch).await?;
        write_attributes(&mut tx, std::mem::take(&mut batch.attributes)).await?;
        insert_tasks(&mut tx, batch.tasks).await?;
        let children = family::insert_children(&mut tx, batch.children).await?;
        drop_tasks(&mut tx, batch.dropped).await?;
        apply_transitions(&mut tx, batch.transitions).await?;
        let continued: Vec<&RunWrite> = writes.iter().zip(&applied).filter(|(_, a)| **a).map(|(w, _)| w).collect();
        continuation::continue_runs(&mut tx, &continued).await?;
        family::end_families(&mut tx, batch.ended).await?;
        self.commit_tx(tx).await?;
        self.plans.created(children, &self.pool);
        Ok(applied)
    }
}

/// Locks the runs whose lease still holds and touches their `updated_at`.
static FENCE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH locked AS ({held}), \
         touched AS ( \
             UPDATE runs r SET updated_at = now() \
             FROM (SELECT DISTINCT instance, run_id FROM locked) l \
             WHERE r.instance = l.instance AND r.run_id = l.run_id) \
         SELECT idx FROM locked",
        held = held("r.instance, r.run_id, u.idx", LEASES)
    )
});

/// Locks the runs of `writes` whose lease (owner and token) still holds
/// and touches their `updated_at`, in one statement; returns, per write,
/// whether it held.
async fn fence(tx: &mut Tx, writes: &[RunWrite]) -> Result<Vec<bool>, JournalError> {
    let arrays = LeaseArrays::new(writes.iter().map(|w| (&w.key, &w.lease)));
    let rows = arrays.bind(sqlx::query(&FENCE)).fetch_all(&mut **tx).await?;
    let mut held = vec![false; writes.len()];
    for row in rows {
        let idx: i64 = row.try_get("idx")?;
        if let Some(h) = usize::try_from(idx).ok().and_then(|i| held.get_mut(i)) {
            *h = true;
        }
    }
    Ok(held)
}

/// Appends the batch's events, marks its consumed signals and journaled
/// task outcomes, in one statement; a `seq` that exists already fails it
/// all.
async fn write_rows(tx: &mut Tx, b: &mut Batch) -> Result<(), JournalError> {
    if b.events.seq.is_empty() && b.signals.n.is_empty() && b.journaled.n.is_empty() {
        return Ok(());
    }
    let e = std::mem::take(&mut b.events);
    let (sg, jn) = (std::mem::take(&mut b.signals), std::mem::take(&mut b.journaled));
    sqlx::query(
        "WITH ev AS ( \
             INSERT INTO events (instance, run_id, seq, kind, body) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[])), \
         sg AS ( \
             UPDATE signals s SET consumed_at = now() \
             FROM UNNEST($6::text[], $7::text[], $8::bigint[]) AS u(instance, run_id, n) \
             WHERE s.id = u.n AND s.instance = u.instance AND s.run_id = u.run_id AND s.consumed_at IS NULL), \
         jn AS ( \
             UPDATE activity_tasks t SET journaled = TRUE \
             FROM UNNEST($9::text[], $10::text[], $11::bigint[]) AS u(instance, run_id, n) \
             WHERE t.instance = u.instance AND t.run_id = u.run_id AND t.op = u.n) \
         SELECT 1",
    )
    .bind(e.instance)
    .bind(e.run_id)
    .bind(e.seq)
    .bind(e.kind)
    .bind(e.body)
    .bind(sg.instance)
    .bind(sg.run_id)
    .bind(sg.n)
    .bind(jn.instance)
    .bind(jn.run_id)
    .bind(jn.n)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Column arrays of the applied writes' events.
#[derive(Default)]
struct EventRows {
    instance: Vec<String>,
    run_id: Vec<String>,
    seq: Vec<i64>,
    kind: Vec<&'static str>,
    body: Vec<String>,
}

/// Column arrays of the applied writes' activity tasks.
#[derive(Default)]
struct TaskRows {
    instance: Vec<String>,
    run_id: Vec<String>,
    op: Vec<i64>,
    name: Vec<String>,
    input: Vec<String>,
    options: Vec<String>,
    queue: Vec<String>,
    priority: Vec<i32>,
    started: Vec<i32>,
    ended: Vec<i32>,
    first_at: Vec<Option<DateTime<Utc>>>,
    ready_at: Vec<Option<DateTime<Utc>>>,
    start_within_ms: Vec<Option<i64>>,
}

/// Column arrays of `(instance, run_id, number)` references: consumed
/// signals, journaled task outcomes.
#[derive(Default)]
struct RefRows {
    instance: Vec<String>,
    run_id: Vec<String>,
    n: Vec<i64>,
}

/// Column arrays of the applied transitions.
#[derive(Default)]
struct TransitionRows {
    instance: Vec<String>,
    run_id: Vec<String>,
    state: Vec<&'static str>,
    output: Vec<Option<String>>,
    error: Vec<Option<String>>,
    wake_at: Vec<Option<DateTime<Utc>>>,
    seen_gen: Vec<Option<i64>>,
    cancel: Vec<bool>,
}

/// Everything a batch writes, table by table.
#[derive(Default)]
struct Batch {
    events: EventRows,
    tasks: TaskRows,
    dropped: RefRows,
    signals: RefRows,
    journaled: RefRows,
    transitions: TransitionRows,
    children: ChildRows,
    ended: EndedRows,
    attributes: AttributeRows,
}

/// Column arrays of the attributes the applied writes set.
#[derive(Default)]
struct AttributeRows {
    instance: Vec<String>,
    run_id: Vec<String>,
    key: Vec<String>,
    value: Vec<String>,
}

impl Batch {
    /// Gathers the rows of the applied writes.
    fn build(writes: &[RunWrite], applied: &[bool]) -> Result<Self, JournalError> {
        let mut b = Batch::default();
        for (w, _) in writes.iter().zip(applied).filter(|(_, a)| **a) {
            let (inst, rid) = (&w.key.instance, &w.key.run_id);
            for (seq, body) in &w.events {
                b.events.instance.push(inst.clone());
                b.events.run_id.push(rid.clone());
                b.events.seq.push(*seq);
                b.events.kind.push(body.kind());
                b.events.body.push(to_json(&w.key, "event body", body)?);
            }
            for t in &w.tasks {
                b.tasks.instance.push(inst.clone());
                b.tasks.run_id.push(rid.clone());
                b.tasks.op.push(i64::from(t.op));
                b.tasks.name.push(t.name.clone());
                b.tasks.input.push(to_json(&w.key, "task input", &t.input)?);
                b.tasks.options.push(to_json(&w.key, "task options", &t.options)?);
                b.tasks.queue.push(queue_of(&t.options).to_string());
                b.tasks.priority.push(t.options.priority);
                b.tasks.started.push(i32::try_from(t.attempts.started).unwrap_or(i32::MAX));
                b.tasks.ended.push(i32::try_from(t.attempts.ended).unwrap_or(i32::MAX));
                b.tasks.first_at.push(t.attempts.first_at);
                b.tasks.ready_at.push(t.attempts.ready_at);
                b.tasks.start_within_ms.push(t.start_within_ms());
            }
            for id in &w.consumed_signals {
                b.signals.push(inst, rid, *id);
            }
            for op in &w.dropped_tasks {
                b.dropped.push(inst, rid, i64::from(*op));
            }
            for op in journaled_ops(w) {
                b.journaled.push(inst, rid, i64::from(op));
            }
            if let Some(t) = &w.transition {
                b.transitions.push(&w.key, t)?;
            }
            b.children.push(w)?;
            b.ended.push(w);
            for (key, value) in attribute_sets(w) {
                b.attributes.instance.push(inst.clone());
                b.attributes.run_id.push(rid.clone());
                b.attributes.key.push(key.to_string());
                b.attributes.value.push(value.to_string());
            }
        }
        Ok(b)
    }
}

impl RefRows {
    fn push(&mut self, instance: &str, run_id: &str, n: i64) {
        self.instance.push(instance.to_string());
        self.run_id.push(run_id.to_string());
        self.n.push(n);
    }
}

impl TransitionRows {
    fn push(&mut self, key: &RunKey, t: &Transition) -> Result<(), JournalError> {
        let c = transition_columns(key, t)?;
        self.instance.push(key.instance.clone());
        self.run_id.push(key.run_id.clone());
        self.state.push(c.state.as_str());
        self.output.push(c.output);
        self.error.push(c.error);
        self.wake_at.push(c.wake_at);
        self.seen_gen.push(c.seen_gen);
        // A cancelled or continued run's tasks are dropped.
        self.cancel.push(matches!(t, Transition::Cancel { .. } | Transition::Continue { .. }));
        Ok(())
    }
}

/// Writes the attributes the batch's events set (a key set again gets
/// the new value), with their run's creation time.
async fn write_attributes(tx: &mut Tx, a: AttributeRows) -> Result<(), JournalError> {
    if a.key.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO run_attributes (instance, run_id, key, value, created_at) \
         SELECT u.instance, u.run_id, u.key, u.value, r.created_at \
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[]) AS u(instance, run_id, key, value) \
         JOIN runs r ON r.instance = u.instance AND r.run_id = u.run_id \
         ON CONFLICT (instance, run_id, key) DO UPDATE SET value = EXCLUDED.value",
    )
    .bind(a.instance)
    .bind(a.run_id)
    .bind(a.key)
    .bind(a.value)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Inserts a batch's activity tasks (bound as arrays), the first of each
/// key; one that exists is kept unless a reset superseded it
/// (`task_sql::REPLACE_SUPERSEDED`).
static INSERT_TASKS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO activity_tasks (instance, run_id, op, name, input, options, queue, priority, \
                                     attempts_started, attempts_ended, first_attempt_at, ready_at, \
                                     start_deadline) \
         SELECT DISTINCT ON (instance, run_id, op) instance, run_id, op, name, input, options, queue, priority, \
                started, ended, first_at, COALESCE(ready_at, now()), now() + start_within * interval '1 millisecond' \
         FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], \
                     $6::text[], $7::text[], $8::int4[], $9::int4[], $10::int4[], $11::timestamptz[], \
                     $12::timestamptz[], $13::bigint[]) WITH ORDINALITY \
           AS u(instance, run_id, op, name, input, options, queue, priority, started, ended, first_at, ready_at, \
                start_within, n) \
         ORDER BY instance, run_id, op, n \
         ON CONFLICT (instance, run_id, op) DO UPDATE SET {REPLACE_SUPERSEDED}",
        REPLACE_SUPERSEDED = crate::journal::task_sql::REPLACE_SUPERSEDED,
    )
});

/// Inserts the batch's activity tasks and notifies each instance once. A
/// task that exists already is kept (a replay re-queues a call whose
/// first attempt was lost with its host; an earlier re-queue wins), unless
/// a reset superseded it: then it is replaced, keeping its claim token.
async fn insert_tasks(tx: &mut Tx, t: TaskRows) -> Result<(), JournalError> {
    if t.op.is_empty() {
        return Ok(());
    }
    let instances: BTreeSet<String> = t.instance.iter().cloned().collect();
    sqlx::query(&INSERT_TASKS)
    .bind(t.instance)
    .bind(t.run_id)
    .bind(t.op)
    .bind(t.name)
    .bind(t.input)
    .bind(t.options)
    .bind(t.queue)
    .bind(t.priority)
    .bind(t.started)
    .bind(t.ended)
    .bind(t.first_at)
    .bind(t.ready_at)
    .bind(t.start_within_ms)
    .execute(&mut **tx)
    .await?;
    notify_all(tx, instances.iter().map(|i| wake_payload(&WakeKind::Task, i, "")).collect()).await
}

/// Drops the pending tasks of operations a delivered cancellation
/// completed (a claimed one goes on until its run ends).
async fn drop_tasks(tx: &mut Tx, d: RefRows) -> Result<(), JournalError> {
    if d.n.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "DELETE FROM activity_tasks t USING UNNEST($1::text[], $2::text[], $3::bigint[]) AS u(instance, run_id, n) \
         WHERE t.instance = u.instance AND t.run_id = u.run_id AND t.op = u.n AND t.state = 'pending'",
    )
    .bind(d.instance)
    .bind(d.run_id)
    .bind(d.n)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Applies the batch's transitions; notifies runs a suspension left due
/// (their `wake_gen` moved), and drops a cancelled run's pending tasks.
async fn apply_transitions(tx: &mut Tx, t: TransitionRows) -> Result<(), JournalError> {
    if t.state.is_empty() {
        return Ok(());
    }
    let cancelled = RefRows {
        instance: t.instance.iter().zip(&t.cancel).filter(|(_, c)| **c).map(|(i, _)| i.clone()).collect(),
        run_id: t.run_id.iter().zip(&t.cancel).filter(|(_, c)| **c).map(|(r, _)| r.clone()).collect(),
        n: t.cancel.iter().filter(|c| **c).map(|_| 0).collect(),
    };
    let due = sqlx::query(
        "UPDATE runs r SET state = u.state, output = u.output, error = u.error, \
                lease_owner = NULL, lease_expires_at = NULL, updated_at = now(), \
                wake_at = CASE WHEN u.seen_gen IS NOT NULL AND r.wake_gen <> u.seen_gen \
                               THEN now() ELSE u.wake_at END \
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
                     $6::timestamptz[], $7::bigint[]) \
              AS u(instance, run_id, state, output, error, wake_at, seen_gen) \
         WHERE r.instance = u.instance AND r.run_id = u.run_id \
         RETURNING r.instance, r.run_id, (r.state = 'suspended' AND r.wake_at <= now()) AS due",
    )
    .bind(t.instance)
    .bind(t.run_id)
    .bind(t.state)
    .bind(t.output)
    .bind(t.error)
    .bind(t.wake_at)
    .bind(t.seen_gen)
    .fetch_all(&mut **tx)
    .await?;
    let mut payloads = Vec::new();
    for row in due {
        if row.try_get::<Option<bool>, _>("due")?.unwrap_or(false) {
            let instance: String = row.try_get("instance")?;
            let run_id: String = row.try_get("run_id")?;
            payloads.push(wake_payload(&WakeKind::Run, &instance, &run_id));
        }
    }
    notify_all(tx, payloads).await?;
    if cancelled.n.is_empty() {
        return Ok(());
    }
    let (inst, rid) = (cancelled.instance, cancelled.run_id);
    sqlx::query(
        "DELETE FROM activity_tasks t USING UNNEST($1::text[], $2::text[]) AS u(instance, run_id) \
         WHERE t.instance = u.instance AND t.run_id = u.run_id AND t.state IN ('pending', 'claimed')",
    )
    .bind(&inst)
    .bind(&rid)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
