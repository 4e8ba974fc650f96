//! `tagged-flow`: the run attributes example (`continuum runs --attr`).
//! Sets the attributes its input lists (`attributes`: an object of key to
//! string value) on its run; with `wait_signal`, then waits for that signal
//! and sets the attributes of its payload (an object) too, replacing those
//! set before under the same keys. Returns the keys it set, in order. A
//! key or value the host refuses fails the run with code
//! `invalid_attribute` (the message names the key).

use continuum_sdk::prelude::*;
use serde_json::{json, Value};

/// Sets each attribute of `attrs` (an object; a value that is not a
/// string is set as its JSON text); the keys set.
fn set_all(ctx: &Workflow, attrs: Option<&Value>) -> Result<Vec<String>, WorkflowError> {
    let mut keys = Vec::new();
    for (key, value) in attrs.and_then(Value::as_object).into_iter().flatten() {
        let text = value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
        ctx.set_attribute(key, &text)?;
        keys.push(key.clone());
    }
    Ok(keys)
}

fn tagged_flow(ctx: &Workflow, input: Value) -> Result<Value, WorkflowError> {
    let mut keys = set_all(ctx, input.get("attributes"))?;
    if let Some(name) = input.get("wait_signal").and_then(Value::as_str) {
        let more: Value = ctx.signal(name)?;
        keys.extend(set_all(ctx, Some(&more))?);
    }
    Ok(json!({"set": keys}))
}

continuum_sdk::workflow!(tagged_flow);
