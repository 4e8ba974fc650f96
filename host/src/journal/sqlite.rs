//! The SQLite journal: the embedded default, for one process. Same
//! semantics as Postgres; writers are serialized (an in-process lock and
//! `BEGIN IMMEDIATE` against other processes), and wake-ups are broadcast
//! in process after each commit. Timestamps are milliseconds since the
//! epoch.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};
use tokio::sync::{broadcast, Mutex, MutexGuard};

use super::postgres::codec::{
    col, corrupt, event_from_row, journaled_ops, millis,
    outcome_from_row, queue_of, run_from_row,
    signal_from_row, to_json, FINAL_STATES_SQL, RUN_COLUMNS,
};
use super::{
    CancelRequest, ClaimedTask, Event, InboxSignal, Journal, JournalError, Lease, NewRun, Renewal, RunKey,
    RunRecord, RunState, RunWrite, SentSignal, TaskOutcome, Transition, Wake, WakeKind, WakeStream, WokenRun,
};

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
    write_lock: Mutex<()>,
    wakes: broadcast::Sender<Wake>,
}

/// A write transaction, holding the in-process write lock.
struct WriteTx<'a> {
    tx: Transaction<'static, Sqlite>,
    _guard: MutexGuard<'a, ()>,
    wakes: Vec<Wake>,
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn wake(kind: WakeKind, key: &RunKey) -> Wake {
    Wake { instance: key.instance.clone(), run_id: key.run_id.clone(), kind }
}

impl SqliteJournal {
    /// Opens (creating if missing, with its parent directories) the
    /// database at `url` (`sqlite:path` or `sqlite::memory:`), in WAL mode.
    /// Does not migrate.
    pub async fn connect(url: &str) -> Result<Self, JournalError> {
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
        Ok(Self { pool, write_lock: Mutex::new(()), wakes })
    }

    /// Closes the pool.
    #[cfg_attr(not(test), allow(dead_code))] // used by the crate's tests only since the API narrowed
    pub async fn close(&self) {
        self.pool.close().await;
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
        drop(guard);
        for w in wakes {
            // No listener is fine: polling is the backstop.
            let _ = self.wakes.send(w);
        }
        Ok(())
    }
}

impl WriteTx<'_> {
    /// The state of a run (`None`: no such run).
    async fn run_state(&mut self, key: &RunKey) -> Result<Option<RunState>, JournalError> {
        Ok(self.run_workflow(key).await?.map(|(state, _)| state))
    }

    /// A run's state and workflow; `None` if it does not exist.
    async fn run_workflow(&mut self, key: &RunKey) -> Result<Option<(RunState, String)>, JournalError> {
        let row = sqlx::query("SELECT state, workflow FROM runs WHERE instance = ?1 AND run_id = ?2")
            .bind(&key.instance)
            .bind(&key.run_id)
            .fetch_optional(&mut *self.tx)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let k = key.to_string();
        let state: String = col(&row, "state", &k)?;
        let workflow: String = col(&row, "workflow", &k)?;
        let state = RunState::parse(&state).ok_or_else(|| corrupt(key, format!("unknown state `{state}`")))?;
        Ok(Some((state, workflow)))
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

/// A JSON array of strings, for `IN (SELECT value FROM json_each(?))`.
fn json_list(items: &[String]) -> Result<String, JournalError> {
    serde_json::to_string(items).map_err(|e| corrupt("?", format!("cannot encode a list: {e}")))
}

#[path = "sqlite_modules.rs"]
mod modules;

#[path = "sqlite_heartbeats.rs"]
mod heartbeats;

#[path = "sqlite_tasks.rs"]
mod tasks;

#[path = "sqlite_cancel.rs"]
mod cancel;

#[path = "sqlite_migration.rs"]
mod migration;

#[path = "sqlite_commit.rs"]
mod commit;

#[async_trait]
impl Journal for SqliteJournal {
    fn kind(&self) -> &'static str {
        "sqlite"
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

    async fn create_run(
        &self,
        run: &NewRun,
        lease: Option<(&str, Duration)>,
    ) -> Result<Option<Lease>, JournalError> {
        let owned = lease.map(|(owner, ttl)| (owner.to_string(), ttl));
        match self.create_runs(&[(run.clone(), owned)]).await?.first() {
            Some(true) => Ok(lease.map(|(owner, _)| Lease { owner: owner.to_string(), token: 1 })),
            _ => Err(JournalError::RunExists(run.key.clone())),
        }
    }

    async fn create_runs(&self, runs: &[(NewRun, Option<(String, Duration)>)]) -> Result<Vec<bool>, JournalError> {
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let mut w = self.write().await?;
        let mut inserted = Vec::with_capacity(runs.len());
        for (run, lease) in runs {
            let input = to_json(&run.key, "input", &run.input)?;
            let (state, owner, token, expires, wake_at) = match lease {
                Some((owner, ttl)) => ("running", Some(owner.as_str()), 1_i64, Some(now.saturating_add(millis(*ttl))), None),
                None => ("pending", None, 0, None, Some(now)),
            };
            let done = sqlx::query(
                "INSERT OR IGNORE INTO runs (instance, run_id, workflow, module_hash, input, state, lease_owner, \
                                   lease_token, lease_expires_at, wake_at, created_at, updated_at, trace_context) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12)",
            )
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
            .execute(&mut *w.tx)
            .await?
            .rows_affected()
                == 1;
            if done && lease.is_none() {
                w.wakes.push(wake(WakeKind::Run, &run.key));
            }
            inserted.push(done);
        }
        self.finish(w).await?;
        Ok(inserted)
    }

    async fn get_run(&self, key: &RunKey) -> Result<Option<RunRecord>, JournalError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE instance = ?1 AND run_id = ?2");
        let row = sqlx::query(&sql).bind(&key.instance).bind(&key.run_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(run_from_row).transpose()
    }

    async fn list_runs(&self, instance: &str, limit: i64) -> Result<Vec<RunRecord>, JournalError> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE instance = ?1 \
             ORDER BY created_at DESC, run_id DESC LIMIT ?2"
        );
        let rows = sqlx::query(&sql).bind(instance).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(run_from_row).collect()
    }

    async fn load_events(&self, key: &RunKey) -> Result<Vec<Event>, JournalError> {
        let rows = sqlx::query(
            "SELECT seq, body, recorded_at FROM events WHERE instance = ?1 AND run_id = ?2 ORDER BY seq",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| event_from_row(r, key)).collect()
    }

    async fn find_ready_runs(
        &self,
        instance: &str,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<RunKey>, JournalError> {
        let rows = sqlx::query(
            "SELECT run_id FROM runs WHERE instance = ?1 \
               AND ((state IN ('pending', 'suspended') AND wake_at <= ?2) \
                 OR (state = 'running' AND lease_expires_at < ?2)) \
             ORDER BY COALESCE(wake_at, lease_expires_at), run_id LIMIT ?3",
        )
        .bind(instance)
        .bind(now.timestamp_millis())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(RunKey::new(instance, r.try_get::<String, _>("run_id")?))).collect()
    }

    async fn acquire_lease(
        &self,
        key: &RunKey,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<(Lease, RunRecord)>, JournalError> {
        let now = now_ms();
        let sql = format!(
            "UPDATE runs SET lease_owner = ?3, lease_token = lease_token + 1, lease_expires_at = ?4, \
                    state = 'running', updated_at = ?5 \
             WHERE instance = ?1 AND run_id = ?2 AND state NOT IN {FINAL_STATES_SQL} \
               AND (lease_owner IS NULL OR lease_expires_at < ?5) \
             RETURNING {RUN_COLUMNS}"
        );
        let mut w = self.write().await?;
        let row = sqlx::query(&sql)
            .bind(&key.instance)
            .bind(&key.run_id)
            .bind(owner)
            .bind(now.saturating_add(millis(ttl)))
            .bind(now)
            .fetch_optional(&mut *w.tx)
            .await?;
        self.finish(w).await?;
        let Some(row) = row else { return Ok(None) };
        let run = run_from_row(&row)?;
        Ok(Some((Lease { owner: owner.to_string(), token: run.lease_token }, run)))
    }

    async fn renew_leases(
        &self,
        leases: &[(RunKey, Lease)],
        ttl: Duration,
    ) -> Result<Vec<Renewal>, JournalError> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let mut w = self.write().await?;
        let mut renewed = Vec::with_capacity(leases.len());
        for (key, lease) in leases {
            let row = sqlx::query(
                "UPDATE runs SET lease_expires_at = ?5, updated_at = ?6 \
                 WHERE instance = ?1 AND run_id = ?2 AND lease_owner = ?3 AND lease_token = ?4 \
                 RETURNING cancel_requested_at IS NOT NULL AS cancel_requested",
            )
            .bind(&key.instance)
            .bind(&key.run_id)
            .bind(&lease.owner)
            .bind(lease.token)
            .bind(now.saturating_add(millis(ttl)))
            .bind(now)
            .fetch_optional(&mut *w.tx)
            .await?;
            renewed.push(match row {
                Some(row) => Renewal::Renewed { cancel_requested: row.try_get("cancel_requested")? },
                None => Renewal::Lost,
            });
        }
        self.finish(w).await?;
        Ok(renewed)
    }

    async fn release_lease(&self, key: &RunKey, lease: &Lease) -> Result<bool, JournalError> {
        let mut w = self.write().await?;
        let done = sqlx::query(
            "UPDATE runs SET lease_owner = NULL, lease_expires_at = NULL, wake_at = ?5, updated_at = ?5, \
                    state = CASE WHEN state = 'running' THEN 'suspended' ELSE state END \
             WHERE instance = ?1 AND run_id = ?2 AND lease_owner = ?3 AND lease_token = ?4",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .bind(&lease.owner)
        .bind(lease.token)
        .bind(now_ms())
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

    async fn commit(&self, writes: &[RunWrite]) -> Result<Vec<bool>, JournalError> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let mut w = self.write().await?;
        let mut applied = Vec::with_capacity(writes.len());
        for write in writes {
            applied.push(w.apply(write, now).await?);
        }
        self.finish(w).await?;
        Ok(applied)
    }

    async fn send_signal(&self, key: &RunKey, name: &str, payload: &Value) -> Result<SentSignal, JournalError> {
        let payload = to_json(key, "signal payload", payload)?;
        let now = now_ms();
        let mut w = self.write().await?;
        let workflow = match w.run_workflow(key).await? {
            None => return Err(JournalError::UnknownRun(key.clone())),
            Some((state, _)) if state.is_final() => return Err(JournalError::RunFinished { key: key.clone(), state }),
            Some((_, workflow)) => workflow,
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO signals (instance, run_id, name, payload, sent_at) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .bind(name)
        .bind(payload)
        .bind(now)
        .fetch_one(&mut *w.tx)
        .await?;
        w.wake_run(key, now).await?;
        w.wakes.push(wake(WakeKind::Run, key));
        self.finish(w).await?;
        Ok(SentSignal { id, workflow })
    }

    async fn inbox(&self, key: &RunKey) -> Result<Vec<InboxSignal>, JournalError> {
        let rows = sqlx::query(
            "SELECT id, name, payload FROM signals \
             WHERE instance = ?1 AND run_id = ?2 AND consumed_at IS NULL ORDER BY id",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| signal_from_row(r, key)).collect()
    }

    async fn request_cancel(&self, key: &RunKey) -> Result<CancelRequest, JournalError> {
        let now = now_ms();
        let mut w = self.write().await?;
        match w.run_state(key).await? {
            None => return Err(JournalError::UnknownRun(key.clone())),
            Some(state) if state.is_final() => return Ok(CancelRequest::AlreadyFinal(state)),
            Some(_) => {}
        }
        sqlx::query(
            "UPDATE runs SET cancel_requested_at = COALESCE(cancel_requested_at, ?3), \
                    wake_gen = wake_gen + 1, wake_at = ?3, updated_at = ?3 \
             WHERE instance = ?1 AND run_id = ?2",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .bind(now)
        .execute(&mut *w.tx)
        .await?;
        w.wakes.push(wake(WakeKind::Cancel, key));
        self.finish(w).await?;
        Ok(CancelRequest::Requested)
    }

    async fn fire_due_timers(&self, instance: &str, now: DateTime<Utc>) -> Result<Vec<WokenRun>, JournalError> {
        let due = now.timestamp_millis();
        let stamp = now_ms();
        let mut w = self.write().await?;
        let rows = sqlx::query(
            "UPDATE timers SET fired_at = ?3 WHERE instance = ?1 AND fired_at IS NULL AND fire_at <= ?2 \
             RETURNING run_id",
        )
        .bind(instance)
        .bind(due)
        .bind(stamp)
        .fetch_all(&mut *w.tx)
        .await?;
        let mut run_ids = rows
            .iter()
            .map(|r| r.try_get::<String, _>("run_id"))
            .collect::<Result<Vec<_>, _>>()?;
        run_ids.sort();
        run_ids.dedup();
        let mut woken = Vec::new();
        for run_id in run_ids {
            let workflow: Option<String> = sqlx::query_scalar(&format!(
                "UPDATE runs SET updated_at = ?3, \
                        wake_at = CASE WHEN state IN ('pending', 'suspended') THEN ?3 ELSE wake_at END \
                 WHERE instance = ?1 AND run_id = ?2 AND state NOT IN {FINAL_STATES_SQL} RETURNING workflow"
            ))
            .bind(instance)
            .bind(&run_id)
            .bind(stamp)
            .fetch_optional(&mut *w.tx)
            .await?;
            if let Some(workflow) = workflow {
                let key = RunKey::new(instance, run_id);
                w.wakes.push(wake(WakeKind::Run, &key));
                woken.push(WokenRun { key, workflow });
            }
        }
        self.finish(w).await?;
        Ok(woken)
    }

    async fn next_timer_at(&self, instance: &str) -> Result<Option<DateTime<Utc>>, JournalError> {
        let at: Option<i64> =
            sqlx::query_scalar("SELECT min(fire_at) FROM timers WHERE instance = ?1 AND fired_at IS NULL")
                .bind(instance)
                .fetch_one(&self.pool)
                .await?;
        at.map(|ms| super::postgres::codec::from_ms(&format!("{instance}/?"), ms)).transpose()
    }

    async fn claim_tasks(
        &self,
        instance: &str,
        queues: &[String],
        names: &[String],
        owner: &str,
        ttl: Duration,
        limit: i64,
    ) -> Result<Vec<ClaimedTask>, JournalError> {
        tasks::claim(self, instance, queues, names, owner, ttl, limit).await
    }

    async fn complete_task(
        &self,
        key: &RunKey,
        op: u32,
        claim_token: i64,
        outcome: &TaskOutcome,
    ) -> Result<bool, JournalError> {
        tasks::complete(self, key, op, claim_token, outcome).await
    }

    async fn retry_task(&self, key: &RunKey, op: u32, claim_token: i64, delay: Duration) -> Result<bool, JournalError> {
        tasks::retry(self, key, op, claim_token, delay).await
    }

    async fn task_outcomes(&self, key: &RunKey) -> Result<Vec<(u32, TaskOutcome)>, JournalError> {
        let rows = sqlx::query(
            "SELECT op, outcome FROM activity_tasks \
             WHERE instance = ?1 AND run_id = ?2 AND state IN ('completed', 'failed') AND journaled = 0 \
             ORDER BY op",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| outcome_from_row(r, key)).collect()
    }

    async fn put_module(
        &self,
        instance: &str,
        workflow: &str,
        hash: &str,
        bytes: &[u8],
        publish: super::Publish,
    ) -> Result<(), JournalError> {
        modules::put_module(self, instance, workflow, hash, bytes, publish).await
    }

    async fn get_module(&self, instance: &str, hash: &str) -> Result<Option<crate::journal::StoredModule>, JournalError> {
        modules::get_module(self, instance, hash).await
    }

    async fn current_modules(&self, instance: &str) -> Result<Vec<(String, String)>, JournalError> {
        modules::current_modules(self, instance).await
    }

    async fn migrate_runs(&self, instance: &str, workflow: &str, run_ids: &[String], to: &str) -> Result<u64, JournalError> {
        modules::migrate_runs(self, instance, workflow, run_ids, to).await
    }

    async fn migrate_checked_runs(
        &self,
        instance: &str,
        workflow: &str,
        runs: &[crate::journal::CheckedRun],
        to: &str,
    ) -> Result<Vec<crate::journal::MigrationOutcome>, JournalError> {
        migration::migrate_checked_runs(self, instance, workflow, runs, to).await
    }

    async fn load_events_after(&self, key: &RunKey, after_seq: i64) -> Result<Vec<Event>, JournalError> {
        modules::load_events_after(self, key, after_seq).await
    }

    async fn put_snapshot(&self, key: &RunKey, snapshot: &crate::journal::Snapshot) -> Result<(), JournalError> {
        modules::put_snapshot(self, key, snapshot).await
    }

    async fn get_snapshot(&self, key: &RunKey) -> Result<Option<crate::journal::Snapshot>, JournalError> {
        modules::get_snapshot(self, key).await
    }

    async fn idempotent_result(&self, instance: &str, key: &str) -> Result<Option<(String, Value)>, JournalError> {
        modules::idempotent_result(self, instance, key).await
    }

    async fn put_idempotent_result(&self, instance: &str, key: &str, activity: &str, output: &Value) -> Result<(), JournalError> {
        modules::put_idempotent_result(self, instance, key, activity, output).await
    }

    async fn record_heartbeat(&self, key: &RunKey, op: u32, attempt: u32, details: &Value) -> Result<(), JournalError> {
        heartbeats::record(self, key, op, attempt, details).await
    }

    async fn heartbeats(&self, key: &RunKey) -> Result<Vec<super::ActivityHeartbeat>, JournalError> {
        heartbeats::list(self, key).await
    }

    async fn clear_heartbeat(&self, key: &RunKey, op: u32) -> Result<(), JournalError> {
        heartbeats::clear(self, key, op).await
    }

    async fn renew_task_claim(&self, key: &RunKey, op: u32, claim_token: i64, ttl: Duration) -> Result<bool, JournalError> {
        tasks::renew(self, key, op, claim_token, ttl).await
    }

    // Withdrawing an unconfirmed cancellation request.
    async fn withdraw_cancel(
        &self,
        key: &RunKey,
        requested_at: DateTime<Utc>,
    ) -> Result<super::CancelWithdrawal, JournalError> {
        cancel::withdraw(self, key, requested_at).await
    }

    async fn listen(&self, instance: &str) -> Result<WakeStream, JournalError> {
        let rx = self.wakes.subscribe();
        let stream = futures::stream::unfold((rx, instance.to_string()), |(mut rx, instance)| async move {
            loop {
                match rx.recv().await {
                    Ok(w) if w.instance == instance => return Some((w, (rx, instance))),
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, instance = %instance, "wake-up listener lagged; polling covers");
                    }
                    // The journal is gone.
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        Ok(Box::pin(stream))
    }
}
