//! An attempt never runs twice, and `max_attempts` holds across crashes and
//! frozen hosts (issue 12). The `counted` activity of `worker-probe` logs
//! every attempt that really started (with the attempt number the host gave
//! it) in its sandbox, works 2 s and fails; probe-flow calls it with 3
//! attempts. Whatever happens to the host during the **first** attempt
//! (`kill -9`, or SIGSTOP past its lease while another host takes over and
//! then SIGCONT), the attempts that ran are exactly 1, 2 and 3, and the
//! call fails after 3 attempts. Both stores.

use std::path::Path;
use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::Value;

use super::activity_retries::{attempts_ran, final_failure, spec as probe_spec, start_counted, until_attempt, CHILDREN, WORKFLOWS};

fn spec(database: &str) -> InstanceSpec {
    probe_spec(database, CHILDREN)
}

fn assert_three_attempts(dir: &Path, tag: &str, result: &Value, logs: &str) {
    assert_eq!(attempts_ran(dir, tag), [1, 2, 3], "each attempt exactly once, and no more\n{logs}");
    assert_eq!(result["kind"], "ActivityFailed", "{result}");
    assert_eq!(result["attempts"], 3, "{result}");
    assert!(result["failure"].as_str().is_some_and(|m| m.contains("attempt 3 gave up")), "{result}");
}

on_both_stores!(async fn a_host_killed_during_a_first_attempt_leaves_attempt_two_to_the_next(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db.url)]);
    let mut first = Host::start(&manifest, &[]);
    assert!(first.wait_for_log("instance started", Duration::from_secs(60)), "{}", first.log_text());
    // Attempt 1 runs in the workflow's host (eagerly).
    let run = start_counted(&manifest, "killed");
    until_attempt(&dir.0, "killed", 1, &first).await;
    first.kill();
    let second = Host::start(&manifest, &[]);
    let result = final_failure(&manifest, &run);
    assert_three_attempts(&dir.0, "killed", &result, &format!("{}\n---\n{}", first.log_text(), second.log_text()));
});

on_both_stores!(async fn a_host_frozen_during_a_first_attempt_never_runs_another_after_it_thaws(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let a = write_manifest(&dir.0, "node-a", &[spec(&db.url)]);
    let b = write_manifest(&dir.0, "node-b", &[spec(&db.url)]);
    let mut frozen = Host::start(&a, &[]);
    assert!(frozen.wait_for_log("instance started", Duration::from_secs(60)), "{}", frozen.log_text());
    let run = start_counted(&a, "frozen");
    until_attempt(&dir.0, "frozen", 1, &frozen).await;
    frozen.freeze();
    // Past the lease (1.5 s): another host takes the run over and runs the
    // next attempts.
    let other = Host::start(&b, &[]);
    until_attempt(&dir.0, "frozen", 2, &other).await;
    frozen.thaw();
    let result = final_failure(&b, &run);
    // The thawed host may finish attempt 1 (it started before the freeze),
    // but never starts, retries or completes another.
    std::thread::sleep(Duration::from_secs(3));
    assert_three_attempts(&dir.0, "frozen", &result, &format!("{}\n---\n{}", frozen.log_text(), other.log_text()));
});

on_both_stores!(async fn a_worker_frozen_during_a_durable_attempt_never_runs_another_after_it_thaws(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    // The workflow host runs no activities: every attempt is a durable task.
    let wf = probe_spec(&db.url, &format!("{WORKFLOWS}activity_supervisor = false\nactivity_dispatcher = false\n"));
    let worker = |node: &str| {
        let mut w = spec(&db.url);
        w.children = "run_supervisor = false\ndispatcher = false\nrecovery = false\n\
                      heartbeater = { interval_ms = 300, lease_ttl_ms = 1500 }\nactivity_dispatcher = { poll_interval_ms = 200 }\n"
            .into();
        write_manifest(&dir.0, node, &[w])
    };
    let wf_manifest = write_manifest(&dir.0, "wf-host", &[wf]);
    let wf_host = Host::start(&wf_manifest, &[]);
    assert!(wf_host.wait_for_log("instance started", Duration::from_secs(60)), "{}", wf_host.log_text());
    let mut frozen = Host::start(&worker("worker-a"), &[]);
    let run = start_counted(&wf_manifest, "durable");
    until_attempt(&dir.0, "durable", 1, &frozen).await;
    frozen.freeze();
    let other = Host::start(&worker("worker-b"), &[]);
    until_attempt(&dir.0, "durable", 2, &other).await;
    frozen.thaw();
    let result = final_failure(&wf_manifest, &run);
    std::thread::sleep(Duration::from_secs(3));
    assert_three_attempts(&dir.0, "durable", &result, &format!("{}\n---\n{}", frozen.log_text(), other.log_text()));
});
