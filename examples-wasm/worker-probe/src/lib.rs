//! `worker-probe`: activities that misbehave or take long, for the tests of
//! the activity worker's policies.
//!
//! - `spin {}`: loops forever (stopped by its attempt timeout);
//! - `grow {step_mb}`: allocates memory until it is stopped (by the
//!   instance's memory limit);
//! - `resumable {steps, step_ms, tag}`: does `steps` steps of `step_ms`,
//!   heartbeating `{"done": n}` after each one, and resumes from the last
//!   heartbeat of an earlier attempt. Returns `{"done", "resumed_from",
//!   "attempt"}`. When it sees its cancellation it writes
//!   `cancelled/<tag>.json` (`{"done": n}`) into its sandbox and returns an
//!   error.
//! - `counted {tag, steps, step_ms}`: appends its attempt number (as the
//!   host reports it) to `attempts/<tag>.log` in its sandbox, works
//!   `steps` steps of `step_ms` (heartbeating), then fails retryably: the
//!   log shows every attempt that really ran.

use std::time::Duration;

use continuum_sdk::activity::{self, sandbox};
use continuum_sdk::prelude::*;
use serde_json::{json, Value};

fn spin(_input: Value) -> Result<Value, ActivityError> {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

#[derive(Deserialize)]
struct Grow {
    step_mb: usize,
}

fn grow(input: Grow) -> Result<Value, ActivityError> {
    let mut held: Vec<Vec<u8>> = Vec::new();
    loop {
        // Touch every page so the memory is really used.
        held.push(vec![1u8; input.step_mb.max(1) << 20]);
        std::hint::black_box(&held);
    }
}

#[derive(Deserialize)]
struct Resumable {
    steps: u32,
    step_ms: u64,
    tag: String,
}

#[derive(Serialize, Deserialize, Default)]
struct Progress {
    done: u32,
}

fn resumable(input: Resumable) -> Result<Value, ActivityError> {
    let mut progress: Progress = activity::last_heartbeat().unwrap_or_default();
    let resumed_from = progress.done;
    while progress.done < input.steps {
        activity::sleep(Duration::from_millis(input.step_ms));
        progress.done += 1;
        if activity::heartbeat(&progress) || activity::is_cancelled() {
            let note = json!({ "done": progress.done }).to_string();
            sandbox::write_file(&format!("cancelled/{}.json", input.tag), note.as_bytes())?;
            return Err(ActivityError::non_retryable(format!("cancelled after {} steps", progress.done)));
        }
    }
    Ok(json!({ "done": progress.done, "resumed_from": resumed_from, "attempt": activity::info().attempt }))
}

#[derive(Deserialize)]
struct Counted {
    tag: String,
    steps: u32,
    step_ms: u64,
}

fn counted(input: Counted) -> Result<Value, ActivityError> {
    let path = format!("attempts/{}.log", input.tag);
    let mut log = sandbox::read_file(&path).unwrap_or_default();
    log.extend_from_slice(format!("{}\n", activity::info().attempt).as_bytes());
    sandbox::write_file(&path, &log)?;
    for done in 0..input.steps {
        activity::sleep(Duration::from_millis(input.step_ms));
        activity::heartbeat(&Progress { done: done + 1 });
    }
    Err(ActivityError::retryable(format!("attempt {} gave up", activity::info().attempt)))
}

continuum_sdk::activities! {
    "counted" => counted,
    "spin" => spin,
    "grow" => grow,
    "resumable" => resumable,
}
