//! Child workflows: a workflow starts another workflow of its instance
//! and waits on it like on any operation (raced with
//! [`Workflow::select`], joined with [`Workflow::join_children`]).

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::bindings::workflow_world::continuum::workflow::{children as wit, host, types};
use crate::error::{ActivityFailed, FailureKind, WorkflowError};
use crate::workflow::{decode_json, sealed, OpState, Pending, Workflow};

/// What becomes of a child that has not ended when its parent ends
/// (completes, fails, is cancelled or terminated).
///
/// ```
/// use continuum_sdk::prelude::*;
/// assert_eq!(ParentClose::default(), ParentClose::Cancel);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ParentClose {
    /// The child's cancellation is requested: delivered to the child
    /// workflow, which may clean up (the default).
    #[default]
    Cancel,
    /// The child is terminated at once.
    Terminate,
    /// The child runs on, on its own.
    Abandon,
}

/// Options of a child workflow, for [`Workflow::start_child`].
///
/// ```
/// use continuum_sdk::prelude::*;
/// let options = ChildOptions::default().run_id("invoice-42").parent_close(ParentClose::Abandon);
/// assert_eq!(options.parent_close, ParentClose::Abandon);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChildOptions {
    /// The child's run id; `None`: derived from the parent's run id and
    /// the operation (`<parent>-child-<n>`, the same on every replay).
    pub run_id: Option<String>,
    /// What becomes of the child when the parent ends first.
    pub parent_close: ParentClose,
    /// The instance to run the child in; `None`: the parent's. A child
    /// runs in its parent's instance, another one is refused
    /// ([`ChildError::Refused`]).
    pub instance: Option<String>,
}

impl ChildOptions {
    /// Sets the child's run id.
    ///
    /// ```
    /// # use continuum_sdk::prelude::*;
    /// let o = ChildOptions::default().run_id("shipment-7");
    /// ```
    pub fn run_id(mut self, run_id: impl Into<String>) -> Self {
        self.run_id = Some(run_id.into());
        self
    }

    /// Sets what becomes of the child when the parent ends first.
    ///
    /// ```
    /// # use continuum_sdk::prelude::*;
    /// let o = ChildOptions::default().parent_close(ParentClose::Terminate);
    /// ```
    pub fn parent_close(mut self, policy: ParentClose) -> Self {
        self.parent_close = policy;
        self
    }

    /// Names the instance to run the child in (only the parent's is
    /// accepted).
    ///
    /// ```
    /// # use continuum_sdk::prelude::*;
    /// let o = ChildOptions::default().instance("default");
    /// ```
    pub fn instance(mut self, instance: impl Into<String>) -> Self {
        self.instance = Some(instance.into());
        self
    }

    fn to_wit(&self) -> wit::ChildOptions {
        wit::ChildOptions {
            run_id: self.run_id.clone(),
            parent_close: match self.parent_close {
                ParentClose::Cancel => wit::ParentClosePolicy::Cancel,
                ParentClose::Terminate => wit::ParentClosePolicy::Terminate,
                ParentClose::Abandon => wit::ParentClosePolicy::Abandon,
            },
            instance: self.instance.clone(),
        }
    }
}

/// Why a child workflow did not produce an output.
///
/// `?` turns it into a [`WorkflowError`] with the child's code (or
/// [`ChildError::code`]).
///
/// ```
/// use continuum_sdk::prelude::*;
/// let e = ChildError::Failed { code: "out_of_stock".into(), message: "none left".into() };
/// assert_eq!(e.code(), "out_of_stock");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildError {
    /// The child workflow failed with this error.
    Failed {
        /// Its error code.
        code: String,
        /// Its message.
        message: String,
    },
    /// The child was cancelled (or this run's own cancellation completed
    /// the wait on it).
    Cancelled {
        /// Description.
        message: String,
    },
    /// The child was terminated.
    Terminated {
        /// Description.
        message: String,
    },
    /// No workflow of that name is deployed in the instance; no child was
    /// started.
    UnknownWorkflow {
        /// Description (naming the workflows there are).
        message: String,
    },
    /// The start was refused (another instance, a run id that is not
    /// valid or is another run's); no child was started.
    Refused {
        /// Why.
        message: String,
    },
    /// The input could not be serialized or the output did not decode.
    BadPayload {
        /// The serde error.
        message: String,
    },
}

impl ChildError {
    /// The machine-readable code: the child's own for
    /// [`ChildError::Failed`], else `cancelled`, `terminated`,
    /// `unknown_workflow`, `child_refused` or `bad_payload`.
    ///
    /// ```
    /// # use continuum_sdk::prelude::*;
    /// assert_eq!(ChildError::Terminated { message: String::new() }.code(), "terminated");
    /// ```
    pub fn code(&self) -> &str {
        match self {
            ChildError::Failed { code, .. } => code,
            ChildError::Cancelled { .. } => "cancelled",
            ChildError::Terminated { .. } => "terminated",
            ChildError::UnknownWorkflow { .. } => "unknown_workflow",
            ChildError::Refused { .. } => "child_refused",
            ChildError::BadPayload { .. } => "bad_payload",
        }
    }

    /// The description.
    ///
    /// ```
    /// # use continuum_sdk::prelude::*;
    /// assert_eq!(ChildError::Refused { message: "no".into() }.message(), "no");
    /// ```
    pub fn message(&self) -> &str {
        match self {
            ChildError::Failed { message, .. }
            | ChildError::Cancelled { message }
            | ChildError::Terminated { message }
            | ChildError::UnknownWorkflow { message }
            | ChildError::Refused { message }
            | ChildError::BadPayload { message } => message,
        }
    }

    /// True for a cancelled or terminated child.
    ///
    /// ```
    /// # use continuum_sdk::prelude::*;
    /// assert!(ChildError::Cancelled { message: String::new() }.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, ChildError::Cancelled { .. } | ChildError::Terminated { .. })
    }

    fn from_wit(f: wit::ChildFailure) -> Self {
        let message = f.message;
        match f.kind {
            wit::ChildFailureKind::Failed => ChildError::Failed { code: f.code.unwrap_or_else(|| "child_failed".into()), message },
            wit::ChildFailureKind::Cancelled => ChildError::Cancelled { message },
            wit::ChildFailureKind::Terminated => ChildError::Terminated { message },
            wit::ChildFailureKind::UnknownWorkflow => ChildError::UnknownWorkflow { message },
            wit::ChildFailureKind::Refused => ChildError::Refused { message },
        }
    }

    /// The error from a completion's failure alone (a host that did not
    /// say more).
    fn from_failure(f: ActivityFailed) -> Self {
        match f.kind {
            FailureKind::Cancelled if f.code.as_deref() == Some("terminated") => ChildError::Terminated { message: f.message },
            FailureKind::Cancelled => ChildError::Cancelled { message: f.message },
            FailureKind::BadPayload => ChildError::BadPayload { message: f.message },
            _ => ChildError::Failed { code: f.code.unwrap_or_else(|| "child_failed".into()), message: f.message },
        }
    }
}

impl fmt::Display for ChildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "child workflow: {}: {}", self.code(), self.message())
    }
}

impl std::error::Error for ChildError {}

impl From<ChildError> for WorkflowError {
    fn from(e: ChildError) -> Self {
        WorkflowError::new(e.code(), e.message())
    }
}

/// A child workflow this run started, whose output decodes as `T`: wait
/// on it, or race it with [`Workflow::select`].
///
/// ```no_run
/// # use continuum_sdk::prelude::*;
/// # fn f(ctx: &Workflow) -> Result<(), WorkflowError> {
/// let child: ChildRun<u64> = ctx.start_child("pricing-flow", &42, ChildOptions::default());
/// let price = child.wait()?;
/// # Ok(()) }
/// ```
#[must_use = "a child's outcome is lost unless you wait on it"]
pub struct ChildRun<T> {
    handle: Option<types::Handle>,
    state: RefCell<OpState>,
    _output: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> ChildRun<T> {
    /// The child's run id (`None` when its input could not be serialized
    /// and nothing was started).
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) {
    /// let child: ChildRun<()> = ctx.start_child("audit-flow", &(), ChildOptions::default());
    /// let id = child.run_id();
    /// # }
    /// ```
    pub fn run_id(&self) -> Option<String> {
        self.handle.and_then(wit::child_run_id)
    }

    /// Whether the outcome is already known (it won a
    /// [`select`](Workflow::select)).
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) {
    /// let child: ChildRun<()> = ctx.start_child("audit-flow", &(), ChildOptions::default());
    /// assert!(!child.is_done());
    /// # }
    /// ```
    pub fn is_done(&self) -> bool {
        matches!(*self.state.borrow(), OpState::Done(_))
    }

    /// Blocks until the child ends; its decoded output or why it did not
    /// complete.
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) -> Result<(), WorkflowError> {
    /// let child: ChildRun<String> = ctx.start_child("label-flow", &"parcel-1", ChildOptions::default());
    /// match child.wait() {
    ///     Ok(label) => {}
    ///     Err(ChildError::Failed { code, .. }) if code == "no_carrier" => {}
    ///     Err(other) => return Err(other.into()),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn wait(self) -> Result<T, ChildError> {
        let outcome = match self.state.into_inner() {
            OpState::Pending(h) => {
                crate::query::answer_pending(&[h]);
                match host::wait(h) {
                    types::Completion::Ok(bytes) => Ok(bytes),
                    types::Completion::Err(f) => Err(ActivityFailed::from(f)),
                }
            }
            OpState::Done(r) => r,
        };
        match outcome {
            Ok(bytes) => decode_json::<T>(&bytes).map_err(|e| ChildError::BadPayload { message: e.to_string() }),
            Err(failure) => Err(match self.handle.and_then(wit::child_failure_of) {
                Some(typed) => ChildError::from_wit(typed),
                None => ChildError::from_failure(failure),
            }),
        }
    }
}

impl<T> sealed::HasState for ChildRun<T> {
    fn state(&self) -> &RefCell<OpState> {
        &self.state
    }
}

impl<T> Pending for ChildRun<T> {}

impl Workflow {
    /// Starts the workflow `workflow` of this run's instance with `input`
    /// as a child of this run; the child runs on any host of the instance.
    /// Wait on the returned [`ChildRun`] for its output, or race it with
    /// [`Workflow::select`]. Journaled: a replay starts no second child.
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) -> Result<(), WorkflowError> {
    /// let child = ctx.start_child::<_, String>("ship-flow", &"order-1", ChildOptions::default());
    /// let late = ctx.timer(Duration::from_secs(3600));
    /// match ctx.select(&[&child, &late]) {
    ///     0 => { let tracking = child.wait()?; }
    ///     _ => { /* the parent gives up; the child is cancelled when it ends */ }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn start_child<I: Serialize + ?Sized, O: DeserializeOwned>(
        &self,
        workflow: &str,
        input: &I,
        options: ChildOptions,
    ) -> ChildRun<O> {
        match serde_json::to_vec(input) {
            Ok(bytes) => {
                let handle = wit::start_child(workflow, &bytes, &options.to_wit());
                ChildRun { handle: Some(handle), state: RefCell::new(OpState::Pending(handle)), _output: PhantomData }
            }
            Err(e) => ChildRun {
                handle: None,
                state: RefCell::new(OpState::Done(Err(ActivityFailed::bad_payload(format!(
                    "input of child workflow {workflow}: {e}"
                ))))),
                _output: PhantomData,
            },
        }
    }

    /// Starts a child workflow and waits for its output.
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) -> Result<(), WorkflowError> {
    /// let total: u64 = ctx.child("sum-flow", &vec![1, 2, 3], ChildOptions::default())?;
    /// # Ok(()) }
    /// ```
    pub fn child<I: Serialize + ?Sized, O: DeserializeOwned>(
        &self,
        workflow: &str,
        input: &I,
        options: ChildOptions,
    ) -> Result<O, ChildError> {
        self.start_child::<I, O>(workflow, input, options).wait()
    }

    /// Waits for every child of `children` and returns their outcomes in
    /// the same order (all of them: one failing does not stop the wait on
    /// the others).
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) -> Result<(), WorkflowError> {
    /// let parts: Vec<ChildRun<u64>> =
    ///     (0..3).map(|i| ctx.start_child("part-flow", &i, ChildOptions::default())).collect();
    /// let results = ctx.join_children(parts);
    /// # Ok(()) }
    /// ```
    pub fn join_children<T: DeserializeOwned>(&self, children: Vec<ChildRun<T>>) -> Vec<Result<T, ChildError>> {
        children.into_iter().map(ChildRun::wait).collect()
    }
}
