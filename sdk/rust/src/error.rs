//! Error types: what a workflow returns, what an operation reports, what an
//! activity returns.

use std::fmt;

use crate::bindings::{activity_world, workflow_world};

type WitFailureKind = workflow_world::continuum::workflow::types::FailureKind;
type WitFailure = workflow_world::continuum::workflow::types::Failure;

/// Why an operation (activity call, timer, signal receipt) did not produce a
/// value.
///
/// ```
/// use continuum_sdk::prelude::*;
/// let kind = FailureKind::TimedOut;
/// assert_eq!(kind.code(), "activity_timed_out");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The activity ran and reported an error on its last attempt.
    ActivityFailed,
    /// The activity's attempts ran out of time.
    TimedOut,
    /// The operation was cancelled.
    Cancelled,
    /// No activity of that name is registered in the instance.
    UnknownActivity,
    /// The payload could not be converted to or from the Rust type the
    /// workflow asked for (a serde error inside the guest; the host never
    /// reports this kind).
    BadPayload,
}

impl FailureKind {
    /// The machine-readable code used when this failure becomes a
    /// [`WorkflowError`] through `?`.
    ///
    /// ```
    /// use continuum_sdk::prelude::*;
    /// assert_eq!(FailureKind::ActivityFailed.code(), "activity_failed");
    /// ```
    pub fn code(self) -> &'static str {
        match self {
            FailureKind::ActivityFailed => "activity_failed",
            FailureKind::TimedOut => "activity_timed_out",
            FailureKind::Cancelled => "cancelled",
            FailureKind::UnknownActivity => "unknown_activity",
            FailureKind::BadPayload => "bad_payload",
        }
    }
}

/// A failed operation as the workflow sees it: an activity that failed for
/// good, timed out or is unknown, a cancelled operation, or a payload that
/// does not match the expected type.
///
/// Handle it with `match`, or let `?` turn it into a [`WorkflowError`]
/// whose code is [`FailureKind::code`].
///
/// ```no_run
/// use continuum_sdk::prelude::*;
/// fn flow(ctx: &Workflow, card: String) -> Result<String, WorkflowError> {
///     match ctx.activity("charge_card", &card).call::<String>() {
///         Ok(charge_id) => Ok(charge_id),
///         Err(ActivityFailed { kind: FailureKind::ActivityFailed, message, .. }) => {
///             Err(WorkflowError::new("payment_declined", message))
///         }
///         Err(other) => Err(other.into()),
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityFailed {
    /// Why the operation failed.
    pub kind: FailureKind,
    /// Human-readable description, from the activity or the host.
    pub message: String,
    /// Attempts made before giving up (0 when not an activity).
    pub attempts: u32,
    /// The code the activity gave its error on its last attempt (see
    /// [`ActivityError::with_code`]); `None` when it gave none, or when the
    /// failure is the host's (a timeout, a cancellation).
    pub code: Option<String>,
}

impl ActivityFailed {
    /// True when the operation was completed as cancelled: the run's
    /// cancellation was delivered to the workflow, which may now clean up
    /// (see [`crate::Saga`]) before it ends as cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.kind == FailureKind::Cancelled
    }

    /// A [`FailureKind::BadPayload`] failure, for a payload that does not
    /// match the expected type.
    ///
    /// ```
    /// use continuum_sdk::prelude::*;
    /// let f = ActivityFailed::bad_payload("expected a string");
    /// assert_eq!(f.kind, FailureKind::BadPayload);
    /// ```
    pub fn bad_payload(message: impl Into<String>) -> Self {
        ActivityFailed { kind: FailureKind::BadPayload, message: message.into(), attempts: 0, code: None }
    }
}

impl From<WitFailure> for ActivityFailed {
    fn from(f: WitFailure) -> Self {
        let kind = match f.kind {
            WitFailureKind::ActivityFailed => FailureKind::ActivityFailed,
            WitFailureKind::TimedOut => FailureKind::TimedOut,
            WitFailureKind::Cancelled => FailureKind::Cancelled,
            WitFailureKind::UnknownActivity => FailureKind::UnknownActivity,
        };
        ActivityFailed { kind, message: f.message, attempts: f.attempts, code: f.code }
    }
}

impl fmt::Display for ActivityFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.kind.code())?;
        if let Some(code) = &self.code {
            write!(f, "[{code}] ")?;
        }
        write!(f, "{}", self.message)?;
        if self.attempts > 0 {
            write!(f, " (after {} attempt{})", self.attempts, if self.attempts == 1 { "" } else { "s" })?;
        }
        Ok(())
    }
}

impl std::error::Error for ActivityFailed {}

/// The error a workflow returns; the run then fails with this `code` and
/// `message` (the WIT `workflow-error`).
///
/// `?` converts [`ActivityFailed`] and `serde_json::Error` into it.
///
/// ```
/// use continuum_sdk::prelude::*;
/// let e = WorkflowError::new("payment_declined", "card 4000-0000-0000-0002 was declined");
/// assert_eq!(e.code, "payment_declined");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowError {
    /// A short machine-readable code, like `payment_declined`.
    pub code: String,
    /// A human-readable description.
    pub message: String,
}

impl WorkflowError {
    /// An error with this code and message.
    ///
    /// ```
    /// use continuum_sdk::prelude::*;
    /// let e = WorkflowError::new("bad_input", "quantity must be positive");
    /// assert_eq!(e.to_string(), "bad_input: quantity must be positive");
    /// ```
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        WorkflowError { code: code.into(), message: message.into() }
    }
}

impl fmt::Display for WorkflowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for WorkflowError {}

impl From<ActivityFailed> for WorkflowError {
    fn from(f: ActivityFailed) -> Self {
        WorkflowError { code: f.kind.code().to_string(), message: f.to_string() }
    }
}

impl From<serde_json::Error> for WorkflowError {
    fn from(e: serde_json::Error) -> Self {
        WorkflowError::new("bad_payload", e.to_string())
    }
}

impl From<WorkflowError> for workflow_world::WorkflowError {
    fn from(e: WorkflowError) -> Self {
        workflow_world::WorkflowError { code: e.code, message: e.message }
    }
}

/// The error an activity returns (the WIT `activity-error`). The host
/// retries it according to the call's retry policy unless it is not
/// retryable.
///
/// `?` converts `serde_json::Error` into a non-retryable error.
///
/// ```
/// use continuum_sdk::prelude::*;
/// let e = ActivityError::non_retryable("card declined");
/// assert!(!e.retryable);
/// let e = ActivityError::retryable("bank unavailable");
/// assert!(e.retryable);
/// let e = ActivityError::non_retryable("card 4000 declined").with_code("card_declined");
/// assert_eq!(e.code.as_deref(), Some("card_declined"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityError {
    /// Human-readable description.
    pub message: String,
    /// When false, the host does not retry this failure.
    pub retryable: bool,
    /// A short machine-readable code; it reaches the workflow as
    /// [`ActivityFailed::code`], and a [`RetryPolicy`](crate::RetryPolicy)
    /// may list codes it never retries.
    pub code: Option<String>,
}

impl ActivityError {
    /// A failure the host may retry (a transient problem).
    ///
    /// ```
    /// # use continuum_sdk::prelude::*;
    /// let e = ActivityError::retryable("timeout talking to the bank");
    /// ```
    pub fn retryable(message: impl Into<String>) -> Self {
        ActivityError { message: message.into(), retryable: true, code: None }
    }

    /// A failure that retrying cannot fix (bad input, business rule).
    ///
    /// ```
    /// # use continuum_sdk::prelude::*;
    /// let e = ActivityError::non_retryable("card declined");
    /// ```
    pub fn non_retryable(message: impl Into<String>) -> Self {
        ActivityError { message: message.into(), retryable: false, code: None }
    }

    /// Gives the error a machine-readable code the workflow can branch on.
    ///
    /// ```
    /// # use continuum_sdk::prelude::*;
    /// let e = ActivityError::retryable("bank busy").with_code("bank_unavailable");
    /// assert_eq!(e.code.as_deref(), Some("bank_unavailable"));
    /// ```
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }
}

impl fmt::Display for ActivityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = if self.retryable { "retryable" } else { "non-retryable" };
        write!(f, "{} ({r})", self.message)
    }
}

impl std::error::Error for ActivityError {}

impl From<serde_json::Error> for ActivityError {
    fn from(e: serde_json::Error) -> Self {
        ActivityError::non_retryable(format!("bad payload: {e}"))
    }
}

impl From<ActivityError> for activity_world::ActivityError {
    fn from(e: ActivityError) -> Self {
        activity_world::ActivityError { message: e.message, retryable: e.retryable, code: e.code }
    }
}
