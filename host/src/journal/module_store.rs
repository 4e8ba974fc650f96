//! [`ModuleStore`]: workflow module versions and the moving of runs
//! between them, as module loading and deploys use them.

use async_trait::async_trait;

use super::reads::{self, SharedReads};
use super::{CheckedRun, JournalError, MigrationOutcome, Publish, StoredModule};

/// Module versions and run migration.
#[async_trait]
pub trait ModuleStore: SharedReads + Send + Sync + 'static {
    /// Stores a workflow module version (idempotent by hash); parked runs
    /// recorded on it are made due, and hosts are notified
    /// ([`WakeKind::Deploy`](super::WakeKind::Deploy)). `publish` says
    /// whether new runs of `workflow` start on it from now on.
    async fn put_module(&self, instance: &str, workflow: &str, hash: &str, bytes: &[u8], publish: Publish) -> Result<(), JournalError>;

    /// A stored module version.
    async fn get_module(&self, instance: &str, hash: &str) -> Result<Option<StoredModule>, JournalError> {
        reads::get_module(self.read_pool(), instance, hash).await
    }

    /// The current version of each workflow: `(workflow, hash)`.
    async fn current_modules(&self, instance: &str) -> Result<Vec<(String, String)>, JournalError> {
        reads::current_modules(self.read_pool(), instance).await
    }

    /// Every stored version of the instance's workflows: `(workflow, hash,
    /// deployed_at)`, by workflow, oldest first.
    async fn module_versions(&self, instance: &str) -> Result<Vec<(String, String, chrono::DateTime<chrono::Utc>)>, JournalError> {
        reads::module_versions(self.read_pool(), instance).await
    }

    /// Moves the unfinished runs of `workflow` (all, or those in `run_ids`)
    /// to module version `to`, making parked ones due; returns how many.
    async fn migrate_runs(&self, instance: &str, workflow: &str, run_ids: &[String], to: &str) -> Result<u64, JournalError>;

    /// Moves each of `runs` to module version `to`, as a compare-and-set
    /// per run: only if it is still an unfinished run of `workflow`, no live
    /// lease holds it, and its journal still ends at the `last_seq` its
    /// replay check saw. A moved run's expired lease is cleared (fencing off
    /// its old holder) and a parked one is made due. Returns an outcome per
    /// run, in the order given.
    async fn migrate_checked_runs(
        &self,
        instance: &str,
        workflow: &str,
        runs: &[CheckedRun],
        to: &str,
    ) -> Result<Vec<MigrationOutcome>, JournalError>;
}
