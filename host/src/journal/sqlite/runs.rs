//! Runs on SQLite ([`RunStore`]): creation, signals, and cancellation
//! requests. The reads are the trait's, shared by both stores
//! ([`reads`](crate::journal::reads)).

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{wake, SqliteJournal};
use crate::journal::codec::{creation_lease, millis, run_from_row, to_json, RUN_COLUMNS};
use crate::journal::run_checks::{final_state, keyed_resend, signal_target, CHAIN_SIGNAL_KEY_SQLITE};
use crate::journal::{
    CancelKind, CancelRequest, CancelWithdrawal, JournalError, Lease, NewRun, RunKey, RunRecord, RunStore, SentSignal, WakeKind,
};

/// Inserts one run unless its key is taken; returns it.
static CREATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT OR IGNORE INTO runs (instance, run_id, workflow, module_hash, input, state, lease_owner, \
                           lease_token, lease_expires_at, wake_at, created_at, updated_at, trace_context) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12) \
         RETURNING {RUN_COLUMNS}"
    )
});

#[async_trait]
impl RunStore for SqliteJournal {
    async fn create_run(
        &self,
        run: &NewRun,
        lease: Option<(&str, Duration)>,
    ) -> Result<(RunRecord, Option<Lease>), JournalError> {
        let owned = lease.map(|(owner, ttl)| (owner.to_string(), ttl));
        match self.create_runs(&[(run.clone(), owned)]).await?.pop().flatten() {
            Some(created) => Ok(created),
            None => Err(JournalError::RunExists(run.key.clone())),
        }
    }

    async fn create_runs(
        &self,
        runs: &[(NewRun, Option<(String, Duration)>)],
    ) -> Result<Vec<Option<(RunRecord, Option<Lease>)>>, JournalError> {
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.now_ms();
        let mut w = self.write().await?;
        let mut inserted = Vec::with_capacity(runs.len());
        for (run, lease) in runs {
            let input = to_json(&run.key, "input", &run.input)?;
            let (state, owner, token, expires, wake_at) = match lease {
                Some((owner, ttl)) => ("running", Some(owner.as_str()), 1_i64, Some(now.saturating_add(millis(*ttl))), None),
                None => ("pending", None, 0, None, Some(now)),
            };
            let row = sqlx::query(&CREATE)
                .bind(&run.key.instance)
                .bind(&run.key.run_id)
                .bind(&run.workflow)
                .bind(&run.module_hash)
                .bind(input)
                .bind(state)
                .bind(owner)
                .bind(token)
                .bind(expires)
                .bind(wake_at)
                .bind(now)
                .bind(run.trace_context.as_deref())
                .fetch_optional(&mut *w.tx)
                .await?;
            let Some(row) = row else {
                inserted.push(None);
                continue;
            };
            if lease.is_none() {
                w.wakes.push(wake(WakeKind::Run, &run.key));
            }
            let record = run_from_row(&row)?;
            let lease = creation_lease(&record);
            inserted.push(Some((record, lease)));
        }
        self.finish(w).await?;
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
        let now = self.now_ms();
        let mut w = self.write().await?;
        let found = w.run_workflow(key).await?;
        if let (Some(signal_key), Some((_, workflow))) = (idempotency_key, &found) {
            let first = sqlx::query_as::<_, (i64, String, String)>(
CHAIN_SIGNAL_KEY_SQLITE.as_str())
            .bind(&key.instance)
            .bind(&key.run_id)
            .bind(signal_key)
            .fetch_optional(&mut *w.tx)
            .await?;
            if let Some(id) = keyed_resend(key, signal_key, first, name, payload)? {
                let workflow = workflow.clone();
                self.finish(w).await?;
                return Ok(SentSignal { id, workflow, duplicate: true });
            }
        }
        let workflow = signal_target(key, found)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO signals (instance, run_id, name, payload, sent_at, idempotency_key) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .bind(name)
        .bind(text)
        .bind(now)
        .bind(idempotency_key)
        .fetch_one(&mut *w.tx)
        .await?;
        w.wake_run(key, now).await?;
        w.wakes.push(wake(WakeKind::Run, key));
        self.finish(w).await?;
        Ok(SentSignal { id, workflow, duplicate: false })
    }

    async fn request_cancel(&self, key: &RunKey, kind: CancelKind) -> Result<CancelRequest, JournalError> {
        let now = self.now_ms();
        let mut w = self.write().await?;
        if let Some(state) = final_state(key, w.run_workflow(key).await?)? {
            return Ok(CancelRequest::AlreadyFinal(state));
        }
        let column = kind.column();
        sqlx::query(&format!(
            "UPDATE runs SET {column} = COALESCE({column}, ?3), \
                    wake_gen = wake_gen + 1, wake_at = ?3, updated_at = ?3 \
             WHERE instance = ?1 AND run_id = ?2"
        ))
        .bind(&key.instance)
        .bind(&key.run_id)
        .bind(now)
        .execute(&mut *w.tx)
        .await?;
        w.wakes.push(wake(WakeKind::Cancel, key));
        self.finish(w).await?;
        Ok(CancelRequest::Requested)
    }

    async fn withdraw_cancel(&self, key: &RunKey, requested_at: DateTime<Utc>) -> Result<CancelWithdrawal, JournalError> {
        let mut w = self.write().await?;
        if let Some(state) = final_state(key, w.run_workflow(key).await?)? {
            return Ok(CancelWithdrawal::AlreadyFinal(state));
        }
        let done = sqlx::query(
            "UPDATE runs SET cancel_requested_at = NULL, updated_at = ?4 \
             WHERE instance = ?1 AND run_id = ?2 AND cancel_requested_at = ?3",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .bind(requested_at.timestamp_millis())
        .bind(self.now_ms())
        .execute(&mut *w.tx)
        .await?;
        self.finish(w).await?;
        Ok(if done.rows_affected() == 1 { CancelWithdrawal::Withdrawn } else { CancelWithdrawal::NotOurs })
    }
}
