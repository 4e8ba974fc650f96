//! `long-flow`: a run with a long journal. Takes `steps` journaled steps
//! (clock reads), then waits for the `finish` signal and returns a digest
//! of what it saw. Used to measure loading and replaying long histories,
//! with and without a snapshot.

use continuum_sdk::prelude::*;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Input {
    steps: u32,
}

fn long_flow(ctx: &Workflow, input: Input) -> Result<Value, WorkflowError> {
    let mut sum: u64 = 0;
    for _ in 0..input.steps {
        sum = sum.wrapping_add(ctx.now_ms());
    }
    let finish: Value = ctx.signal("finish")?;
    Ok(json!({ "steps": input.steps, "sum": sum.to_string(), "finish": finish }))
}

continuum_sdk::workflow!(long_flow);
