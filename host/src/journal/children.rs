//! Child workflows as the journal holds them: the options a parent starts
//! a child with (its run id, what becomes of it when the parent ends
//! first), how a child's failure reaches its parent, the row of a child
//! to insert with the parent's write, and a child as a listing shows it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{NewRun, RunKey, RunState};

/// What becomes of a child that has not ended when its parent ends
/// (completes, fails, is cancelled or terminated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ParentClose {
    /// The child's cancellation is requested: it is delivered to the
    /// child workflow, which may clean up (the default).
    #[default]
    Cancel,
    /// The child is terminated at once, with no clean-up.
    Terminate,
    /// The child runs on, on its own.
    Abandon,
}

impl ParentClose {
    /// The policy's name as stored in `runs.parent_close`.
    pub fn as_str(self) -> &'static str {
        match self {
            ParentClose::Cancel => "cancel",
            ParentClose::Terminate => "terminate",
            ParentClose::Abandon => "abandon",
        }
    }
}

/// The options a child was started with, as journaled in the parent
/// (mirrors the WIT record `child-options`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChildOptions {
    /// The child's run id as the workflow asked for it; `None`: derived
    /// from the parent's run id and the operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// What becomes of the child when the parent ends first.
    #[serde(default)]
    pub parent_close: ParentClose,
    /// The instance the workflow asked for; a child runs in its parent's
    /// instance, so another one is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

/// Why a child did not produce an output, as its parent learns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChildFailureKind {
    /// The child workflow failed (returned an error, trapped, or stopped
    /// on a replay drift): `code` is its error code.
    Failed,
    /// The child was cancelled (or its parent's cancellation completed
    /// the wait on it).
    Cancelled,
    /// The child was terminated.
    Terminated,
    /// No workflow of that name is deployed in the instance: no child
    /// was started.
    UnknownWorkflow,
    /// The start was refused (another instance, a run id that is not
    /// valid or is another run's): no child was started.
    Refused,
}

/// A child's failure, as journaled in its parent (`child_failed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildFailure {
    /// Why.
    pub kind: ChildFailureKind,
    /// The child's error code (`payment_declined`, `terminated`, ...),
    /// when it ended with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Description.
    pub message: String,
}

impl ChildFailure {
    /// A failure of `kind` with no code.
    pub fn new(kind: ChildFailureKind, message: impl Into<String>) -> Self {
        Self { kind, code: None, message: message.into() }
    }
}

/// A child run to insert in the transaction that journals its start in
/// the parent (the parent is the write's run). Inserting it again (a
/// parent's replay) changes nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct NewChild {
    /// The child run (its key in the parent's instance).
    pub run: NewRun,
    /// The parent's operation that started it.
    pub parent_op: u32,
    /// What becomes of it when the parent ends first.
    pub parent_close: ParentClose,
}

/// A child of a run, as `continuum show` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChildRun {
    /// The child's key.
    pub key: RunKey,
    /// Its workflow.
    pub workflow: String,
    /// Its state.
    pub state: RunState,
    /// The parent's operation that started it.
    pub parent_op: u32,
    /// What becomes of it when the parent ends first.
    pub parent_close: ParentClose,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}
