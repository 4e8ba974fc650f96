//! `parent-flow`: child workflows. The input's `mode` picks what it does:
//!
//! - `one`: starts `workflow` (default `child-flow`) with `input` as its
//!   child and returns `{"child": output}`, or `{"error": {kind, code,
//!   message}}` when the child did not complete (the typed error);
//! - `race`: races that child against a timer of `timer_ms`; returns
//!   `{"winner": "child" | "timer", ...}`;
//! - `join`: starts `n` children of `child-flow` (values 0 to n-1), joins
//!   them and returns their outputs in order; child i sleeps `sleep_ms`
//!   when given (0: no sleep at all), else `50 * (n - i)` ms; with
//!   `inputs` (an array), one child of `workflow` per input instead (a
//!   tree: `parent-flow` children of their own);
//! - `hold`: like `one`, but a child that did not complete fails the
//!   parent with its code (a parent cancelled while it waits ends
//!   cancelled, and its children follow by `policy`).
//!
//! `policy` (`cancel`, `terminate`, `abandon`) is the children's
//! parent-close policy, `run_id` the child's run id, `instance` the
//! instance asked for.

use continuum_sdk::prelude::*;
use serde_json::{json, Value};

fn error_json(e: &ChildError) -> Value {
    let kind = match e {
        ChildError::Failed { .. } => "failed",
        ChildError::Cancelled { .. } => "cancelled",
        ChildError::Terminated { .. } => "terminated",
        ChildError::UnknownWorkflow { .. } => "unknown_workflow",
        ChildError::Refused { .. } => "refused",
        ChildError::BadPayload { .. } => "bad_payload",
    };
    json!({"kind": kind, "code": e.code(), "message": e.message()})
}

fn options(input: &Value) -> ChildOptions {
    let mut o = ChildOptions::default().parent_close(match input.get("policy").and_then(Value::as_str) {
        Some("terminate") => ParentClose::Terminate,
        Some("abandon") => ParentClose::Abandon,
        _ => ParentClose::Cancel,
    });
    if let Some(id) = input.get("run_id").and_then(Value::as_str) {
        o = o.run_id(id);
    }
    if let Some(instance) = input.get("instance").and_then(Value::as_str) {
        o = o.instance(instance);
    }
    o
}

fn parent_flow(ctx: &Workflow, input: Value) -> Result<Value, WorkflowError> {
    let workflow = input.get("workflow").and_then(Value::as_str).unwrap_or("child-flow");
    let child_input = input.get("input").cloned().unwrap_or(json!({}));
    match input.get("mode").and_then(Value::as_str).unwrap_or("one") {
        "race" => {
            let child = ctx.start_child::<_, Value>(workflow, &child_input, options(&input));
            let run_id = child.run_id();
            let timer = ctx.timer(Duration::from_millis(input.get("timer_ms").and_then(Value::as_u64).unwrap_or(1000)));
            match ctx.select(&[&child, &timer]) {
                0 => Ok(json!({"winner": "child", "child": child.wait()?, "child_run_id": run_id})),
                _ => Ok(json!({"winner": "timer", "child_run_id": run_id})),
            }
        }
        "join" => {
            let n = input.get("n").and_then(Value::as_u64).unwrap_or(3);
            let sleep_ms = input.get("sleep_ms").and_then(Value::as_u64);
            let children: Vec<ChildRun<Value>> = match input.get("inputs").and_then(Value::as_array) {
                Some(inputs) => inputs.iter().map(|i| ctx.start_child(workflow, i, options(&input))).collect(),
                None => (0..n)
                    .map(|i| {
                        let child_input = match sleep_ms {
                            Some(0) => json!({"value": i}),
                            Some(ms) => json!({"value": i, "sleep_ms": ms}),
                            None => json!({"value": i, "sleep_ms": 50 * (n - i)}),
                        };
                        ctx.start_child("child-flow", &child_input, options(&input))
                    })
                    .collect(),
            };
            let ids: Vec<Option<String>> = children.iter().map(ChildRun::run_id).collect();
            let results: Vec<Value> = ctx
                .join_children(children)
                .into_iter()
                .map(|r| r.unwrap_or_else(|e| json!({"error": error_json(&e)})))
                .collect();
            Ok(json!({"results": results, "child_run_ids": ids}))
        }
        "hold" => {
            let output: Value = ctx.child(workflow, &child_input, options(&input))?;
            Ok(json!({"child": output}))
        }
        _ => {
            let child = ctx.start_child::<_, Value>(workflow, &child_input, options(&input));
            let run_id = child.run_id();
            match child.wait() {
                Ok(output) => Ok(json!({"child": output, "child_run_id": run_id})),
                Err(e) => Ok(json!({"error": error_json(&e), "child_run_id": run_id})),
            }
        }
    }
}

continuum_sdk::workflow!(parent_flow);
