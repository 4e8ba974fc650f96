//! `probe-flow`: calls the activities it is given, in order, and returns
//! their results (or failures), for the sandbox tests:
//! `{"probes": [{"activity": "read_path", "input": {"path": "/etc/passwd"}}, ...]}`
//! gives `[{"activity": ..., "result": ...} | {"activity": ..., "failure": ...}, ...]`.
//! A probe may name the task queue its activity runs on (`"queue": "slow"`)
//! and a retry policy (`"retry": {"max_attempts": 3, "interval_ms": 100}`;
//! default: no retry), a heartbeat timeout (`"heartbeat_timeout_ms"`) and a
//! schedule-to-start timeout (`"schedule_to_start_ms"`). A failure also
//! gives its `kind`, `attempts` and the activity's error `code` (null when
//! it gave none).

use continuum_sdk::prelude::*;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Probe {
    activity: String,
    #[serde(default)]
    input: Value,
    #[serde(default)]
    queue: Option<String>,
    #[serde(default)]
    retry: Option<ProbeRetry>,
    #[serde(default)]
    heartbeat_timeout_ms: Option<u64>,
    #[serde(default)]
    schedule_to_start_ms: Option<u64>,
}

#[derive(Deserialize)]
struct ProbeRetry {
    max_attempts: u32,
    #[serde(default)]
    interval_ms: u64,
}

#[derive(Deserialize)]
struct Probes {
    probes: Vec<Probe>,
}

fn probe_flow(ctx: &Workflow, input: Probes) -> Result<Value, WorkflowError> {
    let mut out = Vec::new();
    for probe in input.probes {
        let retry = match probe.retry {
            Some(r) => RetryPolicy::constant(r.max_attempts, Duration::from_millis(r.interval_ms)),
            None => RetryPolicy::no_retry(),
        };
        let mut call = ctx.activity(&probe.activity, &probe.input).retry(retry);
        if let Some(ms) = probe.heartbeat_timeout_ms {
            call = call.heartbeat_timeout(Duration::from_millis(ms));
        }
        if let Some(ms) = probe.schedule_to_start_ms {
            call = call.schedule_to_start_timeout(Duration::from_millis(ms));
        }
        if let Some(queue) = probe.queue {
            call = call.queue(queue);
        }
        let result: Result<Value, ActivityFailed> = call.call();
        out.push(match result {
            Ok(v) => json!({ "activity": probe.activity, "result": v }),
            Err(f) => json!({
                "activity": probe.activity,
                "failure": f.message,
                "kind": format!("{:?}", f.kind),
                "attempts": f.attempts,
                "code": f.code,
            }),
        });
    }
    Ok(Value::Array(out))
}

continuum_sdk::workflow!(probe_flow);
