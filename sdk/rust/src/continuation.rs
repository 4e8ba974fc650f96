//! Continue-as-new: a workflow ends its current run, and with it its
//! history, and goes on in a new run of the same chain with a new input.
//! A workflow that loops for ever continues as new every so many
//! iterations, so its history (and the cost of replaying it) stays small.

use serde::Serialize;

use crate::bindings::workflow_world::continuum::workflow::continuation as wit;
use crate::error::WorkflowError;
use crate::workflow::Workflow;

/// The code of the error [`Workflow::continue_as_new`] returns to the
/// workflow (the host ends the run `continued` whatever the workflow
/// returns after continuing; this code only shows in tests that call the
/// function outside a host).
pub const CONTINUED_AS_NEW: &str = "continued_as_new";

impl Workflow {
    /// Continues as new on the workflow's current version: this run ends
    /// (`continued`) when the workflow returns, and the next run of its
    /// chain starts with `input` and an empty history. Return its result
    /// at once: `return ctx.continue_as_new(&next)`. A further call that
    /// starts something (activity, timer, signal, child, attribute) fails
    /// the run; reading the clock or drawing random values does not.
    ///
    /// The next run's id is derived from the chain's first run id
    /// (`<first>-can-<n>`); `await` on any run of the chain returns the
    /// chain's final result, and cancel, terminate and signals addressed
    /// to an earlier run reach the chain's latest run (signals this run
    /// did not take move on to the next run). A child workflow that
    /// continues as new delivers the chain's final result to its parent.
    ///
    /// An input that does not serialize fails with code `bad_payload` and
    /// continues nothing.
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// fn counter(ctx: &Workflow, n: u64) -> Result<u64, WorkflowError> {
    ///     let mut n = n;
    ///     for _ in 0..100 {
    ///         ctx.sleep(Duration::from_millis(1));
    ///         n += 1;
    ///     }
    ///     if n < 10_000 {
    ///         return ctx.continue_as_new(&n);
    ///     }
    ///     Ok(n)
    /// }
    /// ```
    pub fn continue_as_new<I: Serialize + ?Sized, O>(&self, input: &I) -> Result<O, WorkflowError> {
        self.continue_with(None, input)
    }

    /// [`Workflow::continue_as_new`] on the module version `version` (its
    /// content hash, as `continuum versions` lists them) instead of the
    /// current one. A version that is not one of this workflow's stored
    /// versions fails the run (`invalid_continuation`) and continues
    /// nothing.
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow, n: u64) -> Result<u64, WorkflowError> {
    /// return ctx.continue_as_new_on("5f0c...e1", &(n + 1));
    /// # }
    /// ```
    pub fn continue_as_new_on<I: Serialize + ?Sized, O>(&self, version: &str, input: &I) -> Result<O, WorkflowError> {
        self.continue_with(Some(version), input)
    }

    fn continue_with<I: Serialize + ?Sized, O>(&self, version: Option<&str>, input: &I) -> Result<O, WorkflowError> {
        let bytes = serde_json::to_vec(input)
            .map_err(|e| WorkflowError::new("bad_payload", format!("the input of continue-as-new does not serialize: {e}")))?;
        wit::continue_as_new(&bytes, version);
        Err(WorkflowError::new(CONTINUED_AS_NEW, "the workflow continued as new"))
    }
}
