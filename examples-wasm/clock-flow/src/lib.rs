//! `clock-flow`: the journaled clock and randomness, for determinism tests.
//! Reads `now()`, `random()` and `uuid()`, sleeps 1 s (or `sleep_ms` from
//! its input), reads `now()` again and returns all of them; a replay must
//! return exactly the same values.

use continuum_sdk::prelude::*;
use serde_json::{json, Value};

fn clock_flow(ctx: &Workflow, input: Value) -> Result<Value, WorkflowError> {
    let sleep_ms = input.get("sleep_ms").and_then(Value::as_u64).unwrap_or(1000);
    let before = ctx.now_ms();
    let random = ctx.random();
    let uuid = ctx.uuid();
    ctx.sleep(Duration::from_millis(sleep_ms));
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
