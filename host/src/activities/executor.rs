//! Executes activities with their options: per-attempt timeout, retries with
//! backoff, concurrency limits per instance and per queue, heartbeats and
//! cancellation.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;

use crate::journal::{ActivityOptions, Failure, FailureKind, RunKey, SharedJournal, TaskOutcome};

use crate::telemetry;

use super::context::{ActivityContext, AttemptInfo, Beats};
use super::registry::ActivityRegistry;
use super::retry::{default_policy, next_delay};

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
    registry: ActivityRegistry,
    permits: Arc<Semaphore>,
    queue_permits: HashMap<String, Arc<Semaphore>>,
    limits: ExecutorLimits,
    instance: Arc<str>,
    journal: Option<SharedJournal>,
}

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
    /// attempt runs in an `activity_attempt` span carrying it.
    pub async fn execute_for(
        &self,
        scope: ActivityScope<'_>,
        name: &str,
        input: Value,
        options: &ActivityOptions,
        cancel: watch::Receiver<bool>,
    ) -> TaskOutcome {
        let store = self.journal.as_ref().zip(options.idempotency_key.as_deref());
        // Outside any attempt span (a durable task has no run span either):
        // these events name the run themselves.
        let (run_id, workflow) = (scope.run_id, scope.workflow);
        if let Some((journal, key)) = store {
            match journal.idempotent_result(&self.instance, key).await {
                Ok(Some((activity, output))) if activity == name => {
                    tracing::info!(instance = %self.instance, run_id, workflow, activity = name, idempotency_key = key, "activity result reused");
                    return TaskOutcome::Completed { output, attempts: 0 };
                }
                Ok(Some((activity, _))) => {
                    return TaskOutcome::Failed(Failure {
                        kind: FailureKind::ActivityFailed,
                        message: format!("idempotency key `{key}` was already used by activity `{activity}`"),
                        attempts: 0,
                        code: None,
                    });
                }
                Ok(None) => {}
                // Without the store we cannot promise reuse; running again
                // is what an activity without a key would do.
                Err(e) => tracing::warn!(instance = %self.instance, run_id, workflow, activity = name, error = %e, "idempotency lookup failed"),
            }
        }
        let outcome = self.attempts(scope, name, input, options, cancel).await;
        if let (Some((journal, key)), TaskOutcome::Completed { output, .. }) = (store, &outcome) {
            if let Err(e) = journal.put_idempotent_result(&self.instance, key, name, output).await {
                tracing::warn!(instance = %self.instance, run_id, workflow, activity = name, error = %e, "storing the idempotent result failed");
            }
        }
        outcome
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
    async fn flushed(&self, mut flusher: tokio::task::JoinHandle<bool>) -> bool {
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
    async fn permits(&self, queue: &str) -> Option<(Option<OwnedSemaphorePermit>, OwnedSemaphorePermit)> {
        let queue = match self.queue_permits.get(queue) {
            Some(s) => Some(s.clone().acquire_owned().await.ok()?),
            None => None,
        };
        Some((queue, self.permits.clone().acquire_owned().await.ok()?))
    }

    /// Runs attempts until one succeeds or the retry policy gives up; the
    /// call's heartbeat is forgotten once it has its final outcome.
    async fn attempts(
        &self,
        scope: ActivityScope<'_>,
        name: &str,
        input: Value,
        options: &ActivityOptions,
        cancel: watch::Receiver<bool>,
    ) -> TaskOutcome {
        let stored = self.heartbeat_key(&scope);
        let (run_id, workflow) = (scope.run_id, scope.workflow);
        let (outcome, beat) = self.attempt_loop(scope, name, input, options, cancel, stored.clone()).await;
        // Forgotten when an attempt heartbeated or found stored details (a
        // crashed host's attempt that heartbeated, with a successor that
        // neither asks nor beats, leaves its row behind).
        if let (Some((journal, key, op)), true) = (&stored, beat) {
            if let Err(e) = journal.clear_heartbeat(key, *op).await {
                tracing::warn!(instance = %self.instance, run_id, workflow, activity = name, error = %e, "forgetting the heartbeat failed");
            }
        }
        outcome
    }

    /// The attempts themselves; also says whether any attempt heartbeated.
    #[allow(clippy::too_many_arguments)]
    async fn attempt_loop(
        &self,
        scope: ActivityScope<'_>,
        name: &str,
        input: Value,
        options: &ActivityOptions,
        mut cancel: watch::Receiver<bool>,
        stored: Option<(SharedJournal, RunKey, u32)>,
    ) -> (TaskOutcome, bool) {
        let mut last: Option<Value> = None;
        let Some(activity) = self.registry.get(name) else {
            let failure = Failure {
                kind: FailureKind::UnknownActivity,
                message: format!("no activity `{name}` is registered in instance `{}`", self.instance),
                attempts: 0,
                code: None,
            };
            return (TaskOutcome::Failed(failure), false);
        };
        let policy = options.retry.clone().unwrap_or_else(default_policy);
        let timeout = options
            .attempt_timeout_ms
            .map(Duration::from_millis)
            .unwrap_or(self.limits.default_timeout);
        let queue = options.queue.as_deref().unwrap_or("default");
        let cancelled = |attempts: u32| {
            TaskOutcome::Failed(Failure {
                kind: FailureKind::Cancelled,
                message: format!("activity `{name}` was cancelled"),
                attempts,
                code: None,
            })
        };
        let started = Instant::now();
        let mut attempt = 0u32;
        let mut beat = false;
        loop {
            attempt += 1;
            let permits = tokio::select! {
                p = self.permits(queue) => p,
                _ = cancel.wait_for(|c| *c) => return (cancelled(attempt - 1), beat),
            };
            let Some(permits) = permits else {
                let failure = Failure {
                    kind: FailureKind::Cancelled,
                    message: "the activity executor shut down".into(),
                    attempts: attempt - 1,
                    code: None,
                };
                return (TaskOutcome::Failed(failure), beat);
            };
            let span = telemetry::activity_attempt_span(&self.instance, &scope, name, attempt);
            let attempt_started = Instant::now();
            span.in_scope(|| tracing::info!(instance = %self.instance, activity = name, attempt, queue, "activity started"));
            let info = AttemptInfo {
                instance: self.instance.to_string(),
                run_id: scope.run_id.unwrap_or_default().to_owned(),
                activity: name.to_owned(),
                attempt,
            };
            let (ctx, beats) = ActivityContext::new(info, last.clone(), stored.clone(), cancel.clone());
            let flusher = tokio::spawn(
                flush_heartbeats(self.instance.clone(), beats, stored.clone(), attempt, self.limits.heartbeat_interval)
                    .instrument(span.clone()),
            );
            let mut run = Box::pin(
                tokio::time::timeout(timeout, activity.invoke(input.clone(), ctx.clone())).instrument(span.clone()),
            );
            let result = tokio::select! {
                r = &mut run => Some(r),
                _ = cancel.wait_for(|c| *c) => None,
            };
            // An attempt that returned because it saw its cancellation is
            // reported as cancelled too, whatever it returned.
            let result = match result {
                Some(r) if !*cancel.borrow() => r,
                returned => {
                    // The attempt sees the cancellation through its
                    // context; give it the grace period to return.
                    let stopped = match returned {
                        Some(_) => true,
                        None => tokio::time::timeout(self.limits.cancel_grace, &mut run).await.is_ok(),
                    };
                    drop((run, ctx, permits));
                    span.in_scope(|| tracing::info!(instance = %self.instance, activity = name, attempt, returned_by_itself = stopped, "activity cancelled"));
                    telemetry::metrics::activity_attempt(&self.instance, name, "cancelled", attempt_started.elapsed());
                    beat |= self.flushed(flusher).await;
                    return (cancelled(attempt), beat);
                }
            };
            drop((run, permits));
            last = ctx.known_heartbeat();
            beat |= last.is_some();
            drop(ctx);
            beat |= self.flushed(flusher).await;
            let (kind, message, retryable, code) = match result {
                Ok(Ok(output)) => {
                    span.in_scope(|| tracing::info!(instance = %self.instance, activity = name, attempt, "activity completed"));
                    telemetry::metrics::activity_attempt(&self.instance, name, "completed", attempt_started.elapsed());
                    return (TaskOutcome::Completed { output, attempts: attempt }, beat);
                }
                Ok(Err(e)) => {
                    let listed = e.code.as_ref().is_some_and(|c| policy.non_retryable_codes.contains(c));
                    (FailureKind::ActivityFailed, e.message, e.retryable && !listed, e.code)
                }
                Err(_) => (
                    FailureKind::TimedOut,
                    format!("activity `{name}` attempt {attempt} timed out after {timeout:?}"),
                    true,
                    None,
                ),
            };
            let delay = if retryable {
                next_delay(&policy, attempt, started.elapsed(), rand::random::<f64>())
            } else {
                None
            };
            telemetry::mark_error(&span, &message);
            let outcome = if delay.is_some() { "retried" } else { "failed" };
            telemetry::metrics::activity_attempt(&self.instance, name, outcome, attempt_started.elapsed());
            match delay {
                None => {
                    span.in_scope(|| tracing::info!(instance = %self.instance, activity = name, attempt, error = %message, "activity failed"));
                    return (TaskOutcome::Failed(Failure { kind, message, attempts: attempt, code }), beat);
                }
                Some(delay) => {
                    span.in_scope(|| tracing::info!(instance = %self.instance, activity = name, attempt, error = %message, retry_in_ms = delay.as_millis() as u64, "activity retried"));
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = cancel.wait_for(|c| *c) => return (cancelled(attempt), beat),
                    }
                }
            }
        }
    }
}

/// Stores an attempt's heartbeats (when its call belongs to a run): the
/// latest details, at most once per `every`, until the attempt's context
/// is gone, its last details included. Says whether any heartbeat came.
async fn flush_heartbeats(
    instance: Arc<str>,
    mut beats: Beats,
    stored: Option<(SharedJournal, RunKey, u32)>,
    attempt: u32,
    every: Duration,
) -> bool {
    let mut any = false;
    let mut open = beats.0.changed().await.is_ok();
    while open {
        let latest = beats.0.borrow_and_update().clone();
        if let Some(details) = latest {
            any = true;
            tracing::info!(instance = %instance, attempt, details = %details, "activity heartbeat");
            if let Some((journal, key, op)) = &stored {
                if let Err(e) = journal.record_heartbeat(key, *op, attempt, &details).await {
                    tracing::warn!(instance = %instance, attempt, error = %e, "storing the heartbeat failed");
                }
            }
        }
        // Throttle: newer details wait for the end of the interval; once
        // the context is gone the newest are stored at once.
        let throttle = tokio::time::sleep(every);
        tokio::pin!(throttle);
        let mut pending = false;
        loop {
            tokio::select! {
                _ = &mut throttle => break,
                changed = beats.0.changed() => match changed {
                    Ok(()) => pending = true,
                    Err(_) => {
                        open = false;
                        break;
                    }
                },
            }
        }
        if !pending && open {
            open = beats.0.changed().await.is_ok();
        } else if !open && pending {
            open = true; // store the newest details, then see the channel closed
        }
    }
    any
}

#[cfg(test)]
#[path = "executor_tests.rs"]
mod tests;
