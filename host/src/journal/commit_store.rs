//! [`CommitStore`]: the fenced writes of the engines, as the group-commit
//! writer applies them.

use async_trait::async_trait;

use super::{JournalError, RunWrite};

/// Applying the engines' writes.
#[async_trait]
pub trait CommitStore: Send + Sync + 'static {
    /// Applies each write atomically and fenced (see [`RunWrite`]): only
    /// while the run's `lease_owner` and `lease_token` still match the
    /// write's lease, so an engine that lost its lease can never write
    /// again. All writes share one transaction where the database allows;
    /// a write whose fence fails is skipped without affecting the others.
    /// Returns, in order, whether each was applied.
    async fn commit(&self, writes: &[RunWrite]) -> Result<Vec<bool>, JournalError>;
}
