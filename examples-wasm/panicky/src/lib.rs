//! `panicky`: failure paths of a workflow. With `{"panic": true}` it panics
//! with "boom: the guest panicked on purpose" (the SDK's panic hook logs
//! `panic: ... at ...` before the trap); with `{"fail": true}` it returns
//! the workflow error `bad_input`; otherwise it echoes its input.

use continuum_sdk::prelude::*;
use serde_json::Value;

fn panicky(_ctx: &Workflow, input: Value) -> Result<Value, WorkflowError> {
    if input.get("panic").and_then(Value::as_bool) == Some(true) {
        panic!("boom: the guest panicked on purpose");
    }
    if input.get("fail").and_then(Value::as_bool) == Some(true) {
        return Err(WorkflowError::new("bad_input", "the input asked the workflow to fail"));
    }
    Ok(input)
}

continuum_sdk::workflow!(panicky);
