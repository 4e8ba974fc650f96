//! [`TaskStore`]: activity tasks, their heartbeats and the results stored
//! under idempotency keys, as the activity dispatcher and executor use them.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use super::reads::{self, SharedReads};
use super::{ActivityHeartbeat, ClaimedTask, JournalError, RunKey, TaskOutcome};

/// Activity tasks, heartbeats and idempotent results.
#[async_trait]
pub trait TaskStore: SharedReads + Send + Sync + 'static {
    /// Claims up to `limit` ready activity tasks of the given queues (and
    /// activity names), highest priority first, skipping rows locked by
    /// other claimers. A claim expires after `ttl`. Each claim is one
    /// attempt of its call (see [`ClaimedTask::attempt`]).
    async fn claim_tasks(
        &self,
        instance: &str,
        queues: &[String],
        names: &[String],
        owner: &str,
        ttl: Duration,
        limit: i64,
    ) -> Result<Vec<ClaimedTask>, JournalError>;

    /// Records a claimed task's outcome, fenced by its claim token and
    /// expiry; wakes the run. Returns false (and records nothing) if the
    /// claim moved or expired.
    async fn complete_task(&self, key: &RunKey, op: u32, claim_token: i64, outcome: &TaskOutcome) -> Result<bool, JournalError>;

    /// Gives a claimed task back for a retry after its attempt failed:
    /// fenced like [`TaskStore::complete_task`], it becomes claimable again
    /// `delay` from now, with the attempt counted as ended (the next claim
    /// is the next attempt, on any worker). False when the claim was lost.
    async fn retry_task(&self, key: &RunKey, op: u32, claim_token: i64, delay: Duration) -> Result<bool, JournalError>;

    /// Counts the claimed attempt as started, while its claim is still held
    /// (same claim token, still claimed, not expired): the worker calls it
    /// right before the attempt runs, and runs it only on `true`. A claim
    /// that expires before its attempt starts counts for nothing, so the
    /// next claim runs the same attempt number.
    async fn start_task(&self, key: &RunKey, op: u32, claim_token: i64) -> Result<bool, JournalError>;

    /// Extends a task claim still held (same claim token, still claimed,
    /// not expired) by `ttl`; false when the claim was lost.
    async fn renew_task_claim(&self, key: &RunKey, op: u32, claim_token: i64, ttl: Duration) -> Result<bool, JournalError>;

    /// The outcomes recorded for the run's tasks that the journal has not
    /// taken in yet, by operation number.
    async fn task_outcomes(&self, key: &RunKey) -> Result<Vec<(u32, TaskOutcome)>, JournalError> {
        reads::task_outcomes(self.read_pool(), key).await
    }

    /// Stores the latest heartbeat details of the run's activity call `op`
    /// (made by attempt `attempt`), replacing older ones.
    async fn record_heartbeat(&self, key: &RunKey, op: u32, attempt: u32, details: &Value) -> Result<(), JournalError>;

    /// The run's stored heartbeats (calls still in progress), by operation.
    async fn heartbeats(&self, key: &RunKey) -> Result<Vec<ActivityHeartbeat>, JournalError> {
        reads::heartbeats(self.read_pool(), key).await
    }

    /// Forgets the heartbeat of the run's call `op` (it reached its final
    /// outcome).
    async fn clear_heartbeat(&self, key: &RunKey, op: u32) -> Result<(), JournalError>;

    /// The stored result of an activity completed with this idempotency
    /// key in the instance: `(activity, output)`.
    async fn idempotent_result(&self, instance: &str, key: &str) -> Result<Option<(String, Value)>, JournalError> {
        reads::idempotent_result(self.read_pool(), instance, key).await
    }

    /// Stores a completed activity's result under its idempotency key (the
    /// first one stored wins).
    async fn put_idempotent_result(&self, instance: &str, key: &str, activity: &str, output: &Value) -> Result<(), JournalError>;
}
