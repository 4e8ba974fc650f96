//! Snapshots on Postgres ([`SnapshotStore`]): one row per run, replaced
//! only forward. The reads are the trait's, shared by both stores.

use async_trait::async_trait;

use super::PostgresJournal;
use crate::journal::{JournalError, RunKey, Snapshot, SnapshotStore};

#[async_trait]
impl SnapshotStore for PostgresJournal {
    async fn put_snapshot(&self, key: &RunKey, s: &Snapshot) -> Result<(), JournalError> {
        // The run's row is locked first, as a reset locks it: a snapshot is
        // written only of entries the journal still holds (a reset that
        // took entries out after they were read makes it write nothing),
        // and a reset after it deletes it.
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT 1 FROM runs WHERE instance = $1 AND run_id = $2 FOR UPDATE")
            .bind(&key.instance)
            .bind(&key.run_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO snapshots (instance, run_id, upto_seq, digest, body) \
             SELECT $1, $2, $3, $4, $5 \
             WHERE (SELECT COALESCE(MAX(seq), 0) FROM events WHERE instance = $1 AND run_id = $2) >= $3 \
             ON CONFLICT (instance, run_id) DO UPDATE SET upto_seq = EXCLUDED.upto_seq, digest = EXCLUDED.digest, \
                body = EXCLUDED.body, created_at = now() WHERE snapshots.upto_seq < EXCLUDED.upto_seq",
        )
        .bind(&key.instance)
        .bind(&key.run_id)
        .bind(s.upto_seq)
        .bind(&s.digest)
        .bind(&s.body)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.commits.add();
        Ok(())
    }
}
