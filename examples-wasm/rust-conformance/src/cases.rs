// The conformance cases of `docs/conformance.md`, shared by `rust-conformance`
// and `rust-conformance-v2`: each crate defines `DRIFT_V2` (the drift case's
// one change) and includes this file.

use continuum_sdk::prelude::*;
use serde_json::{json, Value};

/// A parameter of the input, as an unsigned integer.
fn param(input: &Value, name: &str) -> Result<u64, WorkflowError> {
    input[name]
        .as_u64()
        .ok_or_else(|| WorkflowError::new("invalid_input", format!("the case needs the parameter `{name}` (an unsigned integer)")))
}

/// `conf_flaky` retried until it succeeds, then `conf_decline`'s typed failure caught.
fn activity_retry(ctx: &Workflow) -> Result<Value, WorkflowError> {
    let flaky: Value = ctx
        .activity("conf_flaky", &json!({ "fail_times": 2 }))
        .retry(RetryPolicy::constant(5, Duration::from_millis(10)))
        .call()?;
    let failure = match ctx
        .activity("conf_decline", &json!({}))
        .retry(RetryPolicy::constant(3, Duration::from_millis(10)))
        .call::<Value>()
    {
        Ok(v) => return Err(WorkflowError::new("unexpected", format!("conf_decline returned {v}"))),
        Err(f) => json!({ "kind": f.kind.code(), "code": f.code, "attempts": f.attempts }),
    };
    Ok(json!({ "flaky": flaky, "failure": failure }))
}

/// `conf_unserved`, which no host serves, under a schedule-to-start timeout
/// of `ms`: its typed failure caught.
fn unserved(ctx: &Workflow, input: &Value) -> Result<Value, WorkflowError> {
    let ms = param(input, "ms")?;
    match ctx
        .activity("conf_unserved", &json!({}))
        .schedule_to_start_timeout(Duration::from_millis(ms))
        .call::<Value>()
    {
        Ok(v) => Err(WorkflowError::new("unexpected", format!("conf_unserved returned {v}"))),
        Err(f) => Ok(json!({ "failure": { "kind": f.kind.code(), "code": f.code, "attempts": f.attempts } })),
    }
}

/// A durable sleep, measured with `now`.
fn timer(ctx: &Workflow, input: &Value) -> Result<Value, WorkflowError> {
    let ms = param(input, "ms")?;
    let t0 = ctx.now_ms();
    ctx.sleep(Duration::from_millis(ms));
    let t1 = ctx.now_ms();
    Ok(json!({ "slept_at_least": t1 >= t0 + ms }))
}

/// The signal `go`, for at most `timeout_ms`.
fn signal_timeout(ctx: &Workflow, input: &Value) -> Result<Value, WorkflowError> {
    let timeout = Duration::from_millis(param(input, "timeout_ms")?);
    Ok(match ctx.signal_with_timeout::<Value>("go", timeout)? {
        Some(payload) => json!({ "signal": payload }),
        None => json!({ "timed_out": true }),
    })
}

/// The signal `race` against a timer of `timer_ms`.
fn signal_race(ctx: &Workflow, input: &Value) -> Result<Value, WorkflowError> {
    let timer = ctx.timer(Duration::from_millis(param(input, "timer_ms")?));
    let signal = ctx.receive_signal::<Value>("race");
    Ok(match ctx.select(&[&timer, &signal]) {
        0 => json!({ "winner": "timer" }),
        _ => json!({ "winner": "signal", "payload": signal.wait()? }),
    })
}

/// `n` calls of `conf_echo` started before any is waited on, joined in order.
fn fan_out(ctx: &Workflow, input: &Value) -> Result<Value, WorkflowError> {
    let n = param(input, "n")?;
    let calls: Vec<Operation<Value>> = (0..n).map(|i| ctx.activity("conf_echo", &json!({ "i": i })).start()).collect();
    let mut doubles = Vec::with_capacity(calls.len());
    for call in calls {
        doubles.push(call.wait()?["double"].clone());
    }
    Ok(json!({ "doubles": doubles }))
}

/// The host's clock and randomness, and Rust's "own" (Rust has no WASI:
/// `now` again, and the upper half of `random`), logged, then a sleep.
fn clock_random(ctx: &Workflow, input: &Value) -> Result<Value, WorkflowError> {
    let sleep_ms = param(input, "sleep_ms")?;
    let values = json!({
        "now": ctx.now_ms(),
        "random": ctx.random().to_string(),
        "uuid": ctx.uuid(),
        "native_now_ms": ctx.now_ms(),
        "native_random": ctx.random() >> 32,
    });
    continuum_sdk::log::info(format!("conformance values {values}"));
    ctx.sleep(Duration::from_millis(sleep_ms));
    Ok(values)
}

/// Two steps, each with its compensation in a saga, then the signal `go`:
/// a cancellation while waiting runs the compensations, newest first.
fn saga_cancel(ctx: &Workflow) -> Result<Value, WorkflowError> {
    let mut saga = Saga::new(ctx);
    for i in [1, 2] {
        let _: Value = ctx.activity("conf_echo", &json!({ "i": i })).call()?;
        saga.add(ctx.activity("conf_echo", &json!({ "i": 100 + i })));
    }
    match ctx.signal::<Value>("go") {
        Ok(_) => Ok(json!({ "saga": "completed" })),
        Err(failed) if failed.is_cancelled() => Err(saga.fail(failed)),
        Err(failed) => Err(failed.into()),
    }
}

/// v1 waits for the signal `go`; v2 calls `conf_echo` there instead.
fn drift(ctx: &Workflow) -> Result<Value, WorkflowError> {
    if DRIFT_V2 {
        let _: Value = ctx.activity("conf_echo", &json!({ "i": 0 })).call()?;
        Ok(json!({ "drift": "v2" }))
    } else {
        let _: Value = ctx.signal("go")?;
        Ok(json!({ "drift": "v1" }))
    }
}

/// `continue`: a chain of `n` runs; each calls `conf_echo` with its
/// position `i` (0 in the first), then continues as new with `i + 1`; the
/// last returns the count and its echo.
fn continue_case(ctx: &Workflow, input: &Value) -> Result<Value, WorkflowError> {
    let n = param(input, "n")?;
    let i = input["i"].as_u64().unwrap_or(0);
    let echo: Value = ctx.activity("conf_echo", &json!({ "i": i })).start().wait()?;
    if i + 1 < n {
        return ctx.continue_as_new(&json!({ "case": "continue", "n": n, "i": i + 1 }));
    }
    Ok(json!({ "continued": n, "double": echo["double"] }))
}

include!("children.rs");

fn conformance(ctx: &Workflow, input: Value) -> Result<Value, WorkflowError> {
    if let Some(result) = child_cases(ctx, input["case"].as_str().unwrap_or_default(), &input) {
        return result;
    }
    match input["case"].as_str().unwrap_or_default() {
        "activity_retry" => activity_retry(ctx),
        "timer" => timer(ctx, &input),
        "unserved" => unserved(ctx, &input),
        "signal_timeout" => signal_timeout(ctx, &input),
        "signal_race" => signal_race(ctx, &input),
        "fan_out" => fan_out(ctx, &input),
        "patch" => Ok(json!({ "patched": ctx.patched("conformance-patch") })),
        "query" => query_case(ctx),
        "clock_random" => clock_random(ctx, &input),
        "drift" => drift(ctx),
        "saga_cancel" => saga_cancel(ctx),
        "continue" => continue_case(ctx, &input),
        other => Err(WorkflowError::new("unknown_case", format!("no conformance case `{other}`"))),
    }
}

continuum_sdk::workflow!(conformance);

/// `query`: answers `state` (`{"step": "waiting"}` until the signal `go`,
/// then `{"step": "done"}`) and `echo` (its arguments); waits for `go`.
fn query_case(ctx: &Workflow) -> Result<Value, WorkflowError> {
    let step = std::rc::Rc::new(std::cell::Cell::new("waiting"));
    let seen = step.clone();
    ctx.on_query("state", move |_: Value| Ok(json!({ "step": seen.get() })));
    ctx.on_query("echo", |args: Value| Ok(args));
    let _: Value = ctx.signal("go")?;
    step.set("done");
    Ok(json!({ "step": "done" }))
}
