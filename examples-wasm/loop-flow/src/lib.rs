//! `loop-flow`: a loop that continues as new (continue-as-new) every
//! `every` iterations, so each run's history stays small however long the
//! loop. Input (all optional):
//!
//! - `n`: iterations in all (default 10); `i`: the iterations done so far
//!   (0 for the chain's first run); `sum`: what they added up so far;
//! - `every`: iterations per run before continuing as new (default 100);
//! - `step`: what one iteration does: `activity` (default: calls
//!   `conf_echo {"i": i}` and adds its `double`), `timer` (sleeps
//!   `timer_ms`, default 1), `clock` (reads the journaled clock), `signal`
//!   (waits for the signal `tick` and adds its payload, a number), or
//!   `none`; every other step adds `2 i` to `sum` (the activity's answer,
//!   else computed);
//! - `version`: continue on this module version (a content hash) instead
//!   of the current one;
//! - `bad_input`: continue as new with input that is not JSON (the run
//!   fails, nothing is continued);
//! - `call_after`: start a timer after continuing (the run fails; clock
//!   and random reads stay allowed, as language runtimes make them alone).
//!
//! Output, once `i` reaches `n`: `{"count": n, "sum": sum, "runs": r}`,
//! `r` the runs of the chain.

use continuum_sdk::prelude::*;
use serde_json::{json, Value};

fn field(input: &Value, name: &str, default: u64) -> u64 {
    input.get(name).and_then(Value::as_u64).unwrap_or(default)
}

fn loop_flow(ctx: &Workflow, input: Value) -> Result<Value, WorkflowError> {
    let n = field(&input, "n", 10);
    let every = field(&input, "every", 100).max(1);
    let mut i = field(&input, "i", 0);
    let mut sum = field(&input, "sum", 0);
    let runs = field(&input, "runs", 1);
    let step = input.get("step").and_then(Value::as_str).unwrap_or("activity");
    let timer_ms = field(&input, "timer_ms", 1);
    let mut done = 0;
    while i < n && done < every {
        match step {
            "activity" => {
                let answer: Value = ctx.activity("conf_echo", &json!({"i": i})).call()?;
                sum += answer.get("double").and_then(Value::as_u64).unwrap_or(0);
            }
            "signal" => {
                let value: u64 = ctx.signal("tick")?;
                sum += value;
            }
            other => {
                match other {
                    "timer" => ctx.sleep(Duration::from_millis(timer_ms)),
                    "clock" => {
                        ctx.now_ms();
                    }
                    _ => {}
                }
                sum += 2 * i;
            }
        }
        i += 1;
        done += 1;
    }
    if i >= n {
        return Ok(json!({"count": i, "sum": sum, "runs": runs}));
    }
    if input.get("bad_input").and_then(Value::as_bool) == Some(true) {
        continuum_sdk::bindings::workflow_world::continuum::workflow::continuation::continue_as_new(b"{not json", None);
        return Err(WorkflowError::new("continued_as_new", "continued with bad input"));
    }
    let mut next = input.clone();
    next["i"] = json!(i);
    next["sum"] = json!(sum);
    next["runs"] = json!(runs + 1);
    let continued = match input.get("version").and_then(Value::as_str) {
        Some(version) => ctx.continue_as_new_on(version, &next),
        None => ctx.continue_as_new(&next),
    };
    if input.get("call_after").and_then(Value::as_bool) == Some(true) {
        let _ = ctx.timer(std::time::Duration::from_millis(1));
    }
    continued
}

continuum_sdk::workflow!(loop_flow);
