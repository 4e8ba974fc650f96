//! Retry state is durable (issue 4): the attempt count and the first
//! attempt's time live in the task row, so a worker host killed during
//! attempt N leaves attempt N+1 to the next worker, and the total number of
//! attempts that ran never exceeds the policy's `max_attempts`. The
//! `counted` activity of `worker-probe` logs every attempt that really ran
//! (with the attempt number the host gave it) in its sandbox.

use std::path::Path;
use std::time::Duration;

use continuum_tests::*;
use serde_json::{json, Value};

pub(super) const WORKFLOWS: &str = "heartbeater = { interval_ms = 300, lease_ttl_ms = 1500 }\ndispatcher = { poll_interval_ms = 200 }\n\
                         recovery = { interval_ms = 500 }\n";
pub(super) const CHILDREN: &str = "heartbeater = { interval_ms = 300, lease_ttl_ms = 1500 }\ndispatcher = { poll_interval_ms = 200 }\n\
                        recovery = { interval_ms = 500 }\n\
                        activity_dispatcher = { poll_interval_ms = 200 }\n";

pub(super) fn spec(database: &str, children: &str) -> InstanceSpec {
    InstanceSpec {
        name: "default".into(),
        database: database.into(),
        workflows: vec![("probe-flow".into(), component("probe_flow"))],
        activities: vec![component("worker_probe")],
        children: children.into(),
    }
}

/// probe-flow calling `counted` once, with 3 attempts 100 ms apart; each
/// attempt works 2 s and fails.
pub(super) fn start_counted(manifest: &Path, tag: &str) -> String {
    let input = json!({"probes": [{
        "activity": "counted",
        "input": {"tag": tag, "steps": 20, "step_ms": 100},
        "retry": {"max_attempts": 3, "interval_ms": 100},
    }]});
    cli_ok(manifest, &["start", "probe-flow", &input.to_string()])
}

/// The attempt numbers `counted` logged for `tag`.
pub(super) fn attempts_ran(dir: &Path, tag: &str) -> Vec<u32> {
    let log = std::fs::read_to_string(dir.join(format!("data/sandbox/default/attempts/{tag}.log"))).unwrap_or_default();
    log.lines().map(|l| l.trim().parse().unwrap_or(0)).collect()
}

pub(super) async fn until_attempt(dir: &Path, tag: &str, n: u32, host: &Host) {
    let seen = eventually(Duration::from_secs(60), || async { attempts_ran(dir, tag).contains(&n).then_some(()) }).await;
    assert!(seen.is_some(), "attempt {n} never started: {:?}\n{}", attempts_ran(dir, tag), host.log_text());
}

pub(super) fn final_failure(manifest: &Path, run: &str) -> Value {
    let out = cli_ok(manifest, &["await", run, "--timeout", "90"]);
    let out: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("probe-flow printed invalid JSON ({e}): {out}"));
    out[0].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_during_an_attempt_leaves_the_count_to_the_next_worker() {
    let db = PgDb::create().await;
    let dir = TempDir::new();
    let workflows = spec(&db.url, &format!("{WORKFLOWS}activity_supervisor = false\nactivity_dispatcher = false\n"));
    let worker = |node: &str| {
        let children = "run_supervisor = false\ndispatcher = false\nrecovery = false\n\
                        heartbeater = { interval_ms = 300, lease_ttl_ms = 1500 }\nactivity_dispatcher = { poll_interval_ms = 200 }\n";
        write_manifest(&dir.0, node, &[spec(&db.url, children)])
    };
    let wf_manifest = write_manifest(&dir.0, "wf-host", &[workflows]);
    let wf_host = Host::start(&wf_manifest, &[]);
    assert!(wf_host.wait_for_log("instance started", Duration::from_secs(60)), "{}", wf_host.log_text());
    let mut worker_a = Host::start(&worker("worker-a"), &[]);
    let run = start_counted(&wf_manifest, "split");

    until_attempt(&dir.0, "split", 2, &worker_a).await;
    worker_a.kill();
    let worker_b = Host::start(&worker("worker-b"), &[]);
    let result = final_failure(&wf_manifest, &run);
    assert_eq!(attempts_ran(&dir.0, "split"), [1, 2, 3], "attempt 3 on worker B, and no more\n{}", worker_b.log_text());
    assert_eq!(result["kind"], "ActivityFailed", "{result}");
    assert_eq!(result["attempts"], 3, "{result}");
    assert!(result["failure"].as_str().is_some_and(|m| m.contains("attempt 3 gave up")), "{result}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_killed_during_a_retry_of_its_own_activity_does_not_restart_the_count() {
    let dir = TempDir::new();
    let db = format!("sqlite:{}", dir.0.join("retries.db").display());
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db, CHILDREN)]);
    let mut first = Host::start(&manifest, &[]);
    assert!(first.wait_for_log("instance started", Duration::from_secs(60)), "{}", first.log_text());
    // Attempt 1 runs in the workflow's host; its retries are a durable task.
    let run = start_counted(&manifest, "local");
    until_attempt(&dir.0, "local", 2, &first).await;
    first.kill();
    let second = Host::start(&manifest, &[]);
    let result = final_failure(&manifest, &run);
    assert_eq!(attempts_ran(&dir.0, "local"), [1, 2, 3], "{}", second.log_text());
    assert_eq!(result["attempts"], 3, "{result}");
}
