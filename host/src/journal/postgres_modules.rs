//! Module versions on Postgres: the `modules` and `module_heads` tables.

use super::{notify, PostgresJournal};
use crate::journal::{JournalError, StoredModule, WakeKind};
use sqlx::Row;

/// See [`crate::journal::Journal::put_module`].
pub(super) async fn put_module(
    j: &PostgresJournal,
    instance: &str,
    workflow: &str,
    hash: &str,
    bytes: &[u8],
    publish: crate::journal::Publish,
) -> Result<(), JournalError> {
    let mut tx = j.pool.begin().await?;
    sqlx::query(
        "INSERT INTO modules (instance, hash, workflow, bytes) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (instance, hash) DO NOTHING",
    )
    .bind(instance)
    .bind(hash)
    .bind(workflow)
    .bind(bytes)
    .execute(&mut *tx)
    .await?;
    // Runs parked for lack of this version can go on now.
    sqlx::query(
        "UPDATE runs SET wake_at = now(), updated_at = now() \
         WHERE instance = $1 AND module_hash = $2 AND state = 'suspended' AND wake_at IS NULL \
           AND error IS NOT NULL",
    )
    .bind(instance)
    .bind(hash)
    .execute(&mut *tx)
    .await?;
    let head = match publish {
        crate::journal::Publish::Store => None,
        crate::journal::Publish::MakeCurrent => Some(
            "INSERT INTO module_heads (instance, workflow, hash) VALUES ($1, $2, $3) \
             ON CONFLICT (instance, workflow) DO UPDATE SET hash = EXCLUDED.hash, updated_at = now()",
        ),
        crate::journal::Publish::FromManifest => Some(
            "INSERT INTO module_heads (instance, workflow, hash, manifest_hash) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (instance, workflow) DO UPDATE \
             SET hash = EXCLUDED.hash, manifest_hash = EXCLUDED.manifest_hash, updated_at = now() \
             WHERE module_heads.manifest_hash IS DISTINCT FROM EXCLUDED.manifest_hash",
        ),
    };
    if let Some(sql) = head {
        sqlx::query(sql).bind(instance).bind(workflow).bind(hash).execute(&mut *tx).await?;
    }
    notify(&mut tx, WakeKind::Deploy, instance, workflow).await?;
    tx.commit().await?;
    Ok(())
}

/// See [`crate::journal::Journal::get_module`].
pub(super) async fn get_module(j: &PostgresJournal, instance: &str, hash: &str) -> Result<Option<StoredModule>, JournalError> {
    let row = sqlx::query("SELECT workflow, bytes FROM modules WHERE instance = $1 AND hash = $2")
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
pub(super) async fn current_modules(j: &PostgresJournal, instance: &str) -> Result<Vec<(String, String)>, JournalError> {
    let rows = sqlx::query("SELECT workflow, hash FROM module_heads WHERE instance = $1 ORDER BY workflow")
        .bind(instance)
        .fetch_all(&j.pool)
        .await?;
    rows.iter().map(|r| Ok((r.try_get("workflow")?, r.try_get("hash")?))).collect()
}

/// See [`crate::journal::Journal::migrate_runs`].
pub(super) async fn migrate_runs(
    j: &PostgresJournal,
    instance: &str,
    workflow: &str,
    run_ids: &[String],
    to: &str,
) -> Result<u64, JournalError> {
    let done = sqlx::query(
        "UPDATE runs SET module_hash = $4, updated_at = now(), \
                wake_at = CASE WHEN state = 'suspended' AND wake_at IS NULL AND error IS NOT NULL \
                               THEN now() ELSE wake_at END \
         WHERE instance = $1 AND workflow = $2 \
           AND state NOT IN ('completed', 'failed', 'cancelled', 'drifted') \
           AND (cardinality($3::text[]) = 0 OR run_id = ANY($3))",
    )
    .bind(instance)
    .bind(workflow)
    .bind(run_ids)
    .bind(to)
    .execute(&j.pool)
    .await?;
    Ok(done.rows_affected())
}

/// See [`crate::journal::Journal::load_events_after`].
pub(super) async fn load_events_after(
    j: &PostgresJournal,
    key: &crate::journal::RunKey,
    after: i64,
) -> Result<Vec<crate::journal::Event>, JournalError> {
    let rows = sqlx::query(
        "SELECT seq, body, recorded_at FROM events WHERE instance = $1 AND run_id = $2 AND seq > $3 ORDER BY seq",
    )
    .bind(&key.instance)
    .bind(&key.run_id)
    .bind(after)
    .fetch_all(&j.pool)
    .await?;
    rows.iter().map(|r| super::codec::event_from_row(r, key)).collect()
}

/// See [`crate::journal::Journal::put_snapshot`].
pub(super) async fn put_snapshot(
    j: &PostgresJournal,
    key: &crate::journal::RunKey,
    s: &crate::journal::Snapshot,
) -> Result<(), JournalError> {
    sqlx::query(
        "INSERT INTO snapshots (instance, run_id, upto_seq, digest, body) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (instance, run_id) DO UPDATE SET upto_seq = EXCLUDED.upto_seq, digest = EXCLUDED.digest, \
            body = EXCLUDED.body, created_at = now() WHERE snapshots.upto_seq < EXCLUDED.upto_seq",
    )
    .bind(&key.instance)
    .bind(&key.run_id)
    .bind(s.upto_seq)
    .bind(&s.digest)
    .bind(&s.body)
    .execute(&j.pool)
    .await?;
    Ok(())
}

/// See [`crate::journal::Journal::get_snapshot`].
pub(super) async fn get_snapshot(
    j: &PostgresJournal,
    key: &crate::journal::RunKey,
) -> Result<Option<crate::journal::Snapshot>, JournalError> {
    let row = sqlx::query("SELECT upto_seq, digest, body FROM snapshots WHERE instance = $1 AND run_id = $2")
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
    j: &PostgresJournal,
    instance: &str,
    key: &str,
) -> Result<Option<(String, serde_json::Value)>, JournalError> {
    let row = sqlx::query("SELECT activity, output FROM activity_results WHERE instance = $1 AND idempotency_key = $2")
        .bind(instance)
        .bind(key)
        .fetch_optional(&j.pool)
        .await?;
    super::codec::decode_result(instance, key, row)
}

/// See [`crate::journal::Journal::put_idempotent_result`].
pub(super) async fn put_idempotent_result(
    j: &PostgresJournal,
    instance: &str,
    key: &str,
    activity: &str,
    output: &serde_json::Value,
) -> Result<(), JournalError> {
    sqlx::query(
        "INSERT INTO activity_results (instance, idempotency_key, activity, output) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (instance, idempotency_key) DO NOTHING",
    )
    .bind(instance)
    .bind(key)
    .bind(activity)
    .bind(output.to_string())
    .execute(&j.pool)
    .await?;
    Ok(())
}
