//! Glue used by the `workflow!` and `activities!` macros. Not public API.

use std::panic::PanicHookInfo;
use std::sync::Once;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::bindings::{activity_world, workflow_world};
use crate::error::{ActivityError, WorkflowError};
use crate::workflow::{decode_json, Workflow};

pub use wit_bindgen;

static PANIC_HOOK: Once = Once::new();

/// The message the panic hook logs: `panic: <msg> at <file>:<line>:<col>`.
pub fn panic_line(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let msg = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_string()
    };
    match info.location() {
        Some(loc) => format!("panic: {msg} at {}:{}:{}", loc.file(), loc.line(), loc.column()),
        None => format!("panic: {msg}"),
    }
}

/// Installs (once) a panic hook that logs the panic at error level before
/// the guest traps; the host records the last such line as the trap reason.
pub fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            crate::log::error(panic_line(info));
        }));
    });
}

/// Runs one workflow function on the raw `run` input.
pub fn run_workflow<I, O, E, F>(input: Vec<u8>, f: F) -> Result<Vec<u8>, workflow_world::WorkflowError>
where
    I: DeserializeOwned,
    O: Serialize,
    E: Into<WorkflowError>,
    F: FnOnce(&Workflow, I) -> Result<O, E>,
{
    install_panic_hook();
    let input: I = decode_json(&input)
        .map_err(|e| WorkflowError::new("invalid_input", format!("cannot decode the workflow input: {e}")))?;
    let ctx = Workflow::__new();
    let result = f(&ctx, input);
    // A query execution past the workflow's end is answered here.
    crate::query::answer_pending(&[]);
    let output = result.map_err(Into::into)?;
    let bytes = serde_json::to_vec(&output)
        .map_err(|e| WorkflowError::new("bad_output", format!("cannot encode the workflow output: {e}")))?;
    Ok(bytes)
}

/// Runs one activity function on the raw `invoke` input.
pub fn invoke_activity<I, O, E, F>(input: Vec<u8>, f: F) -> Result<Vec<u8>, activity_world::ActivityError>
where
    I: DeserializeOwned,
    O: Serialize,
    E: Into<ActivityError>,
    F: FnOnce(I) -> Result<O, E>,
{
    let input: I = decode_json(&input)
        .map_err(|e| ActivityError::non_retryable(format!("cannot decode the activity input: {e}")))?;
    let output = f(input).map_err(Into::into)?;
    let bytes = serde_json::to_vec(&output)
        .map_err(|e| ActivityError::non_retryable(format!("cannot encode the activity output: {e}")))?;
    Ok(bytes)
}

/// The error `invoke` returns for a name the component does not provide.
pub fn unknown_activity(name: &str) -> activity_world::ActivityError {
    ActivityError::non_retryable(format!("unknown activity `{name}`")).into()
}
