//! Executes activities with their options: per-attempt timeout, retries with
//! backoff, concurrency limits per instance and per queue, heartbeats and
//! cancellation.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

use crate::journal::{ActivityOptions, Failure, FailureKind, RunKey, SharedJournal, TaskOutcome};

use super::attempt::{cancelled, AttemptStart, Run, Step};
use super::registry::ActivityRegistry;

/// The call an activity is executed for: its run and operation (for
/// durable heartbeats) and workflow, named on its attempts' spans.
#[derive(Debug, Clone, Copy, Default)]
pub struct ActivityScope<'a> {
    /// The run's id, when known.
    pub run_id: Option<&'a str>,
    /// The run's workflow, when known.
    pub workflow: Option<&'a str>,
    /// The call's operation number in the run, when known; with `run_id`
    /// it keys the call's stored heartbeats.
    pub op: Option<u32>,
    /// The trace context the run was started with, for attempts executed
    /// outside the run's own span (durable tasks on a worker host).
    pub trace_context: Option<&'a str>,
}

/// How an executor runs attempts (the activity supervisor's options).
#[derive(Debug, Clone)]
pub struct ExecutorLimits {
    /// Most attempts running at once in the instance.
    pub max_concurrent: usize,
    /// Most attempts running at once per listed queue.
    pub queue_limits: HashMap<String, usize>,
    /// Timeout of an attempt whose call sets none.
    pub default_timeout: Duration,
    /// Heartbeats are stored at most once per this interval per call.
    pub heartbeat_interval: Duration,
    /// How long a cancelled attempt may take to return by itself.
    pub cancel_grace: Duration,
}

impl Default for ExecutorLimits {
    fn default() -> Self {
        Self {
            max_concurrent: 64,
            queue_limits: HashMap::new(),
            default_timeout: Duration::from_secs(60),
            heartbeat_interval: Duration::from_secs(1),
            cancel_grace: Duration::from_secs(5),
        }
    }
}

/// Runs activity attempts for one instance.
pub struct ActivityExecutor {
    pub(super) registry: ActivityRegistry,
    permits: Arc<Semaphore>,
    queue_permits: HashMap<String, Arc<Semaphore>>,
    pub(super) limits: ExecutorLimits,
    pub(super) instance: Arc<str>,
    journal: Option<SharedJournal>,
}

#[allow(dead_code)] // no caller left since the API narrowed
impl ActivityExecutor {
    /// An executor over `registry` running at most `max_concurrent`
    /// attempts at once; attempts without a timeout of their own get
    /// `default_timeout`.
    pub fn new(
        instance: Arc<str>,
        registry: ActivityRegistry,
        max_concurrent: usize,
        default_timeout: Duration,
    ) -> Self {
        let limits = ExecutorLimits { max_concurrent, default_timeout, ..ExecutorLimits::default() };
        Self::with_limits(instance, registry, limits)
    }

    /// An executor over `registry` with all of its limits.
    pub fn with_limits(instance: Arc<str>, registry: ActivityRegistry, limits: ExecutorLimits) -> Self {
        let queue_permits = limits
            .queue_limits
            .iter()
            .map(|(q, n)| (q.clone(), Arc::new(Semaphore::new((*n).max(1)))))
            .collect();
        Self {
            registry,
            permits: Arc::new(Semaphore::new(limits.max_concurrent.max(1))),
            queue_permits,
            limits,
            instance,
            journal: None,
        }
    }

    /// Keeps the instance's durable activity state in `journal`: results of
    /// calls made with an idempotency key (reused) and heartbeats.
    pub fn with_journal(mut self, journal: SharedJournal) -> Self {
        self.journal = Some(journal);
        self
    }

    /// Attempts that may start now before the instance's limit is reached.
    pub fn room(&self) -> usize {
        self.permits.available_permits()
    }

    /// Attempts that may start now on `queue` before its own limit is
    /// reached (`None`: the queue has no limit of its own).
    pub fn queue_room(&self, queue: &str) -> Option<usize> {
        self.queue_permits.get(queue).map(|s| s.available_permits())
    }

    /// True if this executor has an activity of that name.
    pub fn has(&self, name: &str) -> bool {
        self.registry.contains(name)
    }

    /// The activity names this executor serves.
    pub fn names(&self) -> Vec<String> {
        self.registry.names()
    }

    /// Runs the activity to its final outcome, retrying as its policy says.
    /// Stops early (outcome `cancelled`) when `cancel` turns true.
    pub async fn execute(
        &self,
        name: &str,
        input: Value,
        options: &ActivityOptions,
        cancel: watch::Receiver<bool>,
    ) -> TaskOutcome {
        self.execute_for(ActivityScope::default(), name, input, options, cancel).await
    }

    /// Like [`ActivityExecutor::execute`], for the run `scope` names: each
    /// attempt runs in an `activity_attempt` span carrying it. All attempts
    /// run here, one after the other; calls of a run go through
    /// [`ActivityExecutor::execute_attempt`] instead, so that their retries
    /// are durable.
    pub async fn execute_for(
        &self,
        scope: ActivityScope<'_>,
        name: &str,
        input: Value,
        options: &ActivityOptions,
        mut cancel: watch::Receiver<bool>,
    ) -> TaskOutcome {
        if let Some(outcome) = self.reused(&scope, name, options).await {
            return outcome;
        }
        let stored = self.heartbeat_key(&scope);
        let mut start = AttemptStart::first();
        let (mut last, mut beat) = (None, false);
        let outcome = loop {
            let run = Run { start, last: last.take(), stored: stored.clone(), reserved: None };
            let end = self.run_attempt(scope, name, input.clone(), options, run, cancel.clone()).await;
            beat |= end.beat;
            match end.step {
                Step::Done(outcome) => break outcome,
                Step::Retry { attempt, delay, .. } => {
                    last = end.last;
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = cancel.wait_for(|c| *c) => break cancelled(name, attempt),
                    }
                    start = AttemptStart { attempt: attempt + 1, first_at: start.first_at, previous_lost: false };
                }
            }
        };
        self.finish_call(&scope, name, options, &outcome, stored.as_ref(), beat).await;
        outcome
    }

    /// Runs one attempt of a call whose attempts stand at `start` (the
    /// first attempt in the workflow's host, or a durable task's claim).
    /// A failure the retry policy retries comes back as [`Step::Retry`]
    /// for the caller to make durable; an attempt after a lost one runs
    /// only if the policy (max attempts, horizon) still allows it, else
    /// the call fails as timed out. `reserved`: room taken for it already
    /// (else it waits for room).
    #[allow(clippy::too_many_arguments)]
    pub async fn execute_attempt(
        &self,
        scope: ActivityScope<'_>,
        name: &str,
        input: Value,
        options: &ActivityOptions,
        start: AttemptStart,
        reserved: Option<Reserved>,
        cancel: watch::Receiver<bool>,
    ) -> Step {
        if let Some(outcome) = self.reused(&scope, name, options).await {
            return Step::Done(outcome);
        }
        let stored = self.heartbeat_key(&scope);
        let run = Run { start, last: None, stored: stored.clone(), reserved };
        let end = self.run_attempt(scope, name, input, options, run, cancel).await;
        if let Step::Done(outcome) = &end.step {
            // Earlier attempts (elsewhere, perhaps) may have heartbeated.
            let beat = end.beat || start.attempt > 1;
            self.finish_call(&scope, name, options, outcome, stored.as_ref(), beat).await;
        }
        end.step
    }

    /// The stored result of a call made with an idempotency key, reused
    /// instead of running again (or a failure if the key was used by
    /// another activity).
    async fn reused(&self, scope: &ActivityScope<'_>, name: &str, options: &ActivityOptions) -> Option<TaskOutcome> {
        let (journal, key) = self.journal.as_ref().zip(options.idempotency_key.as_deref())?;
        // Outside any attempt span (a durable task has no run span either):
        // these events name the run themselves.
        let (run_id, workflow) = (scope.run_id, scope.workflow);
        match journal.idempotent_result(&self.instance, key).await {
            Ok(Some((activity, output))) if activity == name => {
                tracing::info!(instance = %self.instance, run_id, workflow, activity = name, idempotency_key = key, "activity result reused");
                Some(TaskOutcome::Completed { output, attempts: 0 })
            }
            Ok(Some((activity, _))) => Some(TaskOutcome::Failed(Failure::new(FailureKind::ActivityFailed, format!("idempotency key `{key}` was already used by activity `{activity}`"), 0))),
            Ok(None) => None,
            // Without the store we cannot promise reuse; running again
            // is what an activity without a key would do.
            Err(e) => {
                tracing::warn!(instance = %self.instance, run_id, workflow, activity = name, error = %e, "idempotency lookup failed");
                None
            }
        }
    }

    /// What a call's final outcome leaves behind: its result under its
    /// idempotency key, and no stored heartbeat (forgotten when an attempt
    /// heartbeated or may have: a crashed host's attempt that heartbeated,
    /// with a successor that neither asks nor beats, leaves its row behind).
    async fn finish_call(
        &self,
        scope: &ActivityScope<'_>,
        name: &str,
        options: &ActivityOptions,
        outcome: &TaskOutcome,
        stored: Option<&(SharedJournal, RunKey, u32)>,
        beat: bool,
    ) {
        let (run_id, workflow) = (scope.run_id, scope.workflow);
        let store = self.journal.as_ref().zip(options.idempotency_key.as_deref());
        if let (Some((journal, key)), TaskOutcome::Completed { output, .. }) = (store, outcome) {
            if let Err(e) = journal.put_idempotent_result(&self.instance, key, name, output).await {
                tracing::warn!(instance = %self.instance, run_id, workflow, activity = name, error = %e, "storing the idempotent result failed");
            }
        }
        if let (Some((journal, key, op)), true) = (stored, beat) {
            if let Err(e) = journal.clear_heartbeat(key, *op).await {
                tracing::warn!(instance = %self.instance, run_id, workflow, activity = name, error = %e, "forgetting the heartbeat failed");
            }
        }
    }

    /// The call's stored heartbeat key, when the call belongs to a run.
    fn heartbeat_key(&self, scope: &ActivityScope<'_>) -> Option<(SharedJournal, RunKey, u32)> {
        let journal = self.journal.clone()?;
        let run_id = scope.run_id?;
        Some((journal, RunKey::new(&*self.instance, run_id), scope.op?))
    }

    /// Waits for an attempt's heartbeat flusher to store the last details
    /// (it ends once the attempt's context is gone); one the activity kept
    /// a clone of past its attempt (in a task of its own) is stopped.
    pub(super) async fn flushed(&self, mut flusher: tokio::task::JoinHandle<bool>) -> bool {
        let wait = self.limits.heartbeat_interval + Duration::from_secs(1);
        match tokio::time::timeout(wait, &mut flusher).await {
            Ok(beat) => beat.unwrap_or(false),
            Err(_) => {
                flusher.abort();
                true
            }
        }
    }

    /// Waits for the queue's permit (when it has a limit) and then the
    /// instance's; `None` when the executor shut down.
    pub(super) async fn permits(&self, queue: &str) -> Option<Reserved> {
        let queue = match self.queue_permits.get(queue) {
            Some(s) => Some(s.clone().acquire_owned().await.ok()?),
            None => None,
        };
        Some(Reserved { _queue: queue, _instance: self.permits.clone().acquire_owned().await.ok()? })
    }

    /// Room for one attempt on `queue`, taken now if there is some (the
    /// queue's own limit, if it has one, and the instance's): a dispatcher
    /// claims a task only once it holds its room.
    pub fn try_reserve(&self, queue: &str) -> Option<Reserved> {
        let queue = match self.queue_permits.get(queue) {
            Some(s) => Some(s.clone().try_acquire_owned().ok()?),
            None => None,
        };
        Some(Reserved { _queue: queue, _instance: self.permits.clone().try_acquire_owned().ok()? })
    }
}

/// Room held for one attempt (the instance's permit, and its queue's);
/// given back when dropped.
pub struct Reserved {
    _queue: Option<OwnedSemaphorePermit>,
    _instance: OwnedSemaphorePermit,
}

impl std::fmt::Debug for Reserved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reserved").field("queue_limited", &self._queue.is_some()).finish()
    }

}

#[cfg(test)]
#[path = "executor_tests.rs"]
mod tests;
