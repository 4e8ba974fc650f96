//! Activities executed in the run's own process ("eager"): the first
//! attempt of a call runs here when this host provides the activity and
//! serves its queue; its retries become a durable task any worker may run.
//!
//! An attempt counts exactly when it starts, so its start is durable before
//! it runs: a call is scheduled in the run's pending write, and its attempt
//! starts only after that write is committed (fenced by the run's lease).
//! The calls a guest makes before it next waits are started together after
//! one commit (a fan-out of ten costs one commit, not ten). A host that
//! dies during the attempt leaves `ActivityScheduled { eager: true }`
//! without a completion: the run's next owner counts that attempt as
//! started and lost and leaves the next one to a durable task, so attempt
//! numbers never repeat. A host frozen past its lease cannot commit, so it
//! never starts an attempt the new owner also counts.

use std::sync::Arc;

use chrono::Utc;
use serde_json::Value;
use tracing::Instrument;

use crate::activities::{ActivityExecutor, ActivityScope, AttemptStart, Step};
use crate::journal::{ActivityOptions, Failure, FailureKind, NewActivityTask, TaskAttempts, TaskOutcome};

use super::interrupt::Interrupt;
use super::run_ctx::{EagerCall, LiveOp, RunCtx};

/// An eager call scheduled but not started: its start waits for the commit
/// of its `ActivityScheduled`.
pub(crate) struct Unstarted {
    pub(crate) op: u32,
    call: EagerCall,
    exec: Arc<ActivityExecutor>,
}

impl RunCtx {
    /// Schedules activity call `op`: executed here when this host provides
    /// the activity (`local`; started at the guest's next wait, once its
    /// schedule is committed), else as a durable task for a worker.
    pub(crate) fn schedule_activity(&mut self, op: u32, name: String, input: Value, options: ActivityOptions, local: Option<Arc<ActivityExecutor>>) {
        match local {
            Some(exec) => {
                tracing::debug!(activity = %name, op, "activity scheduled (executed here)");
                let call = EagerCall { name, input, options, first_at: Utc::now() };
                self.unstarted.push(Unstarted { op, call, exec });
                self.ops.insert(op, LiveOp::EagerScheduled);
            }
            None => {
                tracing::debug!(activity = %name, op, "activity scheduled (durable task)");
                self.pending.tasks.push(NewActivityTask::new(op, name, input, options));
                self.ops.insert(op, LiveOp::DurableActivity);
            }
        }
    }

    /// Starts the eager calls scheduled since the last wait: commits the
    /// run's pending write (their schedules, and the results they may
    /// depend on) and then spawns their first attempts. Fails with the
    /// commit's interrupt (a lost lease) without starting any.
    pub(crate) async fn start_scheduled(&mut self) -> Result<(), Interrupt> {
        if self.unstarted.is_empty() {
            return Ok(());
        }
        self.flush(None).await?;
        // A side effect starts here only while this process can count on
        // its lease: a host too starved to renew it in time stops, and the
        // run's next owner runs the call.
        if self.lease_clock.expired() {
            tracing::warn!(owner = %self.lease.owner, "lease may have expired unrenewed; stopping the run here");
            return Err(Interrupt::LeaseLost);
        }
        for Unstarted { op, call, exec } in std::mem::take(&mut self.unstarted) {
            let cancel = self.activity_cancel.subscribe();
            let span = tracing::Span::current();
            let (run_id, workflow) = (self.key.run_id.clone(), self.workflow.clone());
            let start = AttemptStart { first_at: call.first_at, ..AttemptStart::first() };
            let (name, input, options) = (call.name.clone(), call.input.clone(), call.options.clone());
            let handle = tokio::spawn(
                async move {
                    // Inside the run attempt's span: the attempt span is its child.
                    let scope = ActivityScope { run_id: Some(&run_id), workflow: Some(&workflow), op: Some(op), trace_context: None };
                    exec.execute_attempt(scope, &name, input, &options, start, None, cancel).await
                }
                .instrument(span),
            );
            self.ops.insert(op, LiveOp::EagerActivity(Some(handle), Box::new(call)));
        }
        Ok(())
    }

    /// Leaves call `op`, whose first attempt ran on a host that is gone
    /// (and its outcome with it), to a durable task: that attempt counts
    /// as started and lost, so the policy decides whether another runs.
    pub(crate) fn requeue_lost(&mut self, op: u32, name: String, input: Value, options: ActivityOptions) {
        tracing::info!(activity = %name, op, "activity attempt lost with its host; left to a durable task");
        let first_at = self.history.scheduled_at(op).unwrap_or_else(Utc::now);
        let mut task = NewActivityTask::new(op, name, input, options);
        task.attempts = TaskAttempts { started: 1, ended: 0, first_at: Some(first_at), ready_at: None };
        self.pending.tasks.push(task);
        self.ops.insert(op, LiveOp::DurableActivity);
    }

    /// Takes a finished in-process attempt into the journal: the call's
    /// outcome, or, when the policy retries it, a durable task carrying
    /// the attempt count (committed with the run's next write), so that
    /// the retries survive this host and any worker may run them.
    pub(crate) fn finish_eager(&mut self, op: u32, result: Result<Step, tokio::task::JoinError>) {
        let step = result.unwrap_or_else(|e| {
            Step::Done(TaskOutcome::Failed(Failure::new(FailureKind::ActivityFailed, format!("activity task aborted: {e}"), 1)))
        });
        let Some(LiveOp::EagerActivity(_, call)) = self.ops.remove(&op) else {
            return;
        };
        match step {
            Step::Done(outcome) => {
                self.ops.insert(op, LiveOp::EagerActivity(None, call));
                self.append(super::host_imports::task_event(op, outcome));
            }
            Step::Retry { attempt, delay, .. } => {
                tracing::debug!(activity = %call.name, op, attempt, "activity retry left to a durable task");
                let ready_at = chrono::Duration::from_std(delay)
                    .ok()
                    .and_then(|d| Utc::now().checked_add_signed(d))
                    .unwrap_or(chrono::DateTime::<Utc>::MAX_UTC);
                let call = *call;
                let mut task = NewActivityTask::new(op, call.name, call.input, call.options);
                task.attempts = TaskAttempts { started: attempt, ended: attempt, first_at: Some(call.first_at), ready_at: Some(ready_at) };
                self.pending.tasks.push(task);
                self.ops.insert(op, LiveOp::DurableActivity);
            }
        }
    }
}
