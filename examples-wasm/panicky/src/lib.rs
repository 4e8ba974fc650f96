//! `panicky`: failure paths of a workflow. With `{"panic": true}` it panics
//! with "boom: the guest panicked on purpose" (the SDK's panic hook logs
//! `panic: ... at ...` before the trap); with `{"fail": true}` it returns
//! the workflow error `bad_input`. With `{"panic_after": {"activity": NAME,
//! "input": ..., "sleep_ms": N}}` it first calls that activity and sleeps
//! (journaled steps), then panics with "boom after steps: <activity output>".
//! Otherwise it echoes its input.

use continuum_sdk::prelude::*;
use serde_json::Value;

#[derive(Deserialize)]
struct Steps {
    activity: String,
    input: Value,
    sleep_ms: u64,
}

fn panicky(ctx: &Workflow, input: Value) -> Result<Value, WorkflowError> {
    if let Some(steps) = input.get("panic_after") {
        let steps: Steps = serde_json::from_value(steps.clone())
            .map_err(|e| WorkflowError::new("bad_input", format!("panic_after: {e}")))?;
        let output: Value = ctx.activity(&steps.activity, &steps.input).call()?;
        ctx.sleep(Duration::from_millis(steps.sleep_ms));
        panic!("boom after steps: {output}");
    }
    if input.get("panic").and_then(Value::as_bool) == Some(true) {
        panic!("boom: the guest panicked on purpose");
    }
    if input.get("fail").and_then(Value::as_bool) == Some(true) {
        return Err(WorkflowError::new("bad_input", "the input asked the workflow to fail"));
    }
    Ok(input)
}

continuum_sdk::workflow!(panicky);
