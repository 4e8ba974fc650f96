//! `bench-flow`: the smallest useful workflow, for the benchmark. Calls
//! activity `step_one` then `step_two` with its input and returns
//! `{"one": ..., "two": ...}`. The benchmark usually registers the two
//! activities natively; `bench-activities` provides them as WASM.

use continuum_sdk::prelude::*;
use serde_json::{json, Value};

fn bench_flow(ctx: &Workflow, input: Value) -> Result<Value, WorkflowError> {
    let one: Value = ctx.activity("step_one", &input).call()?;
    let two: Value = ctx.activity("step_two", &input).call()?;
    Ok(json!({ "one": one, "two": two }))
}

continuum_sdk::workflow!(bench_flow);
