//! Runs on Postgres ([`RunStore`]): creation (one statement, the
//! notification of a run left to the dispatchers included), signals, and
//! cancellation requests. The reads are the trait's, shared by both stores
//! ([`reads`](crate::journal::reads)).

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::Row;

use super::codec::{is_unique_violation, wake_payload, WAKE_CHANNEL};
use super::{lock_run, notify, wake_run, PostgresJournal};
use crate::journal::codec::{creation_lease, millis, run_from_row, to_json, RUN_COLUMNS};
use crate::journal::run_checks::{final_state, keyed_resend, signal_target, CHAIN_SIGNAL_KEY};
use crate::journal::{
    CancelKind, CancelRequest, CancelWithdrawal, JournalError, Lease, NewRun, RunKey, RunRecord, RunStore, SentSignal, WakeKind,
};

/// Inserts one run taking its lease; returns it.
static CREATE_LEASED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO runs (instance, run_id, workflow, module_hash, input, trace_context, state, \
                           lease_owner, lease_token, lease_expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, 1, now() + $8 * interval '1 millisecond') \
         RETURNING {RUN_COLUMNS}"
    )
});

/// Inserts one run, due now, and notifies the dispatchers; returns it.
static CREATE_PENDING: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH ins AS ( \
             INSERT INTO runs (instance, run_id, workflow, module_hash, input, trace_context, state, wake_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', now()) RETURNING {RUN_COLUMNS}) \
         SELECT ins.*, pg_notify($7, $8) AS notified FROM ins"
    )
});

/// Inserts many runs (arrays), each key once; returns the inserted ones
/// with their position, notifying those left to the dispatchers.
static CREATE_MANY: LazyLock<String> = LazyLock::new(|| {
    format!(
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
             RETURNING {RUN_COLUMNS}) \
         SELECT u.idx, ins.*, CASE WHEN ins.lease_owner IS NULL THEN pg_notify($11, u.payload) END AS notified \
         FROM ins JOIN u ON u.instance = ins.instance AND u.run_id = ins.run_id"
    )
});

#[async_trait]
impl RunStore for PostgresJournal {
    async fn create_run(
        &self,
        run: &NewRun,
        lease: Option<(&str, Duration)>,
    ) -> Result<(RunRecord, Option<Lease>), JournalError> {
        let input = to_json(&run.key, "input", &run.input)?;
        // One statement, committed on its own: the insert, and for a run
        // left to the dispatchers its notification.
        let sql = if lease.is_some() { CREATE_LEASED.as_str() } else { CREATE_PENDING.as_str() };
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
        let row = match self.commits.counted(q.fetch_one(&self.pool).await) {
            Err(e) if is_unique_violation(&e) => return Err(JournalError::RunExists(run.key.clone())),
            other => other?,
        };
        self.plans.created(1, &self.pool);
        let record = run_from_row(&row)?;
        let lease = creation_lease(&record);
        Ok((record, lease))
    }

    async fn create_runs(
        &self,
        runs: &[(NewRun, Option<(String, Duration)>)],
    ) -> Result<Vec<Option<(RunRecord, Option<Lease>)>>, JournalError> {
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        let mut inputs = Vec::with_capacity(runs.len());
        for (run, _) in runs {
            inputs.push(to_json(&run.key, "input", &run.input)?);
        }
        let rows = sqlx::query(&CREATE_MANY)
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
            .await.inspect(|_| self.commits.add())?;
        self.plans.created(rows.len() as u64, &self.pool);
        // A key given twice in `runs` is inserted once: only the first of
        // them counts as inserted.
        let mut inserted: Vec<Option<(RunRecord, Option<Lease>)>> = vec![None; runs.len()];
        let mut first = HashMap::new();
        for (i, (r, _)) in runs.iter().enumerate() {
            first.entry(&r.key).or_insert(i);
        }
        for row in rows {
            let idx: i64 = row.try_get("idx")?;
            if let Some(i) = usize::try_from(idx).ok().filter(|i| first.get(&runs[*i].0.key) == Some(i)) {
                let record = run_from_row(&row)?;
                let lease = creation_lease(&record);
                inserted[i] = Some((record, lease));
            }
        }
        Ok(inserted)
    }

    async fn send_signal(
        &self,
        key: &RunKey,
        name: &str,
        payload: &Value,
        idempotency_key: Option<&str>,
    ) -> Result<SentSignal, JournalError> {
        let text = to_json(key, "signal payload", payload)?;
        let mut tx = self.pool.begin().await?;
        // The run's row lock orders senders: a resend sees the first one.
        let found = lock_run(&mut tx, key).await?;
        if let (Some(signal_key), Some((_, workflow))) = (idempotency_key, &found) {
            let first = sqlx::query_as::<_, (i64, String, String)>(
CHAIN_SIGNAL_KEY)
            .bind(&key.instance)
            .bind(&key.run_id)
            .bind(signal_key)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(id) = keyed_resend(key, signal_key, first, name, payload)? {
                return Ok(SentSignal { id, workflow: workflow.clone(), duplicate: true });
            }
        }
        let workflow = signal_target(key, found)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO signals (instance, run_id, name, payload, idempotency_key) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .bind(name)
        .bind(text)
        .bind(idempotency_key)
        .fetch_one(&mut *tx)
        .await?;
        wake_run(&mut tx, key).await?;
        self.commit_tx(tx).await?;
        Ok(SentSignal { id, workflow, duplicate: false })
    }

    async fn request_cancel(&self, key: &RunKey, kind: CancelKind) -> Result<CancelRequest, JournalError> {
        let mut tx = self.pool.begin().await?;
        if let Some(state) = final_state(key, lock_run(&mut tx, key).await?)? {
            return Ok(CancelRequest::AlreadyFinal(state));
        }
        let column = kind.column();
        sqlx::query(&format!(
            "UPDATE runs SET {column} = COALESCE({column}, now()), \
                    wake_gen = wake_gen + 1, wake_at = now(), updated_at = now() \
             WHERE instance = $1 AND run_id = $2"
        ))
        .bind(&key.instance)
        .bind(&key.run_id)
        .execute(&mut *tx)
        .await?;
        notify(&mut tx, WakeKind::Cancel, &key.instance, &key.run_id).await?;
        self.commit_tx(tx).await?;
        Ok(CancelRequest::Requested)
    }

    async fn withdraw_cancel(&self, key: &RunKey, requested_at: DateTime<Utc>) -> Result<CancelWithdrawal, JournalError> {
        let mut tx = self.pool.begin().await?;
        if let Some(state) = final_state(key, lock_run(&mut tx, key).await?)? {
            return Ok(CancelWithdrawal::AlreadyFinal(state));
        }
        let done = sqlx::query(
            "UPDATE runs SET cancel_requested_at = NULL, updated_at = now() \
             WHERE instance = $1 AND run_id = $2 AND cancel_requested_at = $3",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .bind(requested_at)
        .execute(&mut *tx)
        .await?;
        self.commit_tx(tx).await?;
        Ok(if done.rows_affected() == 1 { CancelWithdrawal::Withdrawn } else { CancelWithdrawal::NotOurs })
    }
}
