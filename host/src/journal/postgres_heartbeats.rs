//! Activity heartbeats on Postgres: the latest details of each call in
//! progress, one row per `(instance, run_id, op)`.

use super::PostgresJournal;
use crate::journal::{ActivityHeartbeat, JournalError, RunKey};

/// See [`crate::journal::Journal::record_heartbeat`].
pub(super) async fn record(
    j: &PostgresJournal,
    key: &RunKey,
    op: u32,
    attempt: u32,
    details: &serde_json::Value,
) -> Result<(), JournalError> {
    sqlx::query(
        "INSERT INTO activity_heartbeats (instance, run_id, op, attempt, details) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (instance, run_id, op) DO UPDATE \
         SET attempt = EXCLUDED.attempt, details = EXCLUDED.details, recorded_at = now()",
    )
    .bind(&key.instance)
    .bind(&key.run_id)
    .bind(i64::from(op))
    .bind(attempt as i32)
    .bind(details.to_string())
    .execute(&j.pool)
    .await?;
    Ok(())
}

/// See [`crate::journal::Journal::heartbeats`].
pub(super) async fn list(j: &PostgresJournal, key: &RunKey) -> Result<Vec<ActivityHeartbeat>, JournalError> {
    let rows = sqlx::query(
        "SELECT op, attempt, details, recorded_at FROM activity_heartbeats \
         WHERE instance = $1 AND run_id = $2 ORDER BY op",
    )
    .bind(&key.instance)
    .bind(&key.run_id)
    .fetch_all(&j.pool)
    .await?;
    rows.iter().map(|r| super::codec::heartbeat_from_row(r, key)).collect()
}

/// See [`crate::journal::Journal::clear_heartbeat`].
pub(super) async fn clear(j: &PostgresJournal, key: &RunKey, op: u32) -> Result<(), JournalError> {
    sqlx::query("DELETE FROM activity_heartbeats WHERE instance = $1 AND run_id = $2 AND op = $3")
        .bind(&key.instance)
        .bind(&key.run_id)
        .bind(i64::from(op))
        .execute(&j.pool)
        .await?;
    Ok(())
}
