//! Activity heartbeats on SQLite: the latest details of each call in
//! progress, one row per `(instance, run_id, op)`.

use super::SqliteJournal;
use crate::journal::{ActivityHeartbeat, JournalError, RunKey};

/// See [`crate::journal::Journal::record_heartbeat`].
pub(super) async fn record(
    j: &SqliteJournal,
    key: &RunKey,
    op: u32,
    attempt: u32,
    details: &serde_json::Value,
) -> Result<(), JournalError> {
    let mut w = j.write().await?;
    sqlx::query(
        "INSERT INTO activity_heartbeats (instance, run_id, op, attempt, details, recorded_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (instance, run_id, op) DO UPDATE \
         SET attempt = excluded.attempt, details = excluded.details, recorded_at = excluded.recorded_at",
    )
    .bind(&key.instance)
    .bind(&key.run_id)
    .bind(i64::from(op))
    .bind(attempt as i32)
    .bind(details.to_string())
    .bind(super::now_ms())
    .execute(&mut *w.tx)
    .await?;
    j.finish(w).await
}

/// See [`crate::journal::Journal::heartbeats`].
pub(super) async fn list(j: &SqliteJournal, key: &RunKey) -> Result<Vec<ActivityHeartbeat>, JournalError> {
    let rows = sqlx::query(
        "SELECT op, attempt, details, recorded_at FROM activity_heartbeats \
         WHERE instance = ?1 AND run_id = ?2 ORDER BY op",
    )
    .bind(&key.instance)
    .bind(&key.run_id)
    .fetch_all(&j.pool)
    .await?;
    rows.iter().map(|r| crate::journal::postgres::codec::heartbeat_from_row(r, key)).collect()
}

/// See [`crate::journal::Journal::clear_heartbeat`].
pub(super) async fn clear(j: &SqliteJournal, key: &RunKey, op: u32) -> Result<(), JournalError> {
    let mut w = j.write().await?;
    sqlx::query("DELETE FROM activity_heartbeats WHERE instance = ?1 AND run_id = ?2 AND op = ?3")
        .bind(&key.instance)
        .bind(&key.run_id)
        .bind(i64::from(op))
        .execute(&mut *w.tx)
        .await?;
    j.finish(w).await
}
