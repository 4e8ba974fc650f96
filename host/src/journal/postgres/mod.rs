//! The Postgres journal: production storage shared by many hosts. Leases
//! and claim tokens fence every write (the lease fence: [`fence`]),
//! `FOR UPDATE SKIP LOCKED` spreads runs and activity tasks among hosts,
//! and `LISTEN`/`NOTIFY` on one channel wakes hosts. `commit` applies a
//! whole batch of run writes in one transaction with one statement per
//! table (arrays through `UNNEST`). One file per concern, each implementing
//! its role trait.

mod codec;
mod commit;
mod continuation;
mod family;
mod fence;
mod leases;
mod modules;
mod notifications;
mod one_statement;
mod plan_refresh;
mod run_control;
mod runs;
mod schedules;
mod snapshots;
mod tasks;
mod workers;

use async_trait::async_trait;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres, Transaction};

use self::codec::{wake_payload, WAKE_CHANNEL};
use super::codec::state_and_workflow;
use super::reads::{ReadPool, SharedReads};
use super::{CommitCounter, Journal, JournalError, RunKey, RunState, WakeKind};

type Tx = Transaction<'static, Postgres>;

/// Connections of the lease-renewal pool (beside the main pool).
const LEASE_CONNECTIONS: u32 = 2;

/// A journal in a Postgres database.
#[derive(Debug, Clone)]
pub struct PostgresJournal {
    pool: PgPool,
    /// A small pool of its own for lease renewals, so that a host whose
    /// main pool is busy (many runs loading their histories at once) still
    /// renews its leases in time instead of losing them.
    leases: PgPool,
    /// Write transactions committed (shared by the clones).
    commits: CommitCounter,
    /// Runs created, and the statistics refreshes they call for.
    plans: std::sync::Arc<plan_refresh::PlanRefresh>,
}

impl PostgresJournal {
    /// Connects a pool of at most `max_connections` to the database at
    /// `url`. Does not migrate.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, JournalError> {
        // The journal's statements are few, prepared once per connection,
        // and shaped by arrays (`UNNEST`) whose contents never change the
        // best plan: plan them once instead of at every execution (custom
        // plans cost more than the write itself for the batched commit).
        // Those plans are made for the tables' sizes of the time:
        // `plan_refresh` has them made again as the tables grow.
        //
        // One plain connection first: it fails at once with the real reason
        // (the pool would retry a refused connection until its acquire
        // timeout and then report only the timeout).
        {
            use sqlx::Connection;
            sqlx::PgConnection::connect(url).await?.close().await?;
        }
        let options = || {
            PgPoolOptions::new().after_connect(|conn, _meta| {
                Box::pin(async move {
                    sqlx::query("SET plan_cache_mode = force_generic_plan").execute(conn).await?;
                    Ok(())
                })
            })
        };
        let pool = options().max_connections(max_connections.max(1)).connect(url).await?;
        let leases = options().max_connections(LEASE_CONNECTIONS).connect_lazy(url)?;
        Ok(Self { pool, leases, commits: CommitCounter::default(), plans: Default::default() })
    }

    /// Closes the pool (waits for connections in use to be returned).
    #[cfg_attr(not(test), allow(dead_code))] // used by the crate's tests only since the API narrowed
    pub async fn close(&self) {
        self.pool.close().await;
        self.leases.close().await;
    }

    /// Commits `tx` and counts it.
    async fn commit_tx(&self, tx: Tx) -> Result<(), JournalError> {
        tx.commit().await?;
        self.commits.add();
        Ok(())
    }
}

impl SharedReads for PostgresJournal {
    fn read_pool(&self) -> &dyn ReadPool {
        &self.pool
    }
}

#[async_trait]
impl Journal for PostgresJournal {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    fn commits(&self) -> u64 {
        self.commits.get()
    }

    async fn migrate(&self) -> Result<(), JournalError> {
        sqlx::migrate!("../migrations/postgres").run(&self.pool).await?;
        Ok(())
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

/// Locks a run's row; its state and workflow, `None` if it does not exist.
async fn lock_run(tx: &mut Tx, key: &RunKey) -> Result<Option<(RunState, String)>, JournalError> {
    let row = sqlx::query("SELECT state, workflow FROM runs WHERE instance = $1 AND run_id = $2 FOR UPDATE")
        .bind(&key.instance)
        .bind(&key.run_id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(|row| state_and_workflow(row, key)).transpose()
}
