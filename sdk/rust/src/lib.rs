//! # continuum-sdk
//!
//! Write [Continuum](https://example.invalid/continuum) workflows and
//! activities in plain sequential Rust and compile them to WebAssembly
//! components (`wasm32-unknown-unknown`, then `wit-component`; the
//! `continuum-guest-build` tool does both).
//!
//! A workflow is one function from a typed input to a typed output. Every
//! non-pure step (an activity, a timer, a signal, the clock, randomness)
//! goes through the [`Workflow`] context, which calls the host; the host
//! journals the outcome and replays it after a crash, so the function takes
//! exactly the same path again. Payloads are JSON underneath (serde).
//!
//! ```no_run
//! use continuum_sdk::prelude::*;
//!
//! #[derive(Serialize, Deserialize)]
//! struct Order { order_id: String, amount_cents: u64 }
//! #[derive(Serialize, Deserialize)]
//! struct Shipped { order_id: String, tracking: String }
//!
//! fn order_flow(ctx: &Workflow, order: Order) -> Result<Shipped, WorkflowError> {
//!     let _charge: String = ctx
//!         .activity("charge_card", &order)
//!         .retry(RetryPolicy::exponential(3, Duration::from_millis(200)))
//!         .timeout(Duration::from_secs(10))
//!         .call()?;
//!     let decision: Option<String> =
//!         ctx.signal_with_timeout("fraud_review", Duration::from_secs(24 * 3600))?;
//!     if decision.as_deref() != Some("approved") {
//!         return Err(WorkflowError::new("not_approved", "the order was not approved"));
//!     }
//!     let tracking: String = ctx.activity("ship_order", &order).call()?;
//!     Ok(Shipped { order_id: order.order_id, tracking })
//! }
//!
//! continuum_sdk::workflow!(order_flow);
//! ```
//!
//! An activity component is a set of plain functions:
//!
//! ```no_run
//! use continuum_sdk::prelude::*;
//!
//! fn charge_card(card: String) -> Result<String, ActivityError> {
//!     if card == "4000-0000-0000-0002" {
//!         return Err(ActivityError::non_retryable("card declined"));
//!     }
//!     Ok(format!("ch_{}", card.len()))
//! }
//!
//! continuum_sdk::activities! { "charge_card" => charge_card }
//! ```
//!
//! Activities may use WASI as the instance's manifest grants it: files in
//! their sandbox directory, listed environment variables, listed hosts; see
//! [`activity`] (`activity::sandbox::write_file`, `activity::env_var`, ...).
//!
//! A crate uses either [`workflow!`] or [`activities!`], not both: one
//! component is one workflow, or one set of activities. Workflow crates get
//! a panic hook that logs `panic: <message> at <location>` at error level
//! before the guest traps.

#![warn(missing_docs)]

extern crate self as continuum_sdk;

pub mod activity;
mod attributes;
pub mod bindings;
mod child;
mod continuation;
mod error;
pub mod log;
mod query;
mod retry;
mod saga;
mod update;
mod workflow;

#[doc(hidden)]
pub mod __private {
    pub use crate::rt::*;
}
mod rt;

pub use attributes::INVALID_ATTRIBUTE;
pub use child::{ChildError, ChildOptions, ChildRun, ParentClose};
pub use continuation::CONTINUED_AS_NEW;
pub use error::{ActivityError, ActivityFailed, FailureKind, WorkflowError};
pub use retry::{ActivityOptions, RetryPolicy};
pub use saga::Saga;
pub use update::Update;
pub use workflow::{ActivityCall, Operation, Pending, Workflow};

/// Re-export of `serde`, for `#[serde(crate = "continuum_sdk::serde")]`.
pub use serde;
/// Re-export of `serde_json`, for `serde_json::Value` and `json!`.
pub use serde_json;

/// Everything a workflow or activity author usually needs.
///
/// ```
/// use continuum_sdk::prelude::*;
/// let policy = RetryPolicy::constant(3, Duration::from_secs(1));
/// ```
pub mod prelude {
    pub use crate::{
        ActivityCall, ActivityError, ActivityFailed, ActivityOptions, ChildError, ChildOptions, ChildRun, FailureKind,
        Operation, ParentClose, Pending, RetryPolicy, Saga, Update, Workflow, WorkflowError,
    };
    pub use serde::{Deserialize, Serialize};
    pub use serde_json;
    pub use std::time::{Duration, SystemTime, UNIX_EPOCH};
}

/// Registers the workflow of this component and generates its `run` export.
///
/// The function takes `&Workflow` and an input type that implements
/// `Deserialize`, and returns `Result<O, E>` where `O: Serialize` and
/// `E: Into<WorkflowError>`. Use it once per crate (one workflow per
/// component). An input that does not decode fails the run with code
/// `invalid_input`.
///
/// ```no_run
/// use continuum_sdk::prelude::*;
/// fn echo(_ctx: &Workflow, input: serde_json::Value) -> Result<serde_json::Value, WorkflowError> {
///     Ok(input)
/// }
/// continuum_sdk::workflow!(echo);
/// ```
#[macro_export]
macro_rules! workflow {
    ($f:path $(,)?) => {
        #[doc(hidden)]
        struct __ContinuumWorkflow;

        impl $crate::bindings::workflow_world::Guest for __ContinuumWorkflow {
            fn run(
                input: ::std::vec::Vec<u8>,
            ) -> ::std::result::Result<::std::vec::Vec<u8>, $crate::bindings::workflow_world::WorkflowError> {
                $crate::__private::run_workflow(input, $f)
            }
        }

        $crate::bindings::workflow_world::export_workflow!(
            __ContinuumWorkflow with_types_in $crate::bindings::workflow_world
        );
    };
}

/// Registers the activities of this component by name and generates the
/// `activities` and `invoke` exports.
///
/// Each function takes an input that implements `Deserialize` and returns
/// `Result<O, E>` where `O: Serialize` and `E: Into<ActivityError>`. An input
/// that does not decode is a non-retryable failure. Use it once per crate.
///
/// ```no_run
/// use continuum_sdk::prelude::*;
/// fn double(n: u64) -> Result<u64, ActivityError> { Ok(n * 2) }
/// fn shout(s: String) -> Result<String, ActivityError> { Ok(s.to_uppercase()) }
/// continuum_sdk::activities! { "double" => double, "shout" => shout }
/// ```
#[macro_export]
macro_rules! activities {
    ($($name:literal => $f:path),+ $(,)?) => {
        #[doc(hidden)]
        struct __ContinuumActivities;

        impl $crate::bindings::activity_world::Guest for __ContinuumActivities {
            fn activities() -> ::std::vec::Vec<::std::string::String> {
                ::std::vec![$(::std::string::String::from($name)),+]
            }

            fn invoke(
                name: ::std::string::String,
                input: ::std::vec::Vec<u8>,
            ) -> ::std::result::Result<::std::vec::Vec<u8>, $crate::bindings::activity_world::ActivityError> {
                match name.as_str() {
                    $($name => $crate::__private::invoke_activity(input, $f),)+
                    other => ::std::result::Result::Err($crate::__private::unknown_activity(other)),
                }
            }
        }

        $crate::bindings::activity_world::export_activity!(
            __ContinuumActivities with_types_in $crate::bindings::activity_world
        );
    };
}
