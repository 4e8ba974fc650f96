//! Snapshots on Postgres ([`SnapshotStore`]): one row per run, replaced
//! only forward. The reads are the trait's, shared by both stores.

use async_trait::async_trait;

use super::PostgresJournal;
use crate::journal::{JournalError, RunKey, Snapshot, SnapshotStore};

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
        .await.inspect(|_| self.commits.add())?;
        Ok(())
    }
}
