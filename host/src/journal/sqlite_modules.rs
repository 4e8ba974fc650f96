//! Module versions on SQLite: the `modules` and `module_heads` tables.

use super::{now_ms, SqliteJournal};
use crate::journal::{JournalError, StoredModule, Wake, WakeKind};
use sqlx::Row;

/// See [`crate::journal::Journal::put_module`].
pub(super) async fn put_module(
    j: &SqliteJournal,
    instance: &str,
    workflow: &str,
    hash: &str,
    bytes: &[u8],
    make_current: bool,
) -> Result<(), JournalError> {
    let mut w = j.write().await?;
    let now = now_ms();
    sqlx::query("INSERT OR IGNORE INTO modules (instance, hash, workflow, bytes, deployed_at) VALUES (?, ?, ?, ?, ?)")
        .bind(instance)
        .bind(hash)
        .bind(workflow)
        .bind(bytes)
        .bind(now)
        .execute(&mut *w.tx)
        .await?;
    sqlx::query(
        "UPDATE runs SET wake_at = ?, updated_at = ? \
         WHERE instance = ? AND module_hash = ? AND state = 'suspended' AND wake_at IS NULL AND error IS NOT NULL",
    )
    .bind(now)
    .bind(now)
    .bind(instance)
    .bind(hash)
    .execute(&mut *w.tx)
    .await?;
    if make_current {
        sqlx::query(
            "INSERT INTO module_heads (instance, workflow, hash, updated_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (instance, workflow) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at",
        )
        .bind(instance)
        .bind(workflow)
        .bind(hash)
        .bind(now)
        .execute(&mut *w.tx)
        .await?;
    }
    w.wakes.push(Wake { instance: instance.to_string(), run_id: workflow.to_string(), kind: WakeKind::Deploy });
    j.finish(w).await
}

/// See [`crate::journal::Journal::get_module`].
pub(super) async fn get_module(j: &SqliteJournal, instance: &str, hash: &str) -> Result<Option<StoredModule>, JournalError> {
    let row = sqlx::query("SELECT workflow, bytes FROM modules WHERE instance = ? AND hash = ?")
        .bind(instance)
        .bind(hash)
        .fetch_optional(&j.pool)
        .await?;
    match row {
        None => Ok(None),
        Some(r) => Ok(Some(StoredModule { workflow: r.try_get("workflow")?, hash: hash.to_string(), bytes: r.try_get("bytes")? })),
    }
}

/// See [`crate::journal::Journal::current_modules`].
pub(super) async fn current_modules(j: &SqliteJournal, instance: &str) -> Result<Vec<(String, String)>, JournalError> {
    let rows = sqlx::query("SELECT workflow, hash FROM module_heads WHERE instance = ? ORDER BY workflow")
        .bind(instance)
        .fetch_all(&j.pool)
        .await?;
    rows.iter().map(|r| Ok((r.try_get("workflow")?, r.try_get("hash")?))).collect()
}

/// See [`crate::journal::Journal::migrate_runs`].
pub(super) async fn migrate_runs(
    j: &SqliteJournal,
    instance: &str,
    workflow: &str,
    run_ids: &[String],
    to: &str,
) -> Result<u64, JournalError> {
    let mut w = j.write().await?;
    let now = now_ms();
    let mut total = 0;
    let targets: Vec<Option<&String>> = if run_ids.is_empty() { vec![None] } else { run_ids.iter().map(Some).collect() };
    for target in targets {
        let done = sqlx::query(
            "UPDATE runs SET module_hash = ?, updated_at = ?, \
                    wake_at = CASE WHEN state = 'suspended' AND wake_at IS NULL AND error IS NOT NULL \
                                   THEN ? ELSE wake_at END \
             WHERE instance = ? AND workflow = ? \
               AND state NOT IN ('completed', 'failed', 'cancelled', 'drifted') \
               AND (? IS NULL OR run_id = ?)",
        )
        .bind(to)
        .bind(now)
        .bind(now)
        .bind(instance)
        .bind(workflow)
        .bind(target)
        .bind(target)
        .execute(&mut *w.tx)
        .await?;
        total += done.rows_affected();
    }
    j.finish(w).await?;
    Ok(total)
}
