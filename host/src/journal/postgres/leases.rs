//! Leases on Postgres ([`LeaseStore`]): claiming due runs in batches
//! (`FOR UPDATE SKIP LOCKED`, like activity tasks), and acquiring, renewing
//! and releasing leases (renewal and release through the
//! [`fence`](super::fence)). The queries of recovery and of the
//! dispatcher's sleep are the trait's, shared by both stores.

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;

use super::fence::{held, LeaseArrays, LEASES};
use super::{notify, PostgresJournal};
use crate::journal::codec::{leased_run, millis, run_from_row, FINAL_STATES_SQL, RUN_COLUMNS};
use crate::journal::reads::due_candidates;
use crate::journal::{JournalError, Lease, LeaseStore, Renewal, RunKey, RunRecord, WakeKind};

/// Claims up to `cardinality($2)` due runs not in `$3`, the i-th for owner
/// `$2[i]`, for `$4` ms: the oldest among the [`due_candidates`] (the
/// others it locked are free again at the commit).
static CLAIM: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH picked AS ({candidates}), \
         numbered AS ( \
             SELECT $1::text AS p_instance, run_id AS p_run_id, \
                    (row_number() OVER (ORDER BY due, run_id))::int AS n \
             FROM picked ORDER BY due, run_id LIMIT cardinality($2)) \
         UPDATE runs SET lease_owner = ($2::text[])[numbered.n], lease_token = lease_token + 1, \
                lease_expires_at = now() + $4 * interval '1 millisecond', state = 'running', updated_at = now() \
         FROM numbered WHERE instance = numbered.p_instance AND run_id = numbered.p_run_id \
         RETURNING numbered.n, {RUN_COLUMNS}",
        candidates = due_candidates("now()", "NOT (run_id = ANY($3))", "cardinality($2)", "FOR UPDATE SKIP LOCKED"),
    )
});

/// Acquires the lease of one run (compare-and-set).
static ACQUIRE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE runs SET lease_owner = $3, lease_token = lease_token + 1, \
                lease_expires_at = now() + $4 * interval '1 millisecond', \
                state = 'running', updated_at = now() \
         WHERE instance = $1 AND run_id = $2 AND state NOT IN {final_states} \
           AND (lease_owner IS NULL OR lease_expires_at < now()) \
         RETURNING {RUN_COLUMNS}",
        final_states = *FINAL_STATES_SQL
    )
});

/// Extends the leases bound as [`LEASES`] by `$6` ms.
static RENEW: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH locked AS ({held}) \
         UPDATE runs SET lease_expires_at = now() + $6 * interval '1 millisecond', updated_at = now() \
         FROM locked WHERE runs.instance = locked.instance AND runs.run_id = locked.run_id \
         RETURNING locked.idx, runs.cancel_requested_at IS NOT NULL AS cancel_requested, \
                   runs.graceful_cancel_at IS NOT NULL AS graceful_cancel, \
                   runs.paused_at IS NOT NULL AS paused",
        held = held("r.instance, r.run_id, u.idx", LEASES)
    )
});

/// Gives up the lease bound as [`LEASES`]: the run is suspended, due in
/// `$6` ms.
static RELEASE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH locked AS ({held}) \
         UPDATE runs SET lease_owner = NULL, lease_expires_at = NULL, \
                wake_at = now() + $6 * interval '1 millisecond', updated_at = now(), \
                state = CASE WHEN state = 'running' THEN 'suspended' ELSE state END \
         FROM locked WHERE runs.instance = locked.instance AND runs.run_id = locked.run_id",
        held = held("r.instance, r.run_id", LEASES)
    )
});

#[async_trait]
impl LeaseStore for PostgresJournal {
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
        let rows = self.commits.counted(
            sqlx::query(&CLAIM).bind(instance).bind(owners).bind(exclude).bind(millis(ttl)).fetch_all(&self.pool).await,
        )?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            let n: i32 = row.try_get("n")?;
            let run = run_from_row(row)?;
            let owner = run.lease_owner.clone().unwrap_or_default();
            claimed.push((n, (Lease { owner, token: run.lease_token }, run)));
        }
        claimed.sort_by_key(|(n, _)| *n);
        Ok(claimed.into_iter().map(|(_, c)| c).collect())
    }

    async fn acquire_lease(&self, key: &RunKey, owner: &str, ttl: Duration) -> Result<Option<(Lease, RunRecord)>, JournalError> {
        let row = self.commits.counted(
            sqlx::query(&ACQUIRE).bind(&key.instance).bind(&key.run_id).bind(owner).bind(millis(ttl)).fetch_optional(&self.pool).await,
        )?;
        row.as_ref().map(|row| leased_run(row, owner)).transpose()
    }

    async fn renew_leases(&self, leases: &[(RunKey, Lease)], ttl: Duration) -> Result<Vec<Renewal>, JournalError> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let arrays = LeaseArrays::new(leases.iter().map(|(k, l)| (k, l)));
        let rows = self.commits.counted(arrays.bind(sqlx::query(&RENEW)).bind(millis(ttl)).fetch_all(&self.leases).await)?;
        let mut renewed = vec![Renewal::Lost; leases.len()];
        for row in rows {
            let idx: i64 = row.try_get("idx")?;
            let cancel_requested: bool = row.try_get("cancel_requested")?;
            let graceful_cancel: bool = row.try_get("graceful_cancel")?;
            let paused: bool = row.try_get("paused")?;
            if let Some(r) = usize::try_from(idx).ok().and_then(|i| renewed.get_mut(i)) {
                *r = Renewal::Renewed { cancel_requested, graceful_cancel, paused };
            }
        }
        Ok(renewed)
    }

    async fn release_lease(&self, key: &RunKey, lease: &Lease, after: Duration) -> Result<bool, JournalError> {
        let mut tx = self.pool.begin().await?;
        let arrays = LeaseArrays::new(std::iter::once((key, lease)));
        let done = arrays.bind(sqlx::query(&RELEASE)).bind(millis(after)).execute(&mut *tx).await?.rows_affected() == 1;
        if done {
            notify(&mut tx, WakeKind::Run, &key.instance, &key.run_id).await?;
        }
        self.commit_tx(tx).await?;
        Ok(done)
    }
}
