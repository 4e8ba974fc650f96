//! [`WorkerStore`]: who serves which activities, and the activity tasks
//! nobody does. Every host whose activity dispatcher runs for an instance
//! announces the activity names and queues it serves and renews that while
//! it lives; the unserved-activities watcher reads it to warn about tasks
//! no live host serves and to fail the calls whose schedule-to-start
//! timeout passed, and `continuum show` to say why a run waits.

use std::time::Duration;

use async_trait::async_trait;

use super::codec::TsRow;
use super::reads::{self, SharedReads};
use super::{Failure, JournalError, RunKey};

/// A live announcement of an activity worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityWorker {
    /// The host (its owner id) that serves them.
    pub owner: String,
    /// The activity names it serves.
    pub activities: Vec<String>,
    /// The task queues it serves.
    pub queues: Vec<String>,
}

impl ActivityWorker {
    /// True when this worker runs activity `name` on `queue`.
    pub fn serves(&self, name: &str, queue: &str) -> bool {
        self.activities.iter().any(|a| a == name) && self.queues.iter().any(|q| q == queue)
    }
}

/// True when one of `workers` runs activity `name` on `queue`.
pub fn served(workers: &[ActivityWorker], name: &str, queue: &str) -> bool {
    workers.iter().any(|w| w.serves(name, queue))
}

/// An activity task no attempt of which has started yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingTask {
    /// Its run.
    pub key: RunKey,
    /// The call's operation number in the run.
    pub op: u32,
    /// The activity.
    pub name: String,
    /// Its task queue.
    pub queue: String,
}

/// An activity call of a run that has no outcome yet, as `show` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenTask {
    /// The call's operation number in the run.
    pub op: u32,
    /// The activity.
    pub name: String,
    /// Its task queue.
    pub queue: String,
    /// `pending` (waiting for a worker or for its retry delay) or
    /// `claimed` (an attempt is running).
    pub state: String,
    /// Attempts started so far.
    pub attempts_started: u32,
}

/// Activity workers' announcements and the tasks waiting for one.
#[async_trait]
pub trait WorkerStore: SharedReads + Send + Sync + 'static {
    /// Announces (or renews) that `owner` serves `activities` on `queues`
    /// for `instance` until `ttl` from now.
    async fn announce_worker(
        &self,
        instance: &str,
        owner: &str,
        activities: &[String],
        queues: &[String],
        ttl: Duration,
    ) -> Result<(), JournalError>;

    /// Withdraws `owner`'s announcement (a host shutting down).
    async fn withdraw_worker(&self, instance: &str, owner: &str) -> Result<(), JournalError>;

    /// The announcements of `instance` that have not expired.
    async fn live_workers(&self, instance: &str) -> Result<Vec<ActivityWorker>, JournalError>;

    /// Up to `limit` tasks of `instance` whose first attempt has not
    /// started and whose schedule-to-start deadline has passed.
    async fn past_start_deadline(&self, instance: &str, limit: i64) -> Result<Vec<WaitingTask>, JournalError>;

    /// Up to `limit` tasks of `instance` whose first attempt has not started
    /// though they were written more than `waited` ago, oldest first.
    async fn long_waiting(&self, instance: &str, waited: Duration, limit: i64) -> Result<Vec<WaitingTask>, JournalError>;

    /// Fails a task whose first attempt has not started (still pending,
    /// no attempt started) with `failure`, and wakes its run. False (and
    /// nothing written) when an attempt started meanwhile or it is done.
    async fn fail_unstarted(&self, key: &RunKey, op: u32, failure: &Failure) -> Result<bool, JournalError>;

    /// The run's activity calls that have no outcome yet, by operation.
    async fn open_tasks(&self, key: &RunKey) -> Result<Vec<OpenTask>, JournalError> {
        reads::open_tasks(self.read_pool(), key).await
    }
}

/// The columns of a [`WaitingTask`] row.
pub(in crate::journal) const WAITING_COLUMNS: &str = "instance, run_id, op, name, queue";

/// Decodes a [`WaitingTask`] row ([`WAITING_COLUMNS`]).
pub(in crate::journal) fn waiting_from_row(r: &dyn TsRow) -> Result<WaitingTask, JournalError> {
    let k = r.key_text();
    Ok(WaitingTask {
        key: RunKey::new(r.text("instance", &k)?, r.text("run_id", &k)?),
        op: u32::try_from(r.int("op", &k)?).unwrap_or(u32::MAX),
        name: r.text("name", &k)?,
        queue: r.text("queue", &k)?,
    })
}

/// Decodes an [`ActivityWorker`] row (`owner, activities, queues`, the
/// lists as JSON arrays).
pub(in crate::journal) fn worker_from_row(r: &dyn TsRow, instance: &str) -> Result<ActivityWorker, JournalError> {
    let k = format!("{instance}/activity workers");
    let list = |column: &str| -> Result<Vec<String>, JournalError> {
        let text = r.text(column, &k)?;
        serde_json::from_str(&text).map_err(|e| super::codec::corrupt(&k, format!("column `{column}` is not a JSON list: {e}")))
    };
    Ok(ActivityWorker { owner: r.text("owner", &k)?, activities: list("activities")?, queues: list("queues")? })
}
