//! [`LeaseStore`]: leases as the dispatcher, recovery, the heartbeater and
//! cancellation take, renew and give them up.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::reads::{self, SharedReads};
use super::{JournalError, Lease, Renewal, RunKey, RunRecord};

/// Taking, renewing and giving up the leases on runs. A lease is taken
/// only on a run that is not final and that nobody holds an unexpired lease
/// on; taking it increments the run's fencing token and sets it `running`.
#[async_trait]
pub trait LeaseStore: SharedReads + Send + Sync + 'static {
    /// Claims up to `owners.len()` runs of the instance that are due now
    /// (`pending` or `suspended` with `wake_at` passed, or `running` with
    /// an expired lease), oldest wake-up first, skipping the runs in
    /// `exclude` (executing here already) and rows other claimers hold
    /// locked. The i-th run claimed gets the lease of `owners[i]`, for
    /// `ttl`, with its own fencing token increment. Returns the leases and
    /// the runs as updated, in claim order.
    async fn claim_runs(
        &self,
        instance: &str,
        owners: &[String],
        exclude: &[String],
        ttl: Duration,
    ) -> Result<Vec<(Lease, RunRecord)>, JournalError>;

    /// The instance's runs an engine would pick up at `now`, without
    /// taking them (same rule and order as [`LeaseStore::claim_runs`]).
    #[cfg_attr(not(test), allow(dead_code))] // the journal suite checks readiness with it; hosts claim with claim_runs
    async fn find_ready_runs(&self, instance: &str, now: DateTime<Utc>, limit: i64) -> Result<Vec<RunKey>, JournalError> {
        reads::find_ready_runs(self.read_pool(), instance, now, limit).await
    }

    /// The instance's `running` runs whose lease expired before `now` (their
    /// host died or lost them), oldest expiry first.
    async fn expired_runs(&self, instance: &str, now: DateTime<Utc>, limit: i64) -> Result<Vec<RunRecord>, JournalError> {
        reads::expired_runs(self.read_pool(), instance, now, limit).await
    }

    /// The earliest `wake_at` after `after` among the instance's waiting
    /// runs (`pending` or `suspended`): when the next timer falls due.
    async fn next_wake_at(&self, instance: &str, after: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, JournalError> {
        reads::next_wake_at(self.read_pool(), instance, after).await
    }

    /// Compare-and-set lease acquisition on one run (see the trait). `None`
    /// when someone else holds it or the run is final.
    async fn acquire_lease(&self, key: &RunKey, owner: &str, ttl: Duration) -> Result<Option<(Lease, RunRecord)>, JournalError>;

    /// Extends the leases still held (owner and token match); returns, in
    /// order, what renewing each found: lost, or renewed (and whether its
    /// run has a cancellation request, so that a request no notification
    /// brought still reaches the running engine).
    async fn renew_leases(&self, leases: &[(RunKey, Lease)], ttl: Duration) -> Result<Vec<Renewal>, JournalError>;

    /// Gives a lease up without finishing the run: the run becomes
    /// `suspended` and due `after` this long (at once for zero), for any
    /// engine to pick up. Returns false if the lease was no longer held.
    async fn release_lease(&self, key: &RunKey, lease: &Lease, after: Duration) -> Result<bool, JournalError>;
}
