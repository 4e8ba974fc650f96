//! Executes activities with their options: per-attempt timeout, retries with
//! backoff, a concurrency limit per instance, and cancellation.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::{watch, Semaphore};
use tracing::Instrument;

use crate::journal::{ActivityOptions, Failure, FailureKind, SharedJournal, TaskOutcome};

use crate::telemetry;

use super::registry::ActivityRegistry;
use super::retry::{default_policy, next_delay};

/// The run an activity is executed for, named on its attempts' spans.
#[derive(Debug, Clone, Copy, Default)]
pub struct ActivityScope<'a> {
    /// The run's id, when known.
    pub run_id: Option<&'a str>,
    /// The run's workflow, when known.
    pub workflow: Option<&'a str>,
}

/// Runs activity attempts for one instance.
pub struct ActivityExecutor {
    registry: ActivityRegistry,
    permits: Arc<Semaphore>,
    default_timeout: Duration,
    instance: Arc<str>,
    results: Option<SharedJournal>,
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
        Self {
            registry,
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            default_timeout,
            instance,
            results: None,
        }
    }

    /// Stores and reuses the results of calls made with an idempotency key
    /// in `journal` (per instance).
    pub fn with_idempotency_store(mut self, journal: SharedJournal) -> Self {
        self.results = Some(journal);
        self
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
        let store = self.results.as_ref().zip(options.idempotency_key.as_deref());
        if let Some((journal, key)) = store {
            match journal.idempotent_result(&self.instance, key).await {
                Ok(Some((activity, output))) if activity == name => {
                    tracing::info!(instance = %self.instance, activity = name, idempotency_key = key, "activity result reused");
                    return TaskOutcome::Completed { output, attempts: 0 };
                }
                Ok(Some((activity, _))) => {
                    return TaskOutcome::Failed(Failure {
                        kind: FailureKind::ActivityFailed,
                        message: format!("idempotency key `{key}` was already used by activity `{activity}`"),
                        attempts: 0,
                    });
                }
                Ok(None) => {}
                // Without the store we cannot promise reuse; running again
                // is what an activity without a key would do.
                Err(e) => tracing::warn!(instance = %self.instance, activity = name, error = %e, "idempotency lookup failed"),
            }
        }
        let outcome = self.attempts(scope, name, input, options, cancel).await;
        if let (Some((journal, key)), TaskOutcome::Completed { output, .. }) = (store, &outcome) {
            if let Err(e) = journal.put_idempotent_result(&self.instance, key, name, output).await {
                tracing::warn!(instance = %self.instance, activity = name, error = %e, "storing the idempotent result failed");
            }
        }
        outcome
    }

    /// Runs attempts until one succeeds or the retry policy gives up.
    async fn attempts(
        &self,
        scope: ActivityScope<'_>,
        name: &str,
        input: Value,
        options: &ActivityOptions,
        mut cancel: watch::Receiver<bool>,
    ) -> TaskOutcome {
        let Some(activity) = self.registry.get(name) else {
            return TaskOutcome::Failed(Failure {
                kind: FailureKind::UnknownActivity,
                message: format!("no activity `{name}` is registered in instance `{}`", self.instance),
                attempts: 0,
            });
        };
        let policy = options.retry.clone().unwrap_or_else(default_policy);
        let timeout = options
            .attempt_timeout_ms
            .map(Duration::from_millis)
            .unwrap_or(self.default_timeout);
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let permit = match self.permits.clone().acquire_owned().await {
                Ok(p) => p,
                Err(_) => {
                    return TaskOutcome::Failed(Failure {
                        kind: FailureKind::Cancelled,
                        message: "the activity executor shut down".into(),
                        attempts: attempt - 1,
                    })
                }
            };
            let span = telemetry::activity_attempt_span(&self.instance, scope.run_id, scope.workflow, name, attempt);
            let attempt_started = Instant::now();
            span.in_scope(|| tracing::info!(instance = %self.instance, activity = name, attempt, "activity started"));
            let result = tokio::select! {
                r = tokio::time::timeout(timeout, activity.invoke(input.clone())).instrument(span.clone()) => r,
                _ = cancel.wait_for(|c| *c) => {
                    telemetry::metrics::activity_attempt(&self.instance, name, "cancelled", attempt_started.elapsed());
                    return TaskOutcome::Failed(Failure {
                        kind: FailureKind::Cancelled,
                        message: format!("activity `{name}` was cancelled"),
                        attempts: attempt,
                    });
                }
            };
            drop(permit);
            let (kind, message, retryable) = match result {
                Ok(Ok(output)) => {
                    span.in_scope(|| tracing::info!(instance = %self.instance, activity = name, attempt, "activity completed"));
                    telemetry::metrics::activity_attempt(&self.instance, name, "completed", attempt_started.elapsed());
                    return TaskOutcome::Completed { output, attempts: attempt };
                }
                Ok(Err(e)) => (FailureKind::ActivityFailed, e.message, e.retryable),
                Err(_) => (
                    FailureKind::TimedOut,
                    format!("activity `{name}` attempt {attempt} timed out after {timeout:?}"),
                    true,
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
                    return TaskOutcome::Failed(Failure { kind, message, attempts: attempt });
                }
                Some(delay) => {
                    span.in_scope(|| tracing::info!(instance = %self.instance, activity = name, attempt, error = %message, retry_in_ms = delay.as_millis() as u64, "activity retried"));
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = cancel.wait_for(|c| *c) => {
                            return TaskOutcome::Failed(Failure {
                                kind: FailureKind::Cancelled,
                                message: format!("activity `{name}` was cancelled"),
                                attempts: attempt,
                            });
                        }
                    }
                }
            }
        }
    }
}
