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
    publish: crate::journal::Publish,
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
    let head = match publish {
        crate::journal::Publish::Store => None,
        crate::journal::Publish::MakeCurrent => Some(
            "INSERT INTO module_heads (instance, workflow, hash, updated_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (instance, workflow) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at",
        ),
        crate::journal::Publish::FromManifest => Some(
            "INSERT INTO module_heads (instance, workflow, hash, updated_at, manifest_hash) VALUES (?1, ?2, ?3, ?4, ?3) \
             ON CONFLICT (instance, workflow) DO UPDATE \
             SET hash = excluded.hash, manifest_hash = excluded.manifest_hash, updated_at = excluded.updated_at \
             WHERE module_heads.manifest_hash IS NOT excluded.manifest_hash",
        ),
    };
    if let Some(sql) = head {
        sqlx::query(sql).bind(instance).bind(workflow).bind(hash).bind(now).execute(&mut *w.tx).await?;
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

/// See [`crate::journal::Journal::load_events_after`].
pub(super) async fn load_events_after(
    j: &SqliteJournal,
    key: &crate::journal::RunKey,
    after: i64,
) -> Result<Vec<crate::journal::Event>, JournalError> {
    let rows = sqlx::query(
        "SELECT seq, body, recorded_at FROM events WHERE instance = ? AND run_id = ? AND seq > ? ORDER BY seq",
    )
    .bind(&key.instance)
    .bind(&key.run_id)
    .bind(after)
    .fetch_all(&j.pool)
    .await?;
    rows.iter().map(|r| crate::journal::postgres::codec::event_from_row(r, key)).collect()
}

/// See [`crate::journal::Journal::put_snapshot`].
pub(super) async fn put_snapshot(
    j: &SqliteJournal,
    key: &crate::journal::RunKey,
    s: &crate::journal::Snapshot,
) -> Result<(), JournalError> {
    let w = j.write().await?;
    let mut w = w;
    sqlx::query(
        "INSERT INTO snapshots (instance, run_id, upto_seq, digest, body, created_at) VALUES (?, ?, ?, ?, ?, ?) \
         ON CONFLICT (instance, run_id) DO UPDATE SET upto_seq = excluded.upto_seq, digest = excluded.digest, \
            body = excluded.body, created_at = excluded.created_at WHERE snapshots.upto_seq < excluded.upto_seq",
    )
    .bind(&key.instance)
    .bind(&key.run_id)
    .bind(s.upto_seq)
    .bind(&s.digest)
    .bind(&s.body)
    .bind(now_ms())
    .execute(&mut *w.tx)
    .await?;
    j.finish(w).await
}

/// See [`crate::journal::Journal::get_snapshot`].
pub(super) async fn get_snapshot(
    j: &SqliteJournal,
    key: &crate::journal::RunKey,
) -> Result<Option<crate::journal::Snapshot>, JournalError> {
    let row = sqlx::query("SELECT upto_seq, digest, body FROM snapshots WHERE instance = ? AND run_id = ?")
        .bind(&key.instance)
        .bind(&key.run_id)
        .fetch_optional(&j.pool)
        .await?;
    match row {
        None => Ok(None),
        Some(r) => Ok(Some(crate::journal::Snapshot { upto_seq: r.try_get("upto_seq")?, digest: r.try_get("digest")?, body: r.try_get("body")? })),
    }
}

/// See [`crate::journal::Journal::idempotent_result`].
pub(super) async fn idempotent_result(
    j: &SqliteJournal,
    instance: &str,
    key: &str,
) -> Result<Option<(String, serde_json::Value)>, JournalError> {
    let row = sqlx::query("SELECT activity, output FROM activity_results WHERE instance = ? AND idempotency_key = ?")
        .bind(instance)
        .bind(key)
        .fetch_optional(&j.pool)
        .await?;
    crate::journal::postgres::codec::decode_result(instance, key, row)
}

/// See [`crate::journal::Journal::put_idempotent_result`].
pub(super) async fn put_idempotent_result(
    j: &SqliteJournal,
    instance: &str,
    key: &str,
    activity: &str,
    output: &serde_json::Value,
) -> Result<(), JournalError> {
    let mut w = j.write().await?;
    sqlx::query(
        "INSERT OR IGNORE INTO activity_results (instance, idempotency_key, activity, output, created_at) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(instance)
    .bind(key)
    .bind(activity)
    .bind(output.to_string())
    .bind(now_ms())
    .execute(&mut *w.tx)
    .await?;
    j.finish(w).await
}
