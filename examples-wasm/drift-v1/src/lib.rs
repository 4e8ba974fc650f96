//! `drift-v1`: version 1 of workflow `drift`, for non-determinism tests.
//! Calls `step_one`, waits for signal `go`, then calls `step_two`.
//! `drift-v2` changes the command sequence, so replaying a v1 history on v2
//! must be detected as drift.

use continuum_sdk::prelude::*;
use serde_json::{json, Value};

fn drift(ctx: &Workflow, input: Value) -> Result<Value, WorkflowError> {
    let one: Value = ctx.activity("step_one", &input).call()?;
    let go: Value = ctx.signal("go")?;
    let two: Value = ctx.activity("step_two", &input).call()?;
    Ok(json!({ "version": 1, "one": one, "go": go, "two": two }))
}

continuum_sdk::workflow!(drift);
