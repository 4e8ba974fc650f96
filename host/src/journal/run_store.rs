//! [`RunStore`]: runs as the facade, the CLI and the engines see them:
//! creating and reading runs and their journals, signals, and cancellation
//! requests.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::reads::{self, SharedReads};
use super::{
    CancelKind, CancelRequest, CancelWithdrawal, Event, InboxSignal, JournalError, Lease, NewRun, RunKey, RunRecord, SentSignal,
};
use std::time::Duration;

/// Runs, their journals, their inboxes and their cancellation requests.
/// Every method is one transaction.
#[async_trait]
pub trait RunStore: SharedReads + Send + Sync + 'static {
    /// Inserts many new runs in one transaction, each as
    /// [`RunStore::create_run`] would (`lease`: the owner that executes it
    /// at once, and the lease time); returns, per run, the run as inserted,
    /// with the lease taken when one was asked for (`None`: its key was
    /// taken, by an earlier run or earlier in `runs`).
    async fn create_runs(
        &self,
        runs: &[(NewRun, Option<(String, Duration)>)],
    ) -> Result<Vec<Option<(RunRecord, Option<Lease>)>>, JournalError>;

    /// Inserts a new run and returns it as stored. With `lease = Some((owner,
    /// ttl))` the run is inserted `running` with the lease taken by `owner`
    /// (the starting host executes it at once) and that lease is returned;
    /// otherwise it is inserted `pending`, due now, and a
    /// [`WakeKind::Run`](super::WakeKind::Run) is notified. Fails with
    /// [`JournalError::RunExists`] if the key is taken.
    async fn create_run(
        &self,
        run: &NewRun,
        lease: Option<(&str, Duration)>,
    ) -> Result<(RunRecord, Option<Lease>), JournalError>;

    /// Reads a run.
    async fn get_run(&self, key: &RunKey) -> Result<Option<RunRecord>, JournalError> {
        reads::get_run(self.read_pool(), key).await
    }

    /// The child runs a run started (`start-child`), by the parent's
    /// operation.
    async fn children(&self, key: &RunKey) -> Result<Vec<super::ChildRun>, JournalError> {
        reads::children(self.read_pool(), key).await
    }

    /// The runs of the chain (continue-as-new) whose first run is `root`,
    /// in order: the first run, then its continuations; just the first
    /// run when it continued none (empty when there is no such run).
    async fn chain(&self, instance: &str, root: &str) -> Result<Vec<super::ChainRun>, JournalError> {
        reads::chain(self.read_pool(), instance, root).await
    }

    /// Lists an instance's runs, newest first.
    async fn list_runs(&self, instance: &str, limit: i64) -> Result<Vec<RunRecord>, JournalError> {
        reads::list_runs(self.read_pool(), instance, limit).await
    }

    /// Lists an instance's runs matching a query, newest first (by
    /// creation time, then run id), after the query's cursor.
    async fn query_runs(&self, instance: &str, query: &super::RunQuery) -> Result<Vec<RunRecord>, JournalError> {
        reads::query_runs(self.read_pool(), instance, query).await
    }

    /// The attributes of the instance's runs `run_ids` (those that have
    /// any), by run id, then key.
    async fn attributes(
        &self,
        instance: &str,
        run_ids: &[String],
    ) -> Result<std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>, JournalError> {
        reads::attributes(self.read_pool(), instance, run_ids).await
    }

    /// At most `limit` entries of a run's journal after `after_seq`, in
    /// `seq` order (the raw journal: snapshots are not consulted).
    async fn events_page(&self, key: &RunKey, after_seq: i64, limit: i64) -> Result<Vec<Event>, JournalError> {
        reads::events_page(self.read_pool(), key, after_seq, limit).await
    }

    /// The instance's runs changed (any column) at or after `since`,
    /// oldest change first, at most `limit`.
    async fn runs_updated_since(&self, instance: &str, since: DateTime<Utc>, limit: i64) -> Result<Vec<RunRecord>, JournalError> {
        reads::runs_updated_since(self.read_pool(), instance, since, limit).await
    }

    /// One round trip to the database (readiness probes).
    async fn ping(&self) -> Result<(), JournalError> {
        reads::ping(self.read_pool()).await
    }

    /// Reads a run's journal in `seq` order.
    async fn load_events(&self, key: &RunKey) -> Result<Vec<Event>, JournalError> {
        reads::load_events_after(self.read_pool(), key, 0).await
    }

    /// Appends a signal to a run's inbox, bumps its `wake_gen`, makes a
    /// suspended run due and notifies; returns the signal's id and the
    /// run's workflow. Fails with `UnknownRun` or `RunFinished`.
    ///
    /// With an `idempotency_key` the run receives the signal once: a
    /// resend finds the first one (same name and payload: returned as a
    /// duplicate, nothing sent, even once the run finished; otherwise
    /// `SignalKeyConflict`).
    async fn send_signal(
        &self,
        key: &RunKey,
        name: &str,
        payload: &Value,
        idempotency_key: Option<&str>,
    ) -> Result<SentSignal, JournalError>;

    /// The run's undelivered signals, in the order they were sent.
    async fn inbox(&self, key: &RunKey) -> Result<Vec<InboxSignal>, JournalError> {
        reads::inbox(self.read_pool(), key).await
    }

    /// Records a request of `kind` (bumps `wake_gen`, makes the run due,
    /// notifies [`WakeKind::Cancel`](super::WakeKind::Cancel)): a
    /// termination sets `cancel_requested_at`, a cancellation
    /// `graceful_cancel_at` (an earlier request of the kind is kept).
    /// Fails with `UnknownRun`.
    async fn request_cancel(&self, key: &RunKey, kind: CancelKind) -> Result<CancelRequest, JournalError>;

    /// Withdraws a cancellation request nobody confirmed (compare-and-set):
    /// clears `cancel_requested_at` only while the run is unfinished and the
    /// request is still the one recorded at `requested_at`. A run that
    /// finished meanwhile (cancelled by its engine, or otherwise) is
    /// reported as [`CancelWithdrawal::AlreadyFinal`].
    async fn withdraw_cancel(&self, key: &RunKey, requested_at: DateTime<Utc>) -> Result<CancelWithdrawal, JournalError>;
}
