//! The reads both stores answer alike, written once: one SQL text each
//! (numbered `$N` parameters, which SQLite takes as Postgres does), run on
//! the store's pool through [`ReadPool`] and decoded by the shared codec.
//! What differs between the stores, how a parameter (a timestamp above all)
//! is bound and how a row is decoded, is their [`ReadPool`] and
//! [`TsRow`] implementations'.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::query::Query;
use sqlx::{Database, Executor, IntoArguments, Pool};

use super::codec::{
    corrupt, event_from_row, heartbeat_from_row, outcome_from_row, run_from_row, signal_from_row, TsRow, RUN_COLUMNS,
};
use super::{
    ActivityHeartbeat, ChainRun, ChildRun, Event, InboxSignal, JournalError, OpenTask, ParentClose, RunKey, RunRecord, RunState, Snapshot,
    StoredModule, TaskOutcome,
};

/// A statement parameter, bound by each store its own way.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    /// Text.
    Text(&'a str),
    /// A 64-bit integer.
    Int(i64),
    /// A point in time (Postgres: `timestamptz`; SQLite: milliseconds since
    /// the epoch).
    Time(DateTime<Utc>),
    /// Nullable text.
    OptText(Option<&'a str>),
    /// A nullable 64-bit integer.
    OptInt(Option<i64>),
}

/// A store's pool as the shared reads use it: a statement and its
/// parameters in, rows out. (Public in name only, like the rest of this
/// module: the role traits' read methods are written over it.)
#[async_trait]
pub trait ReadPool: Send + Sync {
    /// Runs `sql` with `args` bound as `$1`, `$2`, ... and hands each row
    /// to `each`, in order, stopping at the first error.
    async fn for_each_row(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        each: &mut (dyn for<'r> FnMut(&'r dyn TsRow) -> Result<(), JournalError> + Send),
    ) -> Result<(), JournalError>;
}

/// How a store's database binds a parameter.
pub trait BindArg: Database {
    /// `q` with `arg` bound as its next parameter.
    fn bind_arg<'q>(q: Query<'q, Self, Self::Arguments<'q>>, arg: Arg<'q>) -> Query<'q, Self, Self::Arguments<'q>>;
}

#[async_trait]
impl<DB: BindArg> ReadPool for Pool<DB>
where
    DB::Row: TsRow,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
{
    async fn for_each_row(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        each: &mut (dyn for<'r> FnMut(&'r dyn TsRow) -> Result<(), JournalError> + Send),
    ) -> Result<(), JournalError> {
        let query = args.iter().fold(sqlx::query::<DB>(sql), |q, arg| DB::bind_arg(q, *arg));
        let rows = query.fetch_all(self).await?;
        rows.iter().try_for_each(|row| each(row))
    }
}

/// What a store gives the reads it answers like every other store (the
/// role traits' provided read methods): the pool they run on. Sealed in
/// effect: this module is private to the journal.
pub trait SharedReads: Send + Sync {
    /// The pool the shared reads run on.
    fn read_pool(&self) -> &dyn ReadPool;
}

/// The rows of `sql`, each decoded by `decode`.
async fn rows<T: Send>(
    p: &dyn ReadPool,
    sql: &str,
    args: &[Arg<'_>],
    decode: impl Fn(&dyn TsRow) -> Result<T, JournalError> + Send + Sync,
) -> Result<Vec<T>, JournalError> {
    let mut out = Vec::new();
    p.for_each_row(sql, args, &mut |row: &dyn TsRow| {
        out.push(decode(row)?);
        Ok(())
    })
    .await?;
    Ok(out)
}

/// The first row of `sql`, if any, decoded by `decode`.
async fn first<T: Send>(
    p: &dyn ReadPool,
    sql: &str,
    args: &[Arg<'_>],
    decode: impl Fn(&dyn TsRow) -> Result<T, JournalError> + Send + Sync,
) -> Result<Option<T>, JournalError> {
    Ok(rows(p, sql, args, decode).await?.into_iter().next())
}

/// [`RunStore::get_run`](super::RunStore::get_run).
pub(in crate::journal) async fn get_run(p: &dyn ReadPool, key: &RunKey) -> Result<Option<RunRecord>, JournalError> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE instance = $1 AND run_id = $2");
    first(p, &sql, &[Arg::Text(&key.instance), Arg::Text(&key.run_id)], |r| run_from_row(r)).await
}

/// [`RunStore::list_runs`](super::RunStore::list_runs).
pub(in crate::journal) async fn list_runs(p: &dyn ReadPool, instance: &str, limit: i64) -> Result<Vec<RunRecord>, JournalError> {
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM runs WHERE instance = $1 \
         ORDER BY created_at DESC, run_id DESC LIMIT $2"
    );
    rows(p, &sql, &[Arg::Text(instance), Arg::Int(limit)], |r| run_from_row(r)).await
}

/// A run's journal entries after `after_seq`, in order (entries are
/// numbered from 1: `after_seq` 0 is the whole journal).
pub(in crate::journal) async fn load_events_after(
    p: &dyn ReadPool,
    key: &RunKey,
    after_seq: i64,
) -> Result<Vec<Event>, JournalError> {
    let sql = "SELECT seq, body, recorded_at FROM events WHERE instance = $1 AND run_id = $2 AND seq > $3 ORDER BY seq";
    let args = [Arg::Text(&key.instance), Arg::Text(&key.run_id), Arg::Int(after_seq)];
    rows(p, sql, &args, |r| event_from_row(r, key)).await
}

/// [`RunStore::inbox`](super::RunStore::inbox).
pub(in crate::journal) async fn inbox(p: &dyn ReadPool, key: &RunKey) -> Result<Vec<InboxSignal>, JournalError> {
    let sql = "SELECT id, name, payload, idempotency_key FROM signals \
               WHERE instance = $1 AND run_id = $2 AND consumed_at IS NULL ORDER BY id";
    rows(p, sql, &[Arg::Text(&key.instance), Arg::Text(&key.run_id)], |r| signal_from_row(r, key)).await
}

/// Instance `$1`'s runs due at `now` (waiting ones whose wake-up came,
/// running ones whose lease expired) that `exclude` (an SQL condition
/// on `run_id`) lets through and no live lease holds, as rows of `run_id`
/// and `due` (the time they became due): the `per_kind` oldest of each kind
/// (pending, suspended, lease expired), each read in the order of its index
/// and locked with `lock` (`FOR UPDATE SKIP LOCKED` on Postgres). A claim
/// takes the oldest of these instead of sorting every due run: after a
/// burst of 100,000 starts that sort took 85 ms per claim on Postgres (on
/// disk), and parking them all took minutes; this reads a few hundred index
/// entries. (Each kind is a subquery of its own: a query that joins the
/// candidates back to `runs` let the planner pick a scan of every due run
/// again, on statistics a burst had made stale.)
pub(in crate::journal) fn due_candidates(now: &str, exclude: &str, per_kind: &str, lock: &str) -> String {
    let waiting = |state: &str| {
        format!(
            "SELECT run_id, due FROM (SELECT run_id, wake_at AS due FROM runs \
               WHERE instance = $1 AND state = '{state}' AND wake_at <= {now} AND {exclude} AND paused_at IS NULL \
                 AND (lease_owner IS NULL OR lease_expires_at < {now}) \
               ORDER BY wake_at LIMIT {per_kind} {lock}) AS {state}_due"
        )
    };
    format!(
        "{pending} UNION ALL {suspended} UNION ALL \
         SELECT run_id, due FROM (SELECT run_id, lease_expires_at AS due FROM runs \
           WHERE instance = $1 AND state = 'running' AND lease_expires_at < {now} AND {exclude} AND paused_at IS NULL \
           ORDER BY lease_expires_at LIMIT {per_kind} {lock}) AS expired",
        pending = waiting("pending"),
        suspended = waiting("suspended"),
    )
}

/// [`LeaseStore::find_ready_runs`](super::LeaseStore::find_ready_runs).
pub(in crate::journal) async fn find_ready_runs(
    p: &dyn ReadPool,
    instance: &str,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<RunKey>, JournalError> {
    let sql = format!(
        "SELECT run_id FROM ({candidates}) AS due_runs ORDER BY due, run_id LIMIT $3",
        candidates = due_candidates("$2", "TRUE", "$3", "")
    );
    let k = format!("{instance}/?");
    let args = [Arg::Text(instance), Arg::Time(now), Arg::Int(limit)];
    rows(p, &sql, &args, |r| Ok(RunKey::new(instance, r.text("run_id", &k)?))).await
}

/// [`LeaseStore::expired_runs`](super::LeaseStore::expired_runs).
pub(in crate::journal) async fn expired_runs(
    p: &dyn ReadPool,
    instance: &str,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<RunRecord>, JournalError> {
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM runs WHERE instance = $1 AND state = 'running' AND lease_expires_at < $2 AND paused_at IS NULL \
         ORDER BY lease_expires_at, run_id LIMIT $3"
    );
    rows(p, &sql, &[Arg::Text(instance), Arg::Time(now), Arg::Int(limit)], |r| run_from_row(r)).await
}

/// [`LeaseStore::next_wake_at`](super::LeaseStore::next_wake_at).
pub(in crate::journal) async fn next_wake_at(
    p: &dyn ReadPool,
    instance: &str,
    after: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, JournalError> {
    let sql = "SELECT min(wake_at) AS wake_at FROM runs \
               WHERE instance = $1 AND state IN ('pending', 'suspended') AND wake_at > $2";
    let k = format!("{instance}/?");
    let at = first(p, sql, &[Arg::Text(instance), Arg::Time(after)], |r| r.ts("wake_at", &k)).await?;
    Ok(at.flatten())
}

/// [`ModuleStore::get_module`](super::ModuleStore::get_module).
pub(in crate::journal) async fn get_module(
    p: &dyn ReadPool,
    instance: &str,
    hash: &str,
) -> Result<Option<StoredModule>, JournalError> {
    let sql = "SELECT workflow, bytes FROM modules WHERE instance = $1 AND hash = $2";
    let k = format!("{instance}/module {hash}");
    first(p, sql, &[Arg::Text(instance), Arg::Text(hash)], |r| {
        Ok(StoredModule { workflow: r.text("workflow", &k)?, hash: hash.to_string(), bytes: r.bytes("bytes", &k)? })
    })
    .await
}

/// [`ModuleStore::current_modules`](super::ModuleStore::current_modules).
pub(in crate::journal) async fn current_modules(p: &dyn ReadPool, instance: &str) -> Result<Vec<(String, String)>, JournalError> {
    let sql = "SELECT workflow, hash FROM module_heads WHERE instance = $1 ORDER BY workflow";
    let k = format!("{instance}/module heads");
    rows(p, sql, &[Arg::Text(instance)], |r| Ok((r.text("workflow", &k)?, r.text("hash", &k)?))).await
}

/// [`SnapshotStore::get_snapshot`](super::SnapshotStore::get_snapshot).
pub(in crate::journal) async fn get_snapshot(p: &dyn ReadPool, key: &RunKey) -> Result<Option<Snapshot>, JournalError> {
    let sql = "SELECT upto_seq, digest, body FROM snapshots WHERE instance = $1 AND run_id = $2";
    let k = key.to_string();
    first(p, sql, &[Arg::Text(&key.instance), Arg::Text(&key.run_id)], |r| {
        Ok(Snapshot { upto_seq: r.int("upto_seq", &k)?, digest: r.text("digest", &k)?, body: r.text("body", &k)? })
    })
    .await
}

/// [`TaskStore::task_outcomes`](super::TaskStore::task_outcomes).
pub(in crate::journal) async fn task_outcomes(p: &dyn ReadPool, key: &RunKey) -> Result<Vec<(u32, TaskOutcome)>, JournalError> {
    let sql = "SELECT op, outcome FROM activity_tasks \
               WHERE instance = $1 AND run_id = $2 AND state IN ('completed', 'failed') AND NOT journaled \
               ORDER BY op";
    rows(p, sql, &[Arg::Text(&key.instance), Arg::Text(&key.run_id)], |r| outcome_from_row(r, key)).await
}

/// [`RunStore::children`](super::RunStore::children).
pub(in crate::journal) async fn children(p: &dyn ReadPool, key: &RunKey) -> Result<Vec<ChildRun>, JournalError> {
    let sql = "SELECT instance, run_id, workflow, state, parent_op, parent_close, created_at FROM runs \
               WHERE instance = $1 AND parent_run_id = $2 ORDER BY parent_op, run_id";
    let k = key.to_string();
    rows(p, sql, &[Arg::Text(&key.instance), Arg::Text(&key.run_id)], |r| {
        let state = r.text("state", &k)?;
        let close = r.opt_text("parent_close", &k)?;
        Ok(ChildRun {
            key: RunKey::new(r.text("instance", &k)?, r.text("run_id", &k)?),
            workflow: r.text("workflow", &k)?,
            state: RunState::parse(&state).ok_or_else(|| corrupt(&k, format!("unknown state `{state}`")))?,
            parent_op: u32::try_from(r.int("parent_op", &k)?).unwrap_or(u32::MAX),
            parent_close: match close.as_deref() {
                Some("terminate") => ParentClose::Terminate,
                Some("abandon") => ParentClose::Abandon,
                _ => ParentClose::Cancel,
            },
            created_at: r.ts_req("created_at", &k)?,
        })
    })
    .await
}

/// [`RunStore::chain`](super::RunStore::chain).
pub(in crate::journal) async fn chain(p: &dyn ReadPool, instance: &str, root: &str) -> Result<Vec<ChainRun>, JournalError> {
    let sql = "SELECT instance, run_id, state, module_hash, chain_seq, created_at FROM runs \
               WHERE instance = $1 AND (run_id = $2 OR chain_root = $2) ORDER BY COALESCE(chain_seq, 0), run_id";
    rows(p, sql, &[Arg::Text(instance), Arg::Text(root)], |r| {
        let k = r.key_text();
        let state = r.text("state", &k)?;
        Ok(ChainRun {
            key: RunKey::new(r.text("instance", &k)?, r.text("run_id", &k)?),
            chain_seq: r.opt_int("chain_seq", &k)?.unwrap_or(0),
            state: RunState::parse(&state).ok_or_else(|| corrupt(&k, format!("unknown state `{state}`")))?,
            module_hash: r.text("module_hash", &k)?,
            created_at: r.ts_req("created_at", &k)?,
        })
    })
    .await
}

/// [`TaskStore::heartbeats`](super::TaskStore::heartbeats).
pub(in crate::journal) async fn heartbeats(p: &dyn ReadPool, key: &RunKey) -> Result<Vec<ActivityHeartbeat>, JournalError> {
    let sql = "SELECT op, attempt, details, recorded_at FROM activity_heartbeats \
               WHERE instance = $1 AND run_id = $2 ORDER BY op";
    rows(p, sql, &[Arg::Text(&key.instance), Arg::Text(&key.run_id)], |r| heartbeat_from_row(r, key)).await
}

/// [`WorkerStore::open_tasks`](super::WorkerStore::open_tasks).
pub(in crate::journal) async fn open_tasks(p: &dyn ReadPool, key: &RunKey) -> Result<Vec<OpenTask>, JournalError> {
    let sql = "SELECT op, name, queue, state, attempts_started FROM activity_tasks \
               WHERE instance = $1 AND run_id = $2 AND state IN ('pending', 'claimed') ORDER BY op";
    let k = key.to_string();
    rows(p, sql, &[Arg::Text(&key.instance), Arg::Text(&key.run_id)], |r| {
        Ok(OpenTask {
            op: u32::try_from(r.int("op", &k)?).unwrap_or(u32::MAX),
            name: r.text("name", &k)?,
            queue: r.text("queue", &k)?,
            state: r.text("state", &k)?,
            attempts_started: u32::try_from(r.int32("attempts_started", &k)?).unwrap_or(0),
        })
    })
    .await
}

/// [`TaskStore::idempotent_result`](super::TaskStore::idempotent_result).
pub(in crate::journal) async fn idempotent_result(
    p: &dyn ReadPool,
    instance: &str,
    key: &str,
) -> Result<Option<(String, Value)>, JournalError> {
    let sql = "SELECT activity, output FROM activity_results WHERE instance = $1 AND idempotency_key = $2";
    let k = format!("{instance}/idempotency key {key}");
    first(p, sql, &[Arg::Text(instance), Arg::Text(key)], |r| {
        let output = r.text("output", &k)?;
        let output: Value = serde_json::from_str(&output)
            .map_err(|e| corrupt(&k, format!("stored activity output is not JSON: {e}")))?;
        Ok((r.text("activity", &k)?, output))
    })
    .await
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;

    /// SQLite takes the numbered `$N` parameters the shared reads are
    /// written with, by number: in any order, and however often one
    /// stands.
    #[tokio::test]
    async fn sqlite_binds_numbered_parameters_by_number() {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.expect("open an in-memory database");
        let sql = "SELECT $2 AS b, $1 AS a, $2 AS c";
        let got = first(&pool, sql, &[Arg::Text("one"), Arg::Int(2)], |r| {
            Ok((r.int("b", "?")?, r.text("a", "?")?, r.int("c", "?")?))
        })
        .await
        .expect("the statement runs");
        assert_eq!(got, Some((2, "one".to_string(), 2)));
    }
}

/// [`RunStore::query_runs`](super::RunStore::query_runs): the instance's
/// runs matching `q`, newest first (by `created_at`, then `run_id`), after
/// its cursor, at most `q.limit`.
///
/// With attribute filters the listing is driven by the first one's index
/// (`run_attributes_filter`: instance, key, value, then the run's creation
/// time and id, in the listing's order), joined to `runs` for the other
/// filters: it reads that attribute's runs newest first and stops after a
/// page, however many runs the instance has. Without, by `runs_created`.
pub(in crate::journal) async fn query_runs(
    p: &dyn ReadPool,
    instance: &str,
    q: &super::RunQuery,
) -> Result<Vec<RunRecord>, JournalError> {
    // `runs`' columns by their names (SQLite names a column `r.x` only
    // by an alias for certain).
    let columns: Vec<String> = RUN_COLUMNS.split(',').map(|c| format!("r.{c} AS {c}", c = c.trim())).collect();
    let mut args = vec![Arg::Text(instance)];
    // The table whose creation time and run id order the listing.
    let (mut sql, order) = match q.attributes.first() {
        Some((key, value)) => {
            args.push(Arg::Text(key));
            args.push(Arg::Text(value));
            let sql = format!(
                "SELECT {} FROM run_attributes a JOIN runs r ON r.instance = a.instance AND r.run_id = a.run_id \
                 WHERE a.instance = $1 AND a.key = $2 AND a.value = $3",
                columns.join(", ")
            );
            (sql, "a")
        }
        None => (format!("SELECT {} FROM runs r WHERE r.instance = $1", columns.join(", ")), "r"),
    };
    // Each condition binds one parameter, numbered in order.
    let state = q.state.map(|s| s.as_str());
    let (since, until) = (format!(" AND {order}.created_at >= "), format!(" AND {order}.created_at < "));
    let conds = [
        (" AND r.state = ", state.map(Arg::Text)),
        (" AND r.workflow = ", q.workflow.as_deref().map(Arg::Text)),
        (since.as_str(), q.created_since.map(Arg::Time)),
        (until.as_str(), q.created_until.map(Arg::Time)),
        (" AND r.parent_run_id = ", q.parent.as_deref().map(Arg::Text)),
    ];
    for (cond, arg) in conds {
        if let Some(arg) = arg {
            args.push(arg);
            sql.push_str(&format!("{cond}${}", args.len()));
        }
    }
    for (key, value) in q.attributes.iter().skip(1) {
        args.push(Arg::Text(key));
        let k = args.len();
        args.push(Arg::Text(value));
        let v = args.len();
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM run_attributes x \
               WHERE x.instance = r.instance AND x.run_id = r.run_id AND x.key = ${k} AND x.value = ${v})"
        ));
    }
    if let Some((at, run_id)) = &q.before {
        args.push(Arg::Time(*at));
        let t = args.len();
        args.push(Arg::Text(run_id));
        let r = args.len();
        sql.push_str(&format!(
            " AND ({order}.created_at < ${t} OR ({order}.created_at = ${t} AND {order}.run_id < ${r}))"
        ));
    }
    args.push(Arg::Int(q.limit));
    sql.push_str(&format!(" ORDER BY {order}.created_at DESC, {order}.run_id DESC LIMIT ${}", args.len()));
    rows(p, &sql, &args, |r| run_from_row(r)).await
}

/// [`RunStore::attributes`](super::RunStore::attributes): the attributes
/// of the instance's runs `run_ids`, by run id, then key.
pub(in crate::journal) async fn attributes(
    p: &dyn ReadPool,
    instance: &str,
    run_ids: &[String],
) -> Result<BTreeMap<String, BTreeMap<String, String>>, JournalError> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    // A page at a time: a statement's parameters are bounded (SQLite).
    for chunk in run_ids.chunks(500) {
        let mut args = vec![Arg::Text(instance)];
        args.extend(chunk.iter().map(|id| Arg::Text(id)));
        let list: Vec<String> = (2..=args.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT run_id, key, value FROM run_attributes WHERE instance = $1 AND run_id IN ({}) ORDER BY run_id, key",
            list.join(", ")
        );
        let k = format!("{instance}/attributes");
        let found = rows(p, &sql, &args, |r| Ok((r.text("run_id", &k)?, r.text("key", &k)?, r.text("value", &k)?))).await?;
        for (run_id, key, value) in found {
            out.entry(run_id).or_default().insert(key, value);
        }
    }
    Ok(out)
}

/// [`RunStore::events_page`](super::RunStore::events_page): at most
/// `limit` journal entries after `after_seq`, in order.
pub(in crate::journal) async fn events_page(
    p: &dyn ReadPool,
    key: &RunKey,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<Event>, JournalError> {
    let sql = "SELECT seq, body, recorded_at FROM events WHERE instance = $1 AND run_id = $2 AND seq > $3 ORDER BY seq LIMIT $4";
    let args = [Arg::Text(&key.instance), Arg::Text(&key.run_id), Arg::Int(after_seq), Arg::Int(limit)];
    rows(p, sql, &args, |r| event_from_row(r, key)).await
}

/// [`RunStore::ping`](super::RunStore::ping): one round trip.
pub(in crate::journal) async fn ping(p: &dyn ReadPool) -> Result<(), JournalError> {
    p.for_each_row("SELECT 1", &[], &mut |_: &dyn TsRow| Ok(())).await
}

/// [`ModuleStore::module_versions`](super::ModuleStore::module_versions):
/// every stored version of the instance's workflows, `(workflow, hash,
/// deployed_at)`, by workflow, oldest first.
pub(in crate::journal) async fn module_versions(
    p: &dyn ReadPool,
    instance: &str,
) -> Result<Vec<(String, String, DateTime<Utc>)>, JournalError> {
    let sql = "SELECT workflow, hash, deployed_at FROM modules WHERE instance = $1 ORDER BY workflow, deployed_at, hash";
    let k = format!("{instance}/modules");
    rows(p, sql, &[Arg::Text(instance)], |r| Ok((r.text("workflow", &k)?, r.text("hash", &k)?, r.ts_req("deployed_at", &k)?))).await
}

/// [`RunStore::runs_updated_since`](super::RunStore::runs_updated_since):
/// the instance's runs changed at or after `since`, oldest change first.
pub(in crate::journal) async fn runs_updated_since(
    p: &dyn ReadPool,
    instance: &str,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<RunRecord>, JournalError> {
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM runs WHERE instance = $1 AND updated_at >= $2 ORDER BY updated_at, run_id LIMIT $3"
    );
    rows(p, &sql, &[Arg::Text(instance), Arg::Time(since), Arg::Int(limit)], |r| run_from_row(r)).await
}
