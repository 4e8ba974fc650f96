//! `probe-flow`: calls the activities it is given, in order, and returns
//! their results (or failures), for the sandbox tests:
//! `{"probes": [{"activity": "read_path", "input": {"path": "/etc/passwd"}}, ...]}`
//! gives `[{"activity": ..., "result": ...} | {"activity": ..., "failure": ...}, ...]`.
//! A probe may name the task queue its activity runs on (`"queue": "slow"`).

use continuum_sdk::prelude::*;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Probe {
    activity: String,
    #[serde(default)]
    input: Value,
    #[serde(default)]
    queue: Option<String>,
}

#[derive(Deserialize)]
struct Probes {
    probes: Vec<Probe>,
}

fn probe_flow(ctx: &Workflow, input: Probes) -> Result<Value, WorkflowError> {
    let mut out = Vec::new();
    for probe in input.probes {
        let mut call = ctx.activity(&probe.activity, &probe.input).retry(RetryPolicy::no_retry());
        if let Some(queue) = probe.queue {
            call = call.queue(queue);
        }
        let result: Result<Value, ActivityFailed> = call.call();
        out.push(match result {
            Ok(v) => json!({ "activity": probe.activity, "result": v }),
            Err(f) => json!({ "activity": probe.activity, "failure": f.message }),
        });
    }
    Ok(Value::Array(out))
}

continuum_sdk::workflow!(probe_flow);
