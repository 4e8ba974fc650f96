//! One attempt of an activity call: where the call's attempts stand
//! ([`AttemptStart`]), running the attempt under its timeout, permits,
//! heartbeats and cancellation, and what it came to ([`Step`]): the call's
//! final outcome, or a retry after a delay the policy sets.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::watch;
use tracing::Instrument;

use crate::journal::{ActivityOptions, Failure, FailureKind, RetryPolicy, RunKey, SharedJournal, TaskOutcome};
use crate::telemetry;

use super::context::{ActivityContext, AttemptInfo, Beats};
use super::executor::{ActivityExecutor, ActivityScope, Reserved};
use super::retry::{default_policy, next_delay};

/// Where a call's attempts stand when its next attempt is to run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttemptStart {
    /// The attempt to run: 1 for the call's first.
    pub attempt: u32,
    /// When the call's first attempt started (the retry policy's horizon
    /// counts from it).
    pub first_at: DateTime<Utc>,
    /// The previous attempt never reported (its host died, or its claim
    /// expired).
    pub previous_lost: bool,
}

impl AttemptStart {
    /// The first attempt of a call, starting now.
    pub fn first() -> Self {
        Self { attempt: 1, first_at: Utc::now(), previous_lost: false }
    }

    /// How long ago the call's first attempt started.
    pub fn elapsed(&self) -> Duration {
        (Utc::now() - self.first_at).to_std().unwrap_or(Duration::ZERO)
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The call's final outcome.
    Done(TaskOutcome),
    /// Attempt `attempt` failed and the retry policy runs the next one
    /// after `delay`.
    Retry {
        /// The attempt that failed.
        attempt: u32,
        /// How long to wait before the next attempt.
        delay: Duration,
        /// Why it failed.
        failure: Failure,
    },
}

/// An attempt's step, whether it (or the call before it) heartbeated, and
/// the latest heartbeat details it knew.
pub(super) struct AttemptEnd {
    pub step: Step,
    pub beat: bool,
    #[cfg_attr(not(test), allow(dead_code))] // used by the crate's tests only since the API narrowed
    pub last: Option<Value>,
}

impl AttemptEnd {
    fn of(step: Step) -> Self {
        Self { step, beat: false, last: None }
    }
}

/// Why an attempt was stopped before it returned.
enum Stopped {
    /// Its attempt timeout passed.
    Timeout,
    /// It sent no heartbeat within its heartbeat timeout.
    NoHeartbeat,
}

/// Completes once `every` passes without a heartbeat on `beats` (counted
/// from the attempt's start, then from each heartbeat); never without a
/// heartbeat timeout, or once the attempt's context is gone.
async fn missed_heartbeat(mut beats: watch::Receiver<Option<Value>>, every: Option<Duration>) {
    let Some(every) = every else { return std::future::pending().await };
    loop {
        match tokio::time::timeout(every, beats.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return std::future::pending().await,
            Err(_) => return,
        }
    }
}

/// The outcome of a call cancelled after `attempts` attempts.
pub(super) fn cancelled(name: &str, attempts: u32) -> TaskOutcome {
    TaskOutcome::Failed(Failure::new(FailureKind::Cancelled, format!("activity `{name}` was cancelled"), attempts))
}

/// Why attempt `start.attempt` may not run: past the policy's maximum, or
/// (after a lost attempt) past its horizon. The lost attempt counts: it
/// may have had its effects.
fn exhausted(policy: &RetryPolicy, start: &AttemptStart, name: &str) -> Option<Failure> {
    let previous = start.attempt.saturating_sub(1);
    let over = policy.max_attempts != 0 && start.attempt > policy.max_attempts;
    let past_horizon = policy.horizon_ms > 0 && start.elapsed() > Duration::from_millis(policy.horizon_ms);
    if !(over || (start.previous_lost && past_horizon)) {
        return None;
    }
    let why = if start.previous_lost {
        format!("activity `{name}` attempt {previous} never reported (its host died or its claim expired)")
    } else {
        format!("activity `{name}` failed {previous} time(s)")
    };
    Some(Failure::new(FailureKind::TimedOut, format!("{why} and its retry policy allows no further attempt"), previous))
}

/// How one attempt is to run.
pub(super) struct Run {
    /// Where the call's attempts stand.
    pub start: AttemptStart,
    /// Heartbeat details an earlier attempt in this process left (else
    /// they are read from `stored` when asked for).
    pub last: Option<Value>,
    /// Where the call's heartbeats are stored, if it belongs to a run.
    pub stored: Option<(SharedJournal, RunKey, u32)>,
    /// Room taken for the attempt already (else it waits for room).
    pub reserved: Option<Reserved>,
}

impl ActivityExecutor {
    /// Runs attempt `run.start.attempt` of the call.
    pub(super) async fn run_attempt(
        &self,
        scope: ActivityScope<'_>,
        name: &str,
        input: Value,
        options: &ActivityOptions,
        run: Run,
        mut cancel: watch::Receiver<bool>,
    ) -> AttemptEnd {
        let Run { start, last, stored, reserved } = run;
        let attempt = start.attempt;
        let Some(activity) = self.registry.get(name) else {
            let failure = Failure::new(FailureKind::UnknownActivity, format!("no activity `{name}` is registered in instance `{}`", self.instance), attempt.saturating_sub(1));
            return AttemptEnd::of(Step::Done(TaskOutcome::Failed(failure)));
        };
        let policy = options.retry.clone().unwrap_or_else(default_policy);
        if let Some(failure) = exhausted(&policy, &start, name) {
            tracing::info!(instance = %self.instance, activity = name, attempt, error = %failure.message, "activity failed");
            return AttemptEnd::of(Step::Done(TaskOutcome::Failed(failure)));
        }
        let timeout = options
            .attempt_timeout_ms
            .map(Duration::from_millis)
            .unwrap_or(self.limits.default_timeout);
        let queue = options.queue.as_deref().unwrap_or("default");
        let permits = match reserved {
            Some(r) => Some(r),
            None => tokio::select! {
                p = self.permits(queue) => p,
                _ = cancel.wait_for(|c| *c) => return AttemptEnd::of(Step::Done(cancelled(name, attempt - 1))),
            },
        };
        let Some(permits) = permits else {
            let failure = Failure::new(FailureKind::Cancelled, "the activity executor shut down", attempt - 1);
            return AttemptEnd::of(Step::Done(TaskOutcome::Failed(failure)));
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
        let (ctx, beats) = ActivityContext::new(info, last, stored.clone(), cancel.clone());
        let heartbeat_timeout = options.heartbeat_timeout_ms.map(Duration::from_millis);
        let watchdog = missed_heartbeat(beats.0.clone(), heartbeat_timeout);
        let flusher = tokio::spawn(
            flush_heartbeats(self.instance.clone(), beats, stored, attempt, self.limits.heartbeat_interval)
                .instrument(span.clone()),
        );
        let mut run = Box::pin(
            tokio::time::timeout(timeout, activity.invoke(input, ctx.clone())).instrument(span.clone()),
        );
        let result = tokio::select! {
            r = &mut run => Some(r.map_err(|_| Stopped::Timeout)),
            _ = watchdog => Some(Err(Stopped::NoHeartbeat)),
            _ = cancel.wait_for(|c| *c) => None,
        };
        // An attempt that returned because it saw its cancellation is
        // reported as cancelled too, whatever it returned.
        let result = match result {
            Some(r) if !*cancel.borrow() => r,
            returned => {
                // The attempt sees the cancellation through its context;
                // give it the grace period to return.
                let stopped = match returned {
                    Some(_) => true,
                    None => tokio::time::timeout(self.limits.cancel_grace, &mut run).await.is_ok(),
                };
                drop((run, ctx, permits));
                span.in_scope(|| tracing::info!(instance = %self.instance, activity = name, attempt, returned_by_itself = stopped, "activity cancelled"));
                telemetry::metrics::activity_attempt(&self.instance, name, "cancelled", attempt_started.elapsed());
                let beat = self.flushed(flusher).await;
                return AttemptEnd { step: Step::Done(cancelled(name, attempt)), beat, last: None };
            }
        };
        drop((run, permits));
        let last = ctx.known_heartbeat();
        let mut beat = last.is_some();
        drop(ctx);
        beat |= self.flushed(flusher).await;
        let (kind, message, retryable, code) = match result {
            Ok(Ok(output)) => {
                span.in_scope(|| tracing::info!(instance = %self.instance, activity = name, attempt, "activity completed"));
                telemetry::metrics::activity_attempt(&self.instance, name, "completed", attempt_started.elapsed());
                return AttemptEnd { step: Step::Done(TaskOutcome::Completed { output, attempts: attempt }), beat, last };
            }
            Ok(Err(e)) => {
                // A code the policy lists is never retried.
                let listed = e.code.as_ref().is_some_and(|c| policy.non_retryable_codes.contains(c));
                (FailureKind::ActivityFailed, e.message, e.retryable && !listed, e.code)
            }
            Err(Stopped::Timeout) => (
                FailureKind::TimedOut,
                format!("activity `{name}` attempt {attempt} timed out after {timeout:?}"),
                true,
                None,
            ),
            Err(Stopped::NoHeartbeat) => (
                FailureKind::TimedOut,
                format!(
                    "activity `{name}` attempt {attempt} sent no heartbeat for {:?} (its heartbeat timeout)",
                    heartbeat_timeout.unwrap_or_default()
                ),
                true,
                None,
            ),
        };
        let delay = if retryable {
            next_delay(&policy, attempt, start.elapsed(), rand::random::<f64>())
        } else {
            None
        };
        telemetry::mark_error(&span, &message);
        let outcome = if delay.is_some() { "retried" } else { "failed" };
        telemetry::metrics::activity_attempt(&self.instance, name, outcome, attempt_started.elapsed());
        let failure = Failure { kind, message, attempts: attempt, code };
        let step = match delay {
            None => {
                span.in_scope(|| tracing::info!(instance = %self.instance, activity = name, attempt, error = %failure.message, "activity failed"));
                Step::Done(TaskOutcome::Failed(failure))
            }
            Some(delay) => {
                span.in_scope(|| tracing::info!(instance = %self.instance, activity = name, attempt, error = %failure.message, retry_in_ms = delay.as_millis() as u64, "activity retried"));
                Step::Retry { attempt, delay, failure }
            }
        };
        AttemptEnd { step, beat, last }
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

