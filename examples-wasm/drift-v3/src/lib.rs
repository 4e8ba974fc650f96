//! `drift-v3` (workflow name `drift`): the change of `drift-v2` done right,
//! with a patch marker. New runs skip the `go` signal and call `step_three`;
//! runs recorded by `drift-v1` keep waiting for `go`, so they can be
//! migrated to this version without drift.

use continuum_sdk::prelude::*;
use serde_json::{json, Value};

fn drift(ctx: &Workflow, input: Value) -> Result<Value, WorkflowError> {
    let one: Value = ctx.activity("step_one", &input).call()?;
    if ctx.patched("skip-go") {
        let three: Value = ctx.activity("step_three", &input).call()?;
        return Ok(json!({ "version": 3, "one": one, "three": three }));
    }
    let go: Value = ctx.signal("go")?;
    let two: Value = ctx.activity("step_two", &input).call()?;
    Ok(json!({ "version": 3, "patched": false, "one": one, "go": go, "two": two }))
}

continuum_sdk::workflow!(drift);
