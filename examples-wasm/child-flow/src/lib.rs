//! `child-flow`: the child of `parent-flow`'s examples and tests. Sleeps
//! `sleep_ms` when asked, waits for the signal `wait_signal` when asked
//! (its payload is returned as `signal`), fails with the code `fail` when
//! asked, and otherwise returns `{"value": v, "doubled": 2v}`.

use continuum_sdk::prelude::*;
use serde_json::{json, Value};

fn child_flow(ctx: &Workflow, input: Value) -> Result<Value, WorkflowError> {
    let value = input.get("value").and_then(Value::as_i64).unwrap_or(0);
    if let Some(ms) = input.get("sleep_ms").and_then(Value::as_u64) {
        ctx.sleep(Duration::from_millis(ms));
    }
    let signal = match input.get("wait_signal").and_then(Value::as_str) {
        Some(name) => Some(ctx.signal::<Value>(name)?),
        None => None,
    };
    if let Some(code) = input.get("fail").and_then(Value::as_str) {
        return Err(WorkflowError::new(code, format!("child asked to fail with `{code}`")));
    }
    Ok(json!({"value": value, "doubled": value * 2, "signal": signal}))
}

continuum_sdk::workflow!(child_flow);
