//! Sagas: after each step that changed the world, register the activity
//! that undoes it; on a failure or a cancellation, run the compensations in
//! reverse order (or all at once), each a durable activity call with its
//! own retry policy.
//!
//! ```no_run
//! use continuum_sdk::prelude::*;
//!
//! fn order(ctx: &Workflow, id: String) -> Result<Value, WorkflowError> {
//!     let mut saga = Saga::new(ctx);
//!     let reservation: Value = ctx.activity("reserve_stock", &id).call()?;
//!     saga.add(ctx.activity("release_stock", &reservation));
//!     let charge: Value = match ctx.activity("charge_card", &id).call() {
//!         Ok(c) => c,
//!         Err(failed) => return Err(saga.fail(failed)),
//!     };
//!     saga.add(ctx.activity("refund_payment", &charge));
//!     match ctx.signal::<String>("fraud_review") {
//!         Ok(decision) if decision == "approved" => Ok(charge),
//!         // Rejected, or cancelled while waiting: undo, newest first.
//!         Ok(_) => Err(saga.fail(WorkflowError::new("rejected", "the review rejected the order"))),
//!         Err(failed) => Err(saga.fail(failed)),
//!     }
//! }
//! # use serde_json::Value;
//! ```
//!
//! A cancellation reaches the workflow as an [`ActivityFailed`] of kind
//! [`FailureKind::Cancelled`] from the wait it is in; the compensations
//! started after it run normally, within the manifest's
//! `run_supervisor.cancel_cleanup_ms`.

use serde_json::Value;

use crate::error::{ActivityFailed, WorkflowError};
use crate::workflow::{ActivityCall, Operation, Workflow};

/// The compensations registered so far, run newest first by
/// [`Saga::compensate`].
#[must_use = "a saga does nothing until `.compensate()` or `.fail()`"]
pub struct Saga<'w> {
    _ctx: &'w Workflow,
    steps: Vec<ActivityCall<'w>>,
    parallel: bool,
}

impl<'w> Saga<'w> {
    /// An empty saga of the workflow.
    pub fn new(ctx: &'w Workflow) -> Self {
        Saga { _ctx: ctx, steps: Vec::new(), parallel: false }
    }

    /// Runs the compensations all at once (each still durable and
    /// retried), instead of one after the other, newest first.
    pub fn parallel(mut self) -> Self {
        self.parallel = true;
        self
    }

    /// Registers the activity call that undoes the step just done (with
    /// its options: retry policy, timeout, idempotency key).
    pub fn add(&mut self, compensation: ActivityCall<'w>) {
        self.steps.push(compensation);
    }

    /// How many compensations are registered.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// True when no compensation is registered.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Runs every registered compensation: newest first, each waited for
    /// before the next; or all started at once when [`Saga::parallel`].
    /// Every one runs even when an earlier one fails; the first failure is
    /// returned.
    pub fn compensate(self) -> Result<(), ActivityFailed> {
        let mut first_failure = None;
        let mut note = |r: Result<Value, ActivityFailed>| {
            if let Err(e) = r {
                crate::warn!("compensation failed: {e}");
                first_failure.get_or_insert(e);
            }
        };
        if self.parallel {
            let started: Vec<Operation<Value>> = self.steps.into_iter().rev().map(|c| c.start()).collect();
            for op in started {
                note(op.wait());
            }
        } else {
            for c in self.steps.into_iter().rev() {
                note(c.call());
            }
        }
        first_failure.map_or(Ok(()), Err)
    }

    /// Compensates, then returns `error` as the workflow's error (the
    /// compensation's own failure, if one failed, is logged). For
    /// `return Err(saga.fail(e))` after a failed step, a rejection or a
    /// cancellation.
    pub fn fail(self, error: impl Into<WorkflowError>) -> WorkflowError {
        let error = error.into();
        let _ = self.compensate();
        error
    }
}
