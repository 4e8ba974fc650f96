//! Snapshots on SQLite ([`SnapshotStore`]): one row per run, replaced
//! only forward, and the journal entries after it.

use async_trait::async_trait;
use sqlx::Row;

use super::{SqliteJournal};
use crate::journal::codec::event_from_row;
use crate::journal::{Event, JournalError, RunKey, Snapshot, SnapshotStore};

#[async_trait]
impl SnapshotStore for SqliteJournal {
    async fn put_snapshot(&self, key: &RunKey, s: &Snapshot) -> Result<(), JournalError> {
        let mut w = self.write().await?;
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
        .bind(self.now_ms())
        .execute(&mut *w.tx)
        .await?;
        self.finish(w).await
    }

    async fn get_snapshot(&self, key: &RunKey) -> Result<Option<Snapshot>, JournalError> {
        let row = sqlx::query("SELECT upto_seq, digest, body FROM snapshots WHERE instance = ? AND run_id = ?")
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
            "SELECT seq, body, recorded_at FROM events WHERE instance = ? AND run_id = ? AND seq > ? ORDER BY seq",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .bind(after_seq)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| event_from_row(r, key)).collect()
    }
}
