//! Snapshots on Postgres ([`SnapshotStore`]): one row per run, replaced
//! only forward, and the journal entries after it.

use async_trait::async_trait;
use sqlx::Row;

use super::PostgresJournal;
use crate::journal::codec::event_from_row;
use crate::journal::{Event, JournalError, RunKey, Snapshot, SnapshotStore};

#[async_trait]
impl SnapshotStore for PostgresJournal {
    async fn put_snapshot(&self, key: &RunKey, s: &Snapshot) -> Result<(), JournalError> {
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
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_snapshot(&self, key: &RunKey) -> Result<Option<Snapshot>, JournalError> {
        let row = sqlx::query("SELECT upto_seq, digest, body FROM snapshots WHERE instance = $1 AND run_id = $2")
            .bind(&key.instance)
            .bind(&key.run_id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some(Snapshot { upto_seq: r.try_get("upto_seq")?, digest: r.try_get("digest")?, body: r.try_get("body")? })),
        }
    }

    async fn load_events_after(&self, key: &RunKey, after_seq: i64) -> Result<Vec<Event>, JournalError> {
        let rows = sqlx::query(
            "SELECT seq, body, recorded_at FROM events WHERE instance = $1 AND run_id = $2 AND seq > $3 ORDER BY seq",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .bind(after_seq)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| event_from_row(r, key)).collect()
    }
}
