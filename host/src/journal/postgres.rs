//! The Postgres journal: production storage shared by many hosts. Leases
//! and claim tokens fence every write, `FOR UPDATE SKIP LOCKED` spreads
//! activity tasks, and `LISTEN`/`NOTIFY` on one channel wakes hosts.
//! `commit` applies a whole batch of run writes in one transaction with one
//! statement per table (arrays through `UNNEST`).

#[path = "codec.rs"]
pub(super) mod codec;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::{PgPool, Postgres, Row, Transaction};

use self::codec::{
    col, corrupt, event_from_row, is_unique_violation, millis,
    outcome_from_row, parse_wake,
    run_from_row, signal_from_row, to_json, wake_payload, FINAL_STATES_SQL, RUN_COLUMNS,
    WAKE_CHANNEL,
};
use super::{
    CancelRequest, ClaimedTask, Event, InboxSignal, Journal, JournalError, Lease, NewRun, Renewal, RunKey,
    RunRecord, RunState, RunWrite, SentSignal, TaskOutcome, WakeKind, WakeStream, WokenRun,
};

type Tx = Transaction<'static, Postgres>;

/// A journal in a Postgres database.
#[derive(Debug, Clone)]
pub struct PostgresJournal {
    pool: PgPool,
}

impl PostgresJournal {
    /// Connects a pool of at most `max_connections` to the database at
    /// `url`. Does not migrate.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, JournalError> {
        // The journal's statements are few, prepared once per connection,
        // and shaped by arrays (`UNNEST`) whose contents never change the
        // best plan: plan them once instead of at every execution (custom
        // plans cost more than the write itself for the batched commit).
        //
        // One plain connection first: it fails at once with the real reason
        // (the pool would retry a refused connection until its acquire
        // timeout and then report only the timeout).
        {
            use sqlx::Connection;
            sqlx::PgConnection::connect(url).await?.close().await?;
        }
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    sqlx::query("SET plan_cache_mode = force_generic_plan").execute(conn).await?;
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        Ok(Self { pool })
    }

    /// Closes the pool (waits for connections in use to be returned).
    #[cfg_attr(not(test), allow(dead_code))] // used by the crate's tests only since the API narrowed
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Sends one wake-up inside `tx`, delivered when it commits.
async fn notify(tx: &mut Tx, kind: WakeKind, instance: &str, run_id: &str) -> Result<(), JournalError> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(WAKE_CHANNEL)
        .bind(wake_payload(&kind, instance, run_id))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Tells a run something happened to it (a signal, an activity result):
/// bumps its `wake_gen`, makes it due if it waits, and notifies.
async fn wake_run(tx: &mut Tx, key: &RunKey) -> Result<(), JournalError> {
    sqlx::query(
        "UPDATE runs SET wake_gen = wake_gen + 1, updated_at = now(), \
                wake_at = CASE WHEN state IN ('pending', 'suspended') THEN now() ELSE wake_at END \
         WHERE instance = $1 AND run_id = $2",
    )
    .bind(&key.instance)
    .bind(&key.run_id)
    .execute(&mut **tx)
    .await?;
    notify(tx, WakeKind::Run, &key.instance, &key.run_id).await
}

/// Sends many wake-ups inside `tx` in one statement.
async fn notify_all(tx: &mut Tx, payloads: Vec<String>) -> Result<(), JournalError> {
    if payloads.is_empty() {
        return Ok(());
    }
    sqlx::query("SELECT pg_notify($1, p) FROM UNNEST($2::text[]) AS p")
        .bind(WAKE_CHANNEL)
        .bind(payloads)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Locks a run row and returns its state (`None`: no such run).
async fn lock_run(tx: &mut Tx, key: &RunKey) -> Result<Option<RunState>, JournalError> {
    Ok(lock_run_workflow(tx, key).await?.map(|(state, _)| state))
}

/// Locks a run's row; its state and workflow, `None` if it does not exist.
async fn lock_run_workflow(tx: &mut Tx, key: &RunKey) -> Result<Option<(RunState, String)>, JournalError> {
    let row = sqlx::query("SELECT state, workflow FROM runs WHERE instance = $1 AND run_id = $2 FOR UPDATE")
        .bind(&key.instance)
        .bind(&key.run_id)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let k = key.to_string();
    let state: String = col(&row, "state", &k)?;
    let workflow: String = col(&row, "workflow", &k)?;
    let state = RunState::parse(&state).ok_or_else(|| corrupt(key, format!("unknown state `{state}`")))?;
    Ok(Some((state, workflow)))
}

#[path = "postgres_modules.rs"]
mod modules;

#[path = "postgres_heartbeats.rs"]
mod heartbeats;

#[path = "postgres_cancel.rs"]
mod cancel;

#[path = "postgres_migration.rs"]
mod migration;

#[path = "postgres_one_statement.rs"]
mod one_statement;

#[path = "postgres_commit.rs"]
mod commit;

#[path = "postgres_tasks.rs"]
mod tasks;

#[async_trait]
impl Journal for PostgresJournal {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> Result<(), JournalError> {
        sqlx::migrate!("../migrations/postgres").run(&self.pool).await?;
        Ok(())
    }

    async fn create_run(
        &self,
        run: &NewRun,
        lease: Option<(&str, Duration)>,
    ) -> Result<Option<Lease>, JournalError> {
        let input = to_json(&run.key, "input", &run.input)?;
        // One statement, committed on its own: the insert, and for a run
        // left to the dispatchers its notification.
        let sql = match lease {
            Some(_) => {
                "INSERT INTO runs (instance, run_id, workflow, module_hash, input, trace_context, state, \
                                   lease_owner, lease_token, lease_expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, 1, now() + $8 * interval '1 millisecond')"
            }
            None => {
                "WITH ins AS ( \
                     INSERT INTO runs (instance, run_id, workflow, module_hash, input, trace_context, state, wake_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, 'pending', now()) RETURNING 1) \
                 SELECT pg_notify($7, $8) FROM ins"
            }
        };
        let mut q = sqlx::query(sql)
            .bind(&run.key.instance)
            .bind(&run.key.run_id)
            .bind(&run.workflow)
            .bind(&run.module_hash)
            .bind(input)
            .bind(run.trace_context.as_deref());
        q = match lease {
            Some((owner, ttl)) => q.bind(owner).bind(millis(ttl)),
            None => q.bind(WAKE_CHANNEL).bind(wake_payload(&WakeKind::Run, &run.key.instance, &run.key.run_id)),
        };
        match q.execute(&self.pool).await {
            Err(e) if is_unique_violation(&e) => return Err(JournalError::RunExists(run.key.clone())),
            other => other?,
        };
        Ok(lease.map(|(owner, _)| Lease { owner: owner.to_string(), token: 1 }))
    }

    async fn create_runs(&self, runs: &[(NewRun, Option<(String, Duration)>)]) -> Result<Vec<bool>, JournalError> {
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        let mut inputs = Vec::with_capacity(runs.len());
        for (run, _) in runs {
            inputs.push(to_json(&run.key, "input", &run.input)?);
        }
        let rows = sqlx::query(
            "WITH u AS ( \
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
                                      $7::text[], $8::bigint[], $9::text[], $10::bigint[]) \
                   AS u(instance, run_id, workflow, module_hash, input, trace_context, owner, ttl_ms, payload, idx)), \
             ins AS ( \
                 INSERT INTO runs (instance, run_id, workflow, module_hash, input, trace_context, state, \
                                   lease_owner, lease_token, lease_expires_at, wake_at) \
                 SELECT instance, run_id, workflow, module_hash, input, trace_context, \
                        CASE WHEN owner IS NULL THEN 'pending' ELSE 'running' END, owner, \
                        CASE WHEN owner IS NULL THEN 0 ELSE 1 END, \
                        CASE WHEN owner IS NULL THEN NULL ELSE now() + ttl_ms * interval '1 millisecond' END, \
                        CASE WHEN owner IS NULL THEN now() END \
                 FROM u ORDER BY idx \
                 ON CONFLICT (instance, run_id) DO NOTHING \
                 RETURNING instance, run_id, lease_owner) \
             SELECT u.idx, CASE WHEN ins.lease_owner IS NULL THEN pg_notify($11, u.payload) END AS notified \
             FROM ins JOIN u ON u.instance = ins.instance AND u.run_id = ins.run_id",
        )
        .bind(runs.iter().map(|(r, _)| r.key.instance.as_str()).collect::<Vec<_>>())
        .bind(runs.iter().map(|(r, _)| r.key.run_id.as_str()).collect::<Vec<_>>())
        .bind(runs.iter().map(|(r, _)| r.workflow.as_str()).collect::<Vec<_>>())
        .bind(runs.iter().map(|(r, _)| r.module_hash.as_str()).collect::<Vec<_>>())
        .bind(inputs)
        .bind(runs.iter().map(|(r, _)| r.trace_context.as_deref()).collect::<Vec<_>>())
        .bind(runs.iter().map(|(_, l)| l.as_ref().map(|(o, _)| o.as_str())).collect::<Vec<_>>())
        .bind(runs.iter().map(|(_, l)| l.as_ref().map_or(0, |(_, ttl)| millis(*ttl))).collect::<Vec<_>>())
        .bind(runs.iter().map(|(r, _)| wake_payload(&WakeKind::Run, &r.key.instance, &r.key.run_id)).collect::<Vec<_>>())
        .bind((0..runs.len() as i64).collect::<Vec<_>>())
        .bind(WAKE_CHANNEL)
        .fetch_all(&self.pool)
        .await?;
        // A key given twice in `runs` is inserted once: only the first of
        // them counts as inserted.
        let mut inserted = vec![false; runs.len()];
        let mut first = std::collections::HashMap::new();
        for (i, (r, _)) in runs.iter().enumerate() {
            first.entry(&r.key).or_insert(i);
        }
        for row in rows {
            let idx: i64 = row.try_get("idx")?;
            if let Some(i) = usize::try_from(idx).ok().filter(|i| first.get(&runs[*i].0.key) == Some(i)) {
                inserted[i] = true;
            }
        }
        Ok(inserted)
    }

    async fn get_run(&self, key: &RunKey) -> Result<Option<RunRecord>, JournalError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE instance = $1 AND run_id = $2");
        let row = sqlx::query(&sql).bind(&key.instance).bind(&key.run_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(run_from_row).transpose()
    }

    async fn list_runs(&self, instance: &str, limit: i64) -> Result<Vec<RunRecord>, JournalError> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE instance = $1 \
             ORDER BY created_at DESC, run_id DESC LIMIT $2"
        );
        let rows = sqlx::query(&sql).bind(instance).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(run_from_row).collect()
    }

    async fn load_events(&self, key: &RunKey) -> Result<Vec<Event>, JournalError> {
        let rows = sqlx::query(
            "SELECT seq, body, recorded_at FROM events WHERE instance = $1 AND run_id = $2 ORDER BY seq",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| event_from_row(r, key)).collect()
    }

    async fn find_ready_runs(
        &self,
        instance: &str,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<RunKey>, JournalError> {
        let rows = sqlx::query(
            "SELECT run_id FROM runs WHERE instance = $1 \
               AND ((state IN ('pending', 'suspended') AND wake_at <= $2) \
                 OR (state = 'running' AND lease_expires_at < $2)) \
             ORDER BY COALESCE(wake_at, lease_expires_at), run_id LIMIT $3",
        )
        .bind(instance)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(RunKey::new(instance, r.try_get::<String, _>("run_id")?))).collect()
    }

    async fn acquire_lease(
        &self,
        key: &RunKey,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<(Lease, RunRecord)>, JournalError> {
        let sql = format!(
            "UPDATE runs SET lease_owner = $3, lease_token = lease_token + 1, \
                    lease_expires_at = now() + $4 * interval '1 millisecond', \
                    state = 'running', updated_at = now() \
             WHERE instance = $1 AND run_id = $2 AND state NOT IN {FINAL_STATES_SQL} \
               AND (lease_owner IS NULL OR lease_expires_at < now()) \
             RETURNING {RUN_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(&key.instance)
            .bind(&key.run_id)
            .bind(owner)
            .bind(millis(ttl))
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let run = run_from_row(&row)?;
        Ok(Some((Lease { owner: owner.to_string(), token: run.lease_token }, run)))
    }

    async fn renew_leases(
        &self,
        leases: &[(RunKey, Lease)],
        ttl: Duration,
    ) -> Result<Vec<Renewal>, JournalError> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "WITH locked AS ( \
               SELECT r.instance, r.run_id, u.idx FROM runs r \
               JOIN UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[]) \
                    AS u(instance, run_id, owner, token, idx) \
                 ON r.instance = u.instance AND r.run_id = u.run_id \
                AND r.lease_owner = u.owner AND r.lease_token = u.token \
               ORDER BY r.instance, r.run_id FOR UPDATE OF r) \
             UPDATE runs SET lease_expires_at = now() + $6 * interval '1 millisecond', updated_at = now() \
             FROM locked WHERE runs.instance = locked.instance AND runs.run_id = locked.run_id \
             RETURNING locked.idx, runs.cancel_requested_at IS NOT NULL AS cancel_requested",
        )
        .bind(leases.iter().map(|(k, _)| k.instance.as_str()).collect::<Vec<_>>())
        .bind(leases.iter().map(|(k, _)| k.run_id.as_str()).collect::<Vec<_>>())
        .bind(leases.iter().map(|(_, l)| l.owner.as_str()).collect::<Vec<_>>())
        .bind(leases.iter().map(|(_, l)| l.token).collect::<Vec<_>>())
        .bind((0..leases.len() as i64).collect::<Vec<_>>())
        .bind(millis(ttl))
        .fetch_all(&self.pool)
        .await?;
        let mut renewed = vec![Renewal::Lost; leases.len()];
        for row in rows {
            let idx: i64 = row.try_get("idx")?;
            let cancel_requested: bool = row.try_get("cancel_requested")?;
            if let Some(r) = usize::try_from(idx).ok().and_then(|i| renewed.get_mut(i)) {
                *r = Renewal::Renewed { cancel_requested };
            }
        }
        Ok(renewed)
    }

    async fn release_lease(&self, key: &RunKey, lease: &Lease) -> Result<bool, JournalError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE runs SET lease_owner = NULL, lease_expires_at = NULL, wake_at = now(), updated_at = now(), \
                    state = CASE WHEN state = 'running' THEN 'suspended' ELSE state END \
             WHERE instance = $1 AND run_id = $2 AND lease_owner = $3 AND lease_token = $4",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .bind(&lease.owner)
        .bind(lease.token)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if done {
            notify(&mut tx, WakeKind::Run, &key.instance, &key.run_id).await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    async fn commit(&self, writes: &[RunWrite]) -> Result<Vec<bool>, JournalError> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        if one_statement::applies_to(writes) {
            return one_statement::commit(self, writes).await;
        }
        commit::commit(self, writes).await
    }

    async fn send_signal(&self, key: &RunKey, name: &str, payload: &Value) -> Result<SentSignal, JournalError> {
        let payload = to_json(key, "signal payload", payload)?;
        let mut tx = self.pool.begin().await?;
        let workflow = match lock_run_workflow(&mut tx, key).await? {
            None => return Err(JournalError::UnknownRun(key.clone())),
            Some((state, _)) if state.is_final() => return Err(JournalError::RunFinished { key: key.clone(), state }),
            Some((_, workflow)) => workflow,
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO signals (instance, run_id, name, payload) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .bind(name)
        .bind(payload)
        .fetch_one(&mut *tx)
        .await?;
        wake_run(&mut tx, key).await?;
        tx.commit().await?;
        Ok(SentSignal { id, workflow })
    }

    async fn inbox(&self, key: &RunKey) -> Result<Vec<InboxSignal>, JournalError> {
        let rows = sqlx::query(
            "SELECT id, name, payload FROM signals \
             WHERE instance = $1 AND run_id = $2 AND consumed_at IS NULL ORDER BY id",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| signal_from_row(r, key)).collect()
    }

    async fn request_cancel(&self, key: &RunKey) -> Result<CancelRequest, JournalError> {
        let mut tx = self.pool.begin().await?;
        match lock_run(&mut tx, key).await? {
            None => return Err(JournalError::UnknownRun(key.clone())),
            Some(state) if state.is_final() => return Ok(CancelRequest::AlreadyFinal(state)),
            Some(_) => {}
        }
        sqlx::query(
            "UPDATE runs SET cancel_requested_at = COALESCE(cancel_requested_at, now()), \
                    wake_gen = wake_gen + 1, wake_at = now(), updated_at = now() \
             WHERE instance = $1 AND run_id = $2",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .execute(&mut *tx)
        .await?;
        notify(&mut tx, WakeKind::Cancel, &key.instance, &key.run_id).await?;
        tx.commit().await?;
        Ok(CancelRequest::Requested)
    }

    async fn fire_due_timers(&self, instance: &str, now: DateTime<Utc>) -> Result<Vec<WokenRun>, JournalError> {
        let mut tx = self.pool.begin().await?;
        // Lock the runs first: every writer takes run rows before timer rows.
        sqlx::query(
            "SELECT r.run_id FROM runs r WHERE r.instance = $1 AND EXISTS ( \
                SELECT 1 FROM timers t WHERE t.instance = r.instance AND t.run_id = r.run_id \
                  AND t.fired_at IS NULL AND t.fire_at <= $2) \
             ORDER BY r.run_id FOR UPDATE",
        )
        .bind(instance)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let rows = sqlx::query(
            "WITH fired AS ( \
               UPDATE timers SET fired_at = now() \
               WHERE instance = $1 AND fired_at IS NULL AND fire_at <= $2 RETURNING run_id) \
             UPDATE runs r SET updated_at = now(), \
                    wake_at = CASE WHEN r.state IN ('pending', 'suspended') THEN now() ELSE r.wake_at END \
             WHERE r.instance = $1 AND r.run_id IN (SELECT run_id FROM fired) \
               AND r.state NOT IN ('completed', 'failed', 'cancelled', 'drifted') \
             RETURNING r.run_id, r.workflow",
        )
        .bind(instance)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let mut woken = rows
            .iter()
            .map(|r| {
                Ok(WokenRun {
                    key: RunKey::new(instance, r.try_get::<String, _>("run_id")?),
                    workflow: r.try_get("workflow")?,
                })
            })
            .collect::<Result<Vec<_>, JournalError>>()?;
        woken.sort();
        notify_all(&mut tx, woken.iter().map(|w| wake_payload(&WakeKind::Run, instance, &w.key.run_id)).collect())
            .await?;
        tx.commit().await?;
        Ok(woken)
    }

    async fn next_timer_at(&self, instance: &str) -> Result<Option<DateTime<Utc>>, JournalError> {
        let at: Option<DateTime<Utc>> =
            sqlx::query_scalar("SELECT min(fire_at) FROM timers WHERE instance = $1 AND fired_at IS NULL")
                .bind(instance)
                .fetch_one(&self.pool)
                .await?;
        Ok(at)
    }

    async fn claim_tasks(
        &self,
        instance: &str,
        queues: &[String],
        names: &[String],
        owner: &str,
        ttl: Duration,
        limit: i64,
    ) -> Result<Vec<ClaimedTask>, JournalError> {
        tasks::claim(self, instance, queues, names, owner, ttl, limit).await
    }

    async fn complete_task(
        &self,
        key: &RunKey,
        op: u32,
        claim_token: i64,
        outcome: &TaskOutcome,
    ) -> Result<bool, JournalError> {
        tasks::complete(self, key, op, claim_token, outcome).await
    }

    async fn retry_task(&self, key: &RunKey, op: u32, claim_token: i64, delay: Duration) -> Result<bool, JournalError> {
        tasks::retry(self, key, op, claim_token, delay).await
    }

    async fn task_outcomes(&self, key: &RunKey) -> Result<Vec<(u32, TaskOutcome)>, JournalError> {
        let rows = sqlx::query(
            "SELECT op, outcome FROM activity_tasks \
             WHERE instance = $1 AND run_id = $2 AND state IN ('completed', 'failed') AND NOT journaled \
             ORDER BY op",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| outcome_from_row(r, key)).collect()
    }

    async fn put_module(
        &self,
        instance: &str,
        workflow: &str,
        hash: &str,
        bytes: &[u8],
        publish: super::Publish,
    ) -> Result<(), JournalError> {
        modules::put_module(self, instance, workflow, hash, bytes, publish).await
    }

    async fn get_module(&self, instance: &str, hash: &str) -> Result<Option<crate::journal::StoredModule>, JournalError> {
        modules::get_module(self, instance, hash).await
    }

    async fn current_modules(&self, instance: &str) -> Result<Vec<(String, String)>, JournalError> {
        modules::current_modules(self, instance).await
    }

    async fn migrate_runs(&self, instance: &str, workflow: &str, run_ids: &[String], to: &str) -> Result<u64, JournalError> {
        modules::migrate_runs(self, instance, workflow, run_ids, to).await
    }

    async fn migrate_checked_runs(
        &self,
        instance: &str,
        workflow: &str,
        runs: &[crate::journal::CheckedRun],
        to: &str,
    ) -> Result<Vec<crate::journal::MigrationOutcome>, JournalError> {
        migration::migrate_checked_runs(self, instance, workflow, runs, to).await
    }

    async fn load_events_after(&self, key: &RunKey, after_seq: i64) -> Result<Vec<Event>, JournalError> {
        modules::load_events_after(self, key, after_seq).await
    }

    async fn put_snapshot(&self, key: &RunKey, snapshot: &crate::journal::Snapshot) -> Result<(), JournalError> {
        modules::put_snapshot(self, key, snapshot).await
    }

    async fn get_snapshot(&self, key: &RunKey) -> Result<Option<crate::journal::Snapshot>, JournalError> {
        modules::get_snapshot(self, key).await
    }

    async fn idempotent_result(&self, instance: &str, key: &str) -> Result<Option<(String, Value)>, JournalError> {
        modules::idempotent_result(self, instance, key).await
    }

    async fn put_idempotent_result(&self, instance: &str, key: &str, activity: &str, output: &Value) -> Result<(), JournalError> {
        modules::put_idempotent_result(self, instance, key, activity, output).await
    }

    async fn record_heartbeat(&self, key: &RunKey, op: u32, attempt: u32, details: &Value) -> Result<(), JournalError> {
        heartbeats::record(self, key, op, attempt, details).await
    }

    async fn heartbeats(&self, key: &RunKey) -> Result<Vec<super::ActivityHeartbeat>, JournalError> {
        heartbeats::list(self, key).await
    }

    async fn clear_heartbeat(&self, key: &RunKey, op: u32) -> Result<(), JournalError> {
        heartbeats::clear(self, key, op).await
    }

    async fn renew_task_claim(&self, key: &RunKey, op: u32, claim_token: i64, ttl: Duration) -> Result<bool, JournalError> {
        tasks::renew(self, key, op, claim_token, ttl).await
    }

    // Withdrawing an unconfirmed cancellation request.
    async fn withdraw_cancel(
        &self,
        key: &RunKey,
        requested_at: DateTime<Utc>,
    ) -> Result<super::CancelWithdrawal, JournalError> {
        cancel::withdraw(self, key, requested_at).await
    }

    async fn listen(&self, instance: &str) -> Result<WakeStream, JournalError> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(WAKE_CHANNEL).await?;
        let state = (listener, instance.to_string());
        let stream = futures::stream::unfold(state, |(mut listener, instance)| async move {
            loop {
                match listener.recv().await {
                    Ok(n) => match parse_wake(n.payload()) {
                        Some(w) if w.instance == instance => return Some((w, (listener, instance))),
                        Some(_) => {}
                        None => tracing::warn!(instance = %instance, payload = n.payload(), "malformed wake-up notification"),
                    },
                    Err(e) => {
                        // PgListener reconnects on the next recv; wake-ups
                        // sent meanwhile are lost, which polling covers.
                        tracing::warn!(error = %e, instance = %instance, "wake-up listener failed; retrying");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
        });
        Ok(Box::pin(stream))
    }
}
