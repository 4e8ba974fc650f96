//! `hostile-flow`: a workflow that misbehaves on purpose, for the tests of
//! the limits a host puts on workflow guests. Its input picks the mode:
//! - `{"mode": "busy"}`: loops forever without calling the host;
//! - `{"mode": "journal"}`: reads the clock (`now()`) in a loop, forever,
//!   never waiting (`"steps": N` stops after N reads and returns their count);
//! - `{"mode": "timer"}`: sleeps 0 ms in a loop, forever (each timer fires at
//!   once, so the run never suspends);
//! - `{"mode": "activity", "activity": NAME, "input": ...}`: calls the
//!   activity in a loop, forever;
//! - `{"mode": "stubborn"}`: sleeps 200 ms in a loop, forever, and ignores
//!   a cancellation (a sleep it ends early is simply followed by the next);
//! - `{"mode": "memory"}`: allocates 1 MiB after 1 MiB and keeps it, forever
//!   (`"mb": N` stops after N MiB and returns N, after `"spin": K` busy
//!   iterations holding it).
//!
//! Any other input is returned as it is.

use continuum_sdk::prelude::*;
use serde_json::{json, Value};

fn busy() -> ! {
    let mut x: u64 = 0;
    loop {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}

fn hostile_flow(ctx: &Workflow, input: Value) -> Result<Value, WorkflowError> {
    let steps = input.get("steps").and_then(Value::as_u64).unwrap_or(u64::MAX);
    match input.get("mode").and_then(Value::as_str) {
        Some("busy") => busy(),
        Some("journal") => {
            let mut n = 0u64;
            while n < steps {
                std::hint::black_box(ctx.now_ms());
                n += 1;
            }
            Ok(json!({ "reads": n }))
        }
        Some("timer") => {
            let mut n = 0u64;
            while n < steps {
                ctx.sleep(Duration::ZERO);
                n += 1;
            }
            Ok(json!({ "timers": n }))
        }
        Some("stubborn") => {
            let mut n = 0u64;
            while n < steps {
                ctx.sleep(Duration::from_millis(200));
                n += 1;
            }
            Ok(json!({ "sleeps": n }))
        }
        Some("activity") => {
            let name = input.get("activity").and_then(Value::as_str).unwrap_or("none").to_string();
            let arg = input.get("input").cloned().unwrap_or(Value::Null);
            let mut n = 0u64;
            while n < steps {
                let _: Value = ctx.activity(&name, &arg).call()?;
                n += 1;
            }
            Ok(json!({ "calls": n }))
        }
        Some("memory") => {
            let mb = input.get("mb").and_then(Value::as_u64).unwrap_or(u64::MAX);
            let mut kept: Vec<Vec<u8>> = Vec::new();
            while (kept.len() as u64) < mb {
                let mut chunk = vec![0u8; 1 << 20];
                // Touched, so no allocator can leave it unbacked.
                for i in (0..chunk.len()).step_by(4096) {
                    chunk[i] = kept.len() as u8;
                }
                kept.push(std::hint::black_box(chunk));
            }
            // Held a while (no host call), so that guests overlap.
            let spin = input.get("spin").and_then(Value::as_u64).unwrap_or(0);
            let mut x = 0u64;
            for i in 0..spin {
                x = std::hint::black_box(x.wrapping_add(i));
            }
            Ok(json!({ "mb": kept.len() }))
        }
        _ => Ok(input),
    }
}

continuum_sdk::workflow!(hostile_flow);
