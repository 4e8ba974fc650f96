//! `drift-v2`: version 2 of workflow `drift`. Calls `step_one` then
//! `step_three` instead of waiting for signal `go`: replaying a `drift-v1`
//! history (which has the signal receipt as its second command) on this
//! version must drift.

use continuum_sdk::prelude::*;
use serde_json::{json, Value};

fn drift(ctx: &Workflow, input: Value) -> Result<Value, WorkflowError> {
    let one: Value = ctx.activity("step_one", &input).call()?;
    let three: Value = ctx.activity("step_three", &input).call()?;
    Ok(json!({ "version": 2, "one": one, "three": three }))
}

continuum_sdk::workflow!(drift);
