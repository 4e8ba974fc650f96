//! Snapshots on SQLite ([`SnapshotStore`]): one row per run, replaced
//! only forward. The reads are the trait's, shared by both stores.

use async_trait::async_trait;

use super::{SqliteJournal};
use crate::journal::{JournalError, RunKey, Snapshot, SnapshotStore};

#[async_trait]
impl SnapshotStore for SqliteJournal {
    async fn put_snapshot(&self, key: &RunKey, s: &Snapshot) -> Result<(), JournalError> {
        let mut w = self.write().await?;
        sqlx::query(
            "INSERT INTO snapshots (instance, run_id, upto_seq, digest, body, created_at) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6 \
             WHERE (SELECT COALESCE(MAX(seq), 0) FROM events WHERE instance = ?1 AND run_id = ?2) >= ?3 \
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
}
