//! Leases on SQLite ([`LeaseStore`]): claiming due runs in batches (one
//! write transaction: SQLite has no `SKIP LOCKED`, and its single writer
//! gives the same semantics), and acquiring, renewing and releasing leases
//! (renewal and release through the [`fence`](super::fence)). The queries
//! of recovery and of the dispatcher's sleep are the trait's, shared by
//! both stores.

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;

use super::codec::json_list;
use super::fence::{self, FENCE};
use super::{wake, SqliteJournal};
use crate::journal::codec::{leased_run, millis, FINAL_STATES_SQL, RUN_COLUMNS};
use crate::journal::reads::due_candidates;
use crate::journal::{JournalError, Lease, LeaseStore, Renewal, RunKey, RunRecord, WakeKind};

/// Takes the lease of run `?1`/`?2` for owner `?3` until `?4`, at `?5`
/// (compare-and-set); returns the run as updated.
static ACQUIRE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE runs SET lease_owner = ?3, lease_token = lease_token + 1, lease_expires_at = ?4, \
                state = 'running', updated_at = ?5 \
         WHERE instance = ?1 AND run_id = ?2 AND state NOT IN {final_states} \
           AND (lease_owner IS NULL OR lease_expires_at < ?5) \
         RETURNING {RUN_COLUMNS}",
        final_states = *FINAL_STATES_SQL
    )
});

#[async_trait]
impl LeaseStore for SqliteJournal {
    async fn claim_runs(
        &self,
        instance: &str,
        owners: &[String],
        exclude: &[String],
        ttl: Duration,
    ) -> Result<Vec<(Lease, RunRecord)>, JournalError> {
        if owners.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.now_ms();
        let pick = format!(
            "SELECT run_id FROM ({candidates}) ORDER BY due, run_id LIMIT $4",
            candidates = due_candidates("$2", "run_id NOT IN (SELECT value FROM json_each($3))", "$4", ""),
        );
        let mut w = self.write().await?;
        let picked = sqlx::query(&pick)
            .bind(instance)
            .bind(now)
            .bind(json_list(exclude)?)
            .bind(owners.len() as i64)
            .fetch_all(&mut *w.tx)
            .await?;
        let mut claimed = Vec::with_capacity(picked.len());
        for (row, owner) in picked.iter().zip(owners) {
            let run_id: String = row.try_get("run_id")?;
            let row = sqlx::query(&ACQUIRE)
                .bind(instance)
                .bind(&run_id)
                .bind(owner)
                .bind(now.saturating_add(millis(ttl)))
                .bind(now)
                .fetch_optional(&mut *w.tx)
                .await?;
            if let Some(row) = row {
                claimed.push(leased_run(&row, owner)?);
            }
        }
        self.finish(w).await?;
        Ok(claimed)
    }

    async fn acquire_lease(&self, key: &RunKey, owner: &str, ttl: Duration) -> Result<Option<(Lease, RunRecord)>, JournalError> {
        let now = self.now_ms();
        let mut w = self.write().await?;
        let row = sqlx::query(&ACQUIRE)
            .bind(&key.instance)
            .bind(&key.run_id)
            .bind(owner)
            .bind(now.saturating_add(millis(ttl)))
            .bind(now)
            .fetch_optional(&mut *w.tx)
            .await?;
        self.finish(w).await?;
        row.as_ref().map(|row| leased_run(row, owner)).transpose()
    }

    async fn renew_leases(&self, leases: &[(RunKey, Lease)], ttl: Duration) -> Result<Vec<Renewal>, JournalError> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "UPDATE runs SET lease_expires_at = ?5, updated_at = ?6 WHERE {FENCE} \
             RETURNING cancel_requested_at IS NOT NULL AS cancel_requested, \
                       graceful_cancel_at IS NOT NULL AS graceful_cancel, \
                       paused_at IS NOT NULL AS paused"
        );
        let now = self.now_ms();
        let mut w = self.write().await?;
        let mut renewed = Vec::with_capacity(leases.len());
        for (key, lease) in leases {
            let row = fence::bind(sqlx::query(&sql), key, lease)
                .bind(now.saturating_add(millis(ttl)))
                .bind(now)
                .fetch_optional(&mut *w.tx)
                .await?;
            renewed.push(match row {
                Some(row) => Renewal::Renewed {
                    cancel_requested: row.try_get("cancel_requested")?,
                    graceful_cancel: row.try_get("graceful_cancel")?,
                    paused: row.try_get("paused")?,
                },
                None => Renewal::Lost,
            });
        }
        self.finish(w).await?;
        Ok(renewed)
    }

    async fn release_lease(&self, key: &RunKey, lease: &Lease, after: Duration) -> Result<bool, JournalError> {
        let sql = format!(
            "UPDATE runs SET lease_owner = NULL, lease_expires_at = NULL, wake_at = ?5 + ?6, updated_at = ?5, \
                    state = CASE WHEN state = 'running' THEN 'suspended' ELSE state END \
             WHERE {FENCE}"
        );
        let mut w = self.write().await?;
        let done = fence::bind(sqlx::query(&sql), key, lease)
            .bind(self.now_ms())
            .bind(millis(after))
            .execute(&mut *w.tx)
            .await?
            .rows_affected()
            == 1;
        if done {
            w.wakes.push(wake(WakeKind::Run, key));
        }
        self.finish(w).await?;
        Ok(done)
    }
}
