//! [`SnapshotStore`]: compacted journal prefixes and the entries after
//! them, as the snapshotter and history loading use them.

use async_trait::async_trait;

use super::reads::{self, SharedReads};
use super::{Event, JournalError, RunKey, Snapshot};

/// Snapshots of runs' journals.
#[async_trait]
pub trait SnapshotStore: SharedReads + Send + Sync + 'static {
    /// Stores a run's snapshot, replacing an older one (one covering fewer
    /// entries never replaces one covering more).
    ///
    /// Nothing is written when the journal no longer holds entry
    /// `upto_seq` (a reset took it out after it was read).
    async fn put_snapshot(&self, key: &RunKey, snapshot: &Snapshot) -> Result<(), JournalError>;

    /// The run's snapshot, if it has one.
    async fn get_snapshot(&self, key: &RunKey) -> Result<Option<Snapshot>, JournalError> {
        reads::get_snapshot(self.read_pool(), key).await
    }

    /// The run's journal entries after `after_seq`, in order.
    async fn load_events_after(&self, key: &RunKey, after_seq: i64) -> Result<Vec<Event>, JournalError> {
        reads::load_events_after(self.read_pool(), key, after_seq).await
    }
}
