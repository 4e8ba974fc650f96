//! The SQLite journal: the embedded default, for one process. Same
//! semantics as Postgres; writers are serialized (an in-process lock and
//! `BEGIN IMMEDIATE` against other processes), and wake-ups are broadcast
//! in process after each commit. Timestamps are milliseconds since the
//! epoch. One file per concern, each implementing its role trait; the
//! lease fence is written once, in [`fence`].

mod clock;
mod codec;
mod commit;
mod continuation;
mod family;
mod fence;
mod leases;
mod modules;
mod notifications;
mod run_control;
mod runs;
mod schedules;
mod snapshots;
mod tasks;
mod workers;

pub(crate) use clock::Clock;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use tokio::sync::{broadcast, Mutex, MutexGuard};

use super::codec::state_and_workflow;
use super::reads::{ReadPool, SharedReads};
use super::{CommitCounter, Journal, JournalError, RunKey, RunState, Wake, WakeKind};

/// Times a migration that raced another process is tried again.
const MIGRATE_RETRIES: u32 = 20;
/// Times opening a database another process is creating is tried again.
const OPEN_RETRIES: u32 = 50;

/// True for SQLite's "database is locked" / "busy" errors.
fn is_busy(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            matches!(d.code().as_deref(), Some("5" | "6" | "261" | "517"))
                || d.message().contains("database is locked")
        }
        _ => false,
    }
}
/// How long a writer waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Wake-ups buffered per listener before the oldest are dropped.
const WAKE_BUFFER: usize = 1024;

/// A journal in a SQLite database file.
#[derive(Debug)]
pub struct SqliteJournal {
    pool: SqlitePool,
    clock: Clock,
    write_lock: Mutex<()>,
    wakes: broadcast::Sender<Wake>,
    commits: CommitCounter,
}

/// A write transaction, holding the in-process write lock.
struct WriteTx<'a> {
    tx: Transaction<'static, Sqlite>,
    _guard: MutexGuard<'a, ()>,
    wakes: Vec<Wake>,
}

fn wake(kind: WakeKind, key: &RunKey) -> Wake {
    Wake { instance: key.instance.clone(), run_id: key.run_id.clone(), kind }
}

impl SqliteJournal {
    /// Opens (creating if missing, with its parent directories) the
    /// database at `url` (`sqlite:path` or `sqlite::memory:`), in WAL mode.
    /// Does not migrate.
    pub async fn connect(url: &str) -> Result<Self, JournalError> {
        Self::connect_with_clock(url, Clock::default()).await
    }

    /// [`SqliteJournal::connect`], reading the time from `clock`.
    pub(crate) async fn connect_with_clock(url: &str, clock: Clock) -> Result<Self, JournalError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT);
        let file = options.get_filename().to_path_buf();
        let in_memory = file.as_os_str() == ":memory:" || url.contains(":memory:");
        if !in_memory {
            if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| JournalError::Database(sqlx::Error::Io(e)))?;
            }
        }
        // An in-memory database lives as long as its one connection.
        let pool = if in_memory {
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await?
        } else {
            // Another process creating the same fresh file (switching it to
            // WAL) makes the first connection fail with SQLITE_BUSY at once,
            // without waiting out the busy timeout: try again for a while.
            let mut tries = 0;
            loop {
                match SqlitePoolOptions::new().max_connections(4).connect_with(options.clone()).await {
                    Ok(pool) => break pool,
                    Err(e) if is_busy(&e) && tries < OPEN_RETRIES => {
                        tries += 1;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let (wakes, _) = broadcast::channel(WAKE_BUFFER);
        Ok(Self { pool, clock, write_lock: Mutex::new(()), wakes, commits: CommitCounter::default() })
    }

    /// Closes the pool.
    #[cfg_attr(not(test), allow(dead_code))] // used by the crate's tests only since the API narrowed
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Now, in milliseconds since the epoch.
    fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE`) under the write lock.
    async fn write(&self) -> Result<WriteTx<'_>, JournalError> {
        let guard = self.write_lock.lock().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(WriteTx { tx, _guard: guard, wakes: Vec::new() })
    }

    /// Commits and then broadcasts the transaction's wake-ups.
    async fn finish(&self, w: WriteTx<'_>) -> Result<(), JournalError> {
        let WriteTx { tx, _guard: guard, wakes } = w;
        tx.commit().await?;
        self.commits.add();
        drop(guard);
        for w in wakes {
            // No listener is fine: polling is the backstop.
            let _ = self.wakes.send(w);
        }
        Ok(())
    }
}

impl WriteTx<'_> {
    /// A run's state and workflow; `None` if it does not exist.
    async fn run_workflow(&mut self, key: &RunKey) -> Result<Option<(RunState, String)>, JournalError> {
        let row = sqlx::query("SELECT state, workflow FROM runs WHERE instance = ?1 AND run_id = ?2")
            .bind(&key.instance)
            .bind(&key.run_id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(|row| state_and_workflow(row, key)).transpose()
    }

    /// Bumps a run's `wake_gen` and makes it due if it waits.
    async fn wake_run(&mut self, key: &RunKey, now: i64) -> Result<(), JournalError> {
        sqlx::query(
            "UPDATE runs SET wake_gen = wake_gen + 1, updated_at = ?3, \
                    wake_at = CASE WHEN state IN ('pending', 'suspended') THEN ?3 ELSE wake_at END \
             WHERE instance = ?1 AND run_id = ?2",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}

impl SharedReads for SqliteJournal {
    fn read_pool(&self) -> &dyn ReadPool {
        &self.pool
    }
}

#[async_trait]
impl Journal for SqliteJournal {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn commits(&self) -> u64 {
        self.commits.get()
    }

    async fn migrate(&self) -> Result<(), JournalError> {
        // SQLite has no advisory lock: two processes opening a fresh
        // database at once (a host and a CLI call) may both decide to apply
        // a migration; the loser's statement then fails on what the winner
        // created. Each migration is one transaction, so trying again sees
        // the winner's work recorded and goes on from there.
        let mut tries = 0;
        loop {
            match sqlx::migrate!("../migrations/sqlite").run(&self.pool).await {
                Ok(()) => return Ok(()),
                Err(e) if tries < MIGRATE_RETRIES => {
                    tries += 1;
                    tracing::debug!(error = %e, tries, "migrating raced another process; trying again");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}
