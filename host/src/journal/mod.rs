//! The journal: where every run, its events, timers, signals and activity
//! tasks are stored. One trait, [`Journal`], with a Postgres implementation
//! (production, many hosts) and a SQLite one (the embedded default, one
//! process). Both pass the same test suite.

mod batcher;
mod creation_batcher;
mod migration;
mod model;
mod postgres;
mod snapshot;
mod sqlite;
#[cfg(test)]
mod tests;

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::Stream;
use serde_json::Value;

pub use batcher::{Batcher, BatcherConfig};
pub use creation_batcher::CreationBatcher;
pub use migration::{CheckedRun, MigrationOutcome};
pub use model::*;
pub use postgres::PostgresJournal;
pub use snapshot::{load_history, make as make_snapshot};
pub use sqlite::SqliteJournal;

/// A stream of wake-up notifications for one instance.
pub type WakeStream = Pin<Box<dyn Stream<Item = Wake> + Send>>;

/// Errors from the journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The database refused or failed an operation.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying the migrations failed.
    #[error("applying migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database did not answer in time when the journal was opened.
    #[error("the database did not answer within {0:?}")]
    ConnectTimeout(Duration),
    /// The database URL names no supported database.
    #[error("unsupported database URL `{0}` (expected postgres://... or sqlite:...)")]
    UnsupportedUrl(String),
    /// A run with that key exists already.
    #[error("run `{0}` already exists")]
    RunExists(RunKey),
    /// No run with that key.
    #[error("run `{0}` not found")]
    UnknownRun(RunKey),
    /// The run has already finished.
    #[error("run `{key}` is already {state}")]
    RunFinished {
        /// The run.
        key: RunKey,
        /// Its final state.
        state: RunState,
    },
    /// The group commit this write was part of failed; nothing of it was
    /// applied.
    #[error("batched commit failed: {0}")]
    BatchFailed(Arc<JournalError>),
    /// The batcher has shut down.
    #[error("the journal writer has shut down")]
    WriterClosed,
    /// A stored row could not be decoded.
    #[error("corrupt journal row for run `{key}`: {detail}")]
    Corrupt {
        /// The run (or `instance/?` when unknown).
        key: String,
        /// What is wrong.
        detail: String,
    },
}

/// The storage contract of the runtime. Every method is one transaction.
///
/// Writes that belong to an engine are fenced: they carry the [`Lease`] the
/// engine holds and are applied only while the run's `lease_token` and
/// `lease_owner` still match, so an engine that lost its lease can never
/// write again.
#[async_trait]
pub trait Journal: Send + Sync + 'static {
    /// `"postgres"` or `"sqlite"`.
    fn kind(&self) -> &'static str;

    /// Applies the migrations of this database kind (idempotent).
    async fn migrate(&self) -> Result<(), JournalError>;

    /// Inserts many new runs in one transaction, each as
    /// [`Journal::create_run`] would (`lease`: the owner that executes it at
    /// once, and the lease time); returns, per run, whether it was inserted
    /// (false: its key was taken, by an earlier run or earlier in `runs`).
    async fn create_runs(&self, runs: &[(NewRun, Option<(String, Duration)>)]) -> Result<Vec<bool>, JournalError>;

    /// Inserts a new run. With `lease = Some((owner, ttl))` the run is
    /// inserted `running` with the lease taken by `owner` (the starting host
    /// executes it at once) and that lease is returned; otherwise it is
    /// inserted `pending`, due now, and a [`WakeKind::Run`] is notified.
    /// Fails with [`JournalError::RunExists`] if the key is taken.
    async fn create_run(
        &self,
        run: &NewRun,
        lease: Option<(&str, Duration)>,
    ) -> Result<Option<Lease>, JournalError>;

    /// Reads a run.
    async fn get_run(&self, key: &RunKey) -> Result<Option<RunRecord>, JournalError>;

    /// Lists an instance's runs, newest first.
    async fn list_runs(&self, instance: &str, limit: i64) -> Result<Vec<RunRecord>, JournalError>;

    /// Reads a run's journal in `seq` order.
    async fn load_events(&self, key: &RunKey) -> Result<Vec<Event>, JournalError>;

    /// Runs of the instance an engine should pick up now: `pending` or
    /// `suspended` with `wake_at <= now`, or `running` with an expired lease.
    /// Oldest wake-up first.
    async fn find_ready_runs(
        &self,
        instance: &str,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<RunKey>, JournalError>;

    /// Compare-and-set lease acquisition: succeeds when the run is not final
    /// and nobody holds an unexpired lease on it. Increments the fencing
    /// token, sets the state `running`, and returns the lease and the run as
    /// updated. `None` when someone else holds it or the run is final.
    async fn acquire_lease(
        &self,
        key: &RunKey,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<(Lease, RunRecord)>, JournalError>;

    /// Extends the leases still held (owner and token match); returns, in
    /// order, what renewing each found: lost, or renewed (and whether its
    /// run has a cancellation request, so that a request no notification
    /// brought still reaches the running engine).
    async fn renew_leases(
        &self,
        leases: &[(RunKey, Lease)],
        ttl: Duration,
    ) -> Result<Vec<Renewal>, JournalError>;

    /// Gives a lease up without finishing the run: the run becomes
    /// `suspended` and due at once, for any engine to pick up. Returns false
    /// if the lease was no longer held.
    async fn release_lease(&self, key: &RunKey, lease: &Lease) -> Result<bool, JournalError>;

    /// Applies each write atomically and fenced (see [`RunWrite`]). All
    /// writes share one transaction where the database allows; a write
    /// whose fence fails is skipped without affecting the others. Returns,
    /// in order, whether each was applied.
    async fn commit(&self, writes: &[RunWrite]) -> Result<Vec<bool>, JournalError>;

    /// Appends a signal to a run's inbox, bumps its `wake_gen`, makes a
    /// suspended run due and notifies; returns the signal's id and the
    /// run's workflow. Fails with `UnknownRun` or `RunFinished`.
    async fn send_signal(
        &self,
        key: &RunKey,
        name: &str,
        payload: &Value,
    ) -> Result<SentSignal, JournalError>;

    /// The run's undelivered signals, in the order they were sent.
    async fn inbox(&self, key: &RunKey) -> Result<Vec<InboxSignal>, JournalError>;

    /// Records a cancellation request (bumps `wake_gen`, makes the run due,
    /// notifies [`WakeKind::Cancel`]). Fails with `UnknownRun`.
    async fn request_cancel(&self, key: &RunKey) -> Result<CancelRequest, JournalError>;

    /// Marks the instance's timers due at `now` as fired and makes their
    /// runs due; returns the runs woken (with their workflow), in key order.
    async fn fire_due_timers(
        &self,
        instance: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<WokenRun>, JournalError>;

    /// The earliest unfired timer of the instance.
    async fn next_timer_at(&self, instance: &str) -> Result<Option<DateTime<Utc>>, JournalError>;

    /// Claims up to `limit` ready activity tasks of the given queues (and
    /// activity names), highest priority first, skipping rows locked by
    /// other claimers. A claim expires after `ttl`. Each claim is one
    /// attempt of its call (see [`ClaimedTask::attempt`]).
    async fn claim_tasks(
        &self,
        instance: &str,
        queues: &[String],
        names: &[String],
        owner: &str,
        ttl: Duration,
        limit: i64,
    ) -> Result<Vec<ClaimedTask>, JournalError>;

    /// Records a claimed task's outcome, fenced by its claim token and
    /// expiry; wakes the run. Returns false (and records nothing) if the
    /// claim moved or expired.
    async fn complete_task(
        &self,
        key: &RunKey,
        op: u32,
        claim_token: i64,
        outcome: &TaskOutcome,
    ) -> Result<bool, JournalError>;

    /// Gives a claimed task back for a retry after its attempt failed:
    /// fenced like [`Journal::complete_task`], it becomes claimable again
    /// `delay` from now, with the attempt counted as ended (the next claim
    /// is the next attempt, on any worker). False when the claim was lost.
    async fn retry_task(&self, key: &RunKey, op: u32, claim_token: i64, delay: Duration) -> Result<bool, JournalError>;

    /// Extends a task claim still held (same claim token, still claimed,
    /// not expired) by `ttl`; false when the claim was lost.
    async fn renew_task_claim(&self, key: &RunKey, op: u32, claim_token: i64, ttl: Duration) -> Result<bool, JournalError>;

    /// Stores the latest heartbeat details of the run's activity call `op`
    /// (made by attempt `attempt`), replacing older ones.
    async fn record_heartbeat(&self, key: &RunKey, op: u32, attempt: u32, details: &Value) -> Result<(), JournalError>;

    /// The run's stored heartbeats (calls still in progress), by operation.
    async fn heartbeats(&self, key: &RunKey) -> Result<Vec<ActivityHeartbeat>, JournalError>;

    /// Forgets the heartbeat of the run's call `op` (it reached its final
    /// outcome).
    async fn clear_heartbeat(&self, key: &RunKey, op: u32) -> Result<(), JournalError>;

    /// The outcomes recorded for the run's tasks that the journal has not
    /// taken in yet, by operation number.
    async fn task_outcomes(&self, key: &RunKey) -> Result<Vec<(u32, TaskOutcome)>, JournalError>;

    /// Stores a workflow module version (idempotent by hash); parked runs
    /// recorded on it are made due, and hosts are notified
    /// ([`WakeKind::Deploy`]). `publish` says whether new runs of
    /// `workflow` start on it from now on.
    async fn put_module(
        &self,
        instance: &str,
        workflow: &str,
        hash: &str,
        bytes: &[u8],
        publish: Publish,
    ) -> Result<(), JournalError>;

    /// A stored module version.
    async fn get_module(&self, instance: &str, hash: &str) -> Result<Option<StoredModule>, JournalError>;

    /// The current version of each workflow: `(workflow, hash)`.
    async fn current_modules(&self, instance: &str) -> Result<Vec<(String, String)>, JournalError>;

    /// Moves the unfinished runs of `workflow` (all, or those in `run_ids`)
    /// to module version `to`, making parked ones due; returns how many.
    async fn migrate_runs(
        &self,
        instance: &str,
        workflow: &str,
        run_ids: &[String],
        to: &str,
    ) -> Result<u64, JournalError>;

    /// Moves each of `runs` to module version `to`, as a compare-and-set
    /// per run: only if it is still an unfinished run of `workflow`, no live
    /// lease holds it, and its journal still ends at the `last_seq` its
    /// replay check saw. A moved run's expired lease is cleared (fencing off
    /// its old holder) and a parked one is made due. Returns an outcome per
    /// run, in the order given.
    async fn migrate_checked_runs(
        &self,
        instance: &str,
        workflow: &str,
        runs: &[CheckedRun],
        to: &str,
    ) -> Result<Vec<MigrationOutcome>, JournalError>;

    /// The run's journal entries after `after_seq`, in order.
    async fn load_events_after(&self, key: &RunKey, after_seq: i64) -> Result<Vec<Event>, JournalError>;

    /// Stores (replacing any older one) a run's snapshot.
    async fn put_snapshot(&self, key: &RunKey, snapshot: &Snapshot) -> Result<(), JournalError>;

    /// The run's snapshot, if it has one.
    async fn get_snapshot(&self, key: &RunKey) -> Result<Option<Snapshot>, JournalError>;

    /// The stored result of an activity completed with this idempotency
    /// key in the instance: `(activity, output)`.
    async fn idempotent_result(&self, instance: &str, key: &str) -> Result<Option<(String, Value)>, JournalError>;

    /// Stores a completed activity's result under its idempotency key (the
    /// first one stored wins).
    async fn put_idempotent_result(
        &self,
        instance: &str,
        key: &str,
        activity: &str,
        output: &Value,
    ) -> Result<(), JournalError>;

    /// Subscribes to the instance's wake-ups.
    async fn listen(&self, instance: &str) -> Result<WakeStream, JournalError>;

    // Withdrawing an unconfirmed cancellation request.

    /// Withdraws a cancellation request nobody confirmed (compare-and-set):
    /// clears `cancel_requested_at` only while the run is unfinished and the
    /// request is still the one recorded at `requested_at`. A run that
    /// finished meanwhile (cancelled by its engine, or otherwise) is
    /// reported as [`CancelWithdrawal::AlreadyFinal`].
    async fn withdraw_cancel(
        &self,
        key: &RunKey,
        requested_at: DateTime<Utc>,
    ) -> Result<CancelWithdrawal, JournalError>;
}

/// A shared journal.
pub type SharedJournal = Arc<dyn Journal>;

/// How long opening a journal may take by default before the database
/// counts as unreachable.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens the journal a URL names (`postgres://...` or `sqlite:...`), with a
/// connection pool of `max_connections`. Does not migrate. Gives up after
/// [`DEFAULT_CONNECT_TIMEOUT`] (see [`open_with_timeout`]).
pub async fn open(url: &str, max_connections: u32) -> Result<SharedJournal, JournalError> {
    open_with_timeout(url, max_connections, DEFAULT_CONNECT_TIMEOUT).await
}

/// [`open`], giving up with [`JournalError::ConnectTimeout`] when the
/// database has not answered within `timeout`.
pub async fn open_with_timeout(
    url: &str,
    max_connections: u32,
    timeout: Duration,
) -> Result<SharedJournal, JournalError> {
    let opening = async {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Arc::new(PostgresJournal::connect(url, max_connections).await?) as SharedJournal)
        } else if url.starts_with("sqlite:") {
            Ok(Arc::new(SqliteJournal::connect(url).await?) as SharedJournal)
        } else {
            Err(JournalError::UnsupportedUrl(url.to_string()))
        }
    };
    tokio::time::timeout(timeout, opening).await.map_err(|_| JournalError::ConnectTimeout(timeout))?
}
