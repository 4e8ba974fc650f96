//! The journal: where every run, its events, signals and activity tasks
//! are stored. A few role traits, named for who uses them ([`RunStore`],
//! [`LeaseStore`], [`CommitStore`], [`TaskStore`], [`WorkerStore`], [`ModuleStore`], [`ScheduleStore`],
//! [`SnapshotStore`], [`Notifications`]), together the [`Journal`], with a
//! Postgres implementation (production, many hosts; `journal/postgres/`)
//! and a SQLite one (the embedded default, one process; `journal/sqlite/`),
//! each a file per concern. Both pass the same test suite.
//!
//! What the two stores do alike is written once here: the reads, as the
//! role traits' provided methods over the store's pool ([`reads`], in SQL
//! with numbered `$N` parameters, which SQLite takes too), the rule of a
//! checked migration ([`migration`]), the claim fence of activity tasks
//! ([`task_sql`]), the checks before a signal or a cancellation request
//! ([`run_checks`]), and the decoding of rows ([`codec`]). The store
//! folders keep what differs: timestamps (Postgres `timestamptz` and
//! `now()`, SQLite milliseconds from its own clock), locking (`FOR UPDATE
//! SKIP LOCKED` against SQLite's single writer), and notification.

mod children;
mod codec;
mod commit_counter;
mod commit_store;
mod continuation;
mod group_commit;
mod lease_store;
mod migration;
mod model;
mod module_store;
mod notifications;
#[cfg(feature = "postgres")]
mod postgres;
mod reads;
mod run_checks;
mod run_control_store;
mod run_store;
mod schedule_store;
mod snapshot;
mod snapshot_store;
#[cfg(feature = "sqlite")]
mod sqlite;
mod task_sql;
mod task_store;
mod worker_store;
#[cfg(all(test, feature = "postgres", feature = "sqlite"))]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use children::{ChildFailure, ChildFailureKind, ChildOptions, ChildRun, NewChild, ParentClose};
pub use commit_counter::CommitCounter;
pub use commit_store::CommitStore;
pub use continuation::{continuation_run_id, ChainRun, Continuation};
pub use group_commit::{BatcherConfig, GroupCommit};
pub use lease_store::LeaseStore;
pub use migration::{CheckedRun, MigrationOutcome};
pub use model::*;
pub use module_store::ModuleStore;
pub use notifications::{Notifications, WakeStream};
#[cfg(feature = "postgres")]
pub use postgres::PostgresJournal;
pub use run_control_store::{ResetPlan, ResetRow, RunControlStore};
pub use run_store::RunStore;
pub use schedule_store::{Advance, ScheduleRow, ScheduleStore, ORIGIN_API, ORIGIN_MANIFEST};
pub use snapshot::{load_history, make as make_snapshot};
pub use snapshot_store::SnapshotStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteJournal;
pub use task_store::TaskStore;
pub use worker_store::{served, ActivityWorker, OpenTask, WaitingTask, WorkerStore};

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
    /// The database URL names a store this build leaves out (its Cargo
    /// feature is off).
    #[error("database URL `{url}` needs the `{feature}` feature of continuum-host, which this build leaves out")]
    StoreNotBuilt {
        /// The URL.
        url: String,
        /// The Cargo feature that would provide the store.
        feature: &'static str,
    },
    /// A run with that key exists already.
    #[error("run `{0}` already exists")]
    RunExists(RunKey),
    /// No run with that key.
    #[error("run `{0}` not found")]
    UnknownRun(RunKey),
    /// A signal with this idempotency key was sent to the run before, with
    /// another name or payload: nothing was sent.
    #[error("run `{key}` already received a signal with idempotency key `{signal_key}`, {difference}")]
    SignalKeyConflict {
        /// The run.
        key: RunKey,
        /// The idempotency key.
        signal_key: String,
        /// How the first signal differs from this one.
        difference: String,
    },
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

/// The storage contract of the runtime: every role together, plus what
/// opening a database needs. Every method is one transaction.
///
/// Writes that belong to an engine are fenced: they carry the [`Lease`] the
/// engine holds and are applied only while the run's `lease_token` and
/// `lease_owner` still match, so an engine that lost its lease can never
/// write again.
#[async_trait]
pub trait Journal:
    RunStore
    + RunControlStore
    + LeaseStore
    + CommitStore
    + TaskStore
    + WorkerStore
    + ModuleStore
    + SnapshotStore
    + ScheduleStore
    + Notifications
{
    /// `"postgres"` or `"sqlite"`.
    fn kind(&self) -> &'static str;

    /// Applies the migrations of this database kind (idempotent).
    async fn migrate(&self) -> Result<(), JournalError>;

    /// Write transactions this journal committed in this process so far
    /// (see [`CommitCounter`]).
    fn commits(&self) -> u64;
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
            open_postgres(url, max_connections).await
        } else if url.starts_with("sqlite:") {
            open_sqlite(url).await
        } else {
            Err(JournalError::UnsupportedUrl(url.to_string()))
        }
    };
    tokio::time::timeout(timeout, opening).await.map_err(|_| JournalError::ConnectTimeout(timeout))?
}

#[cfg(feature = "postgres")]
async fn open_postgres(url: &str, max_connections: u32) -> Result<SharedJournal, JournalError> {
    Ok(Arc::new(PostgresJournal::connect(url, max_connections).await?))
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(url: &str, _max_connections: u32) -> Result<SharedJournal, JournalError> {
    Err(JournalError::StoreNotBuilt { url: url.to_string(), feature: "postgres" })
}

#[cfg(feature = "sqlite")]
async fn open_sqlite(url: &str) -> Result<SharedJournal, JournalError> {
    Ok(Arc::new(SqliteJournal::connect(url).await?))
}

#[cfg(not(feature = "sqlite"))]
async fn open_sqlite(url: &str) -> Result<SharedJournal, JournalError> {
    Err(JournalError::StoreNotBuilt { url: url.to_string(), feature: "sqlite" })
}
