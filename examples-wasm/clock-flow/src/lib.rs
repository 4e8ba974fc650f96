//! `clock-flow`: the journaled clock and randomness, for determinism tests.
//! Reads `now()`, `random()` and `uuid()`, sleeps 1 s, reads `now()` again
//! and returns all of them; a replay must return exactly the same values.

use continuum_sdk::prelude::*;
use serde_json::{json, Value};

fn clock_flow(ctx: &Workflow, _input: Value) -> Result<Value, WorkflowError> {
    let before = ctx.now_ms();
    let random = ctx.random();
    let uuid = ctx.uuid();
    ctx.sleep(Duration::from_secs(1));
    let after = ctx.now_ms();
    Ok(json!({
        "now_ms": before,
        // As a string too: JSON readers that use f64 lose bits above 2^53.
        "random": random,
        "random_str": random.to_string(),
        "uuid": uuid,
        "after_sleep_ms": after,
    }))
}

continuum_sdk::workflow!(clock_flow);
