//! `counter-flow`: a counter that answers queries and updates. It adds up
//! the numbers sent to it as `add` (a signal or an update) until it
//! receives `add` with the payload `"stop"`, then returns `{"count": total,
//! "adds": n}`. An `add` sent as an update (`continuum update RUN add 5`)
//! is replied to with the new total; `{"add": n, "delay_ms": d}` sleeps `d`
//! ms (a durable timer) before adding and replying; `"reject"` is rejected
//! (the sender gets `the counter rejects "reject"`) and adds nothing.
//!
//! Queries (answered on a waiting or a finished run alike):
//!
//! - `count`: the total so far (a number);
//! - `status`: `{"count": total, "adds": n, "stopped": bool}`;
//! - `echo`: its arguments, as given;
//! - `fail`: always fails, with the message `the fail query always fails`.

use std::cell::RefCell;
use std::rc::Rc;

use continuum_sdk::prelude::*;
use serde_json::{json, Value};

/// What the queries report.
#[derive(Debug, Default, Clone, Copy)]
struct Counter {
    count: i64,
    adds: u64,
    stopped: bool,
}

fn counter_flow(ctx: &Workflow, _input: Value) -> Result<Value, WorkflowError> {
    let state = Rc::new(RefCell::new(Counter::default()));
    let s = state.clone();
    ctx.on_query("count", move |_: Value| Ok(s.borrow().count));
    let s = state.clone();
    ctx.on_query("status", move |_: Value| {
        let c = *s.borrow();
        Ok(json!({"count": c.count, "adds": c.adds, "stopped": c.stopped}))
    });
    ctx.on_query("echo", |args: Value| Ok(args));
    ctx.on_query("fail", |_: Value| Err::<Value, _>("the fail query always fails".to_string()));
    loop {
        let update = ctx.update::<Value>("add")?;
        let n = match &update.value {
            Value::String(s) if s == "stop" => break update.reply(&state.borrow().count)?,
            Value::String(s) if s == "reject" => {
                update.reject("the counter rejects \"reject\"")?;
                continue;
            }
            Value::Object(o) => {
                let delay = o.get("delay_ms").and_then(Value::as_u64).unwrap_or(0);
                if delay > 0 {
                    ctx.sleep(Duration::from_millis(delay));
                }
                o.get("add").and_then(Value::as_i64).unwrap_or(0)
            }
            other => other.as_i64().unwrap_or(0),
        };
        let total = {
            let mut c = state.borrow_mut();
            c.count += n;
            c.adds += 1;
            c.count
        };
        update.reply(&total)?;
    }
    let c = {
        let mut c = state.borrow_mut();
        c.stopped = true;
        *c
    };
    Ok(json!({"count": c.count, "adds": c.adds}))
}

continuum_sdk::workflow!(counter_flow);
