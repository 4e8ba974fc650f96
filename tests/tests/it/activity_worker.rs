//! The activity worker's policies through the real `continuum` binary and
//! the `worker-probe` WASM activities (issue 4):
//!
//! - an activity that loops forever is stopped by its attempt timeout (epoch
//!   interruption lets the timeout fire), and one that grows its memory is
//!   stopped at the instance's limit; both are reported to their workflows
//!   while another run on the same host completes;
//! - heartbeats with details survive a `kill -9` of the host: the attempt
//!   on the next host resumes from the last stored details;
//! - a running activity sees its workflow's cancellation and stops by
//!   itself (it writes a note into its sandbox when it does).

use std::path::Path;
use std::time::{Duration, Instant};

use continuum_tests::*;
use serde_json::{json, Value};

fn spec(name: &str, database: &str, supervisor: &str) -> InstanceSpec {
    InstanceSpec {
        name: name.into(),
        database: database.into(),
        workflows: vec![("probe-flow".into(), component("probe_flow"))],
        activities: vec![component("worker_probe"), component("sandbox_probe")],
        children: format!(
            "heartbeater = {{ interval_ms = 300, lease_ttl_ms = 1500 }}\ndispatcher = {{ poll_interval_ms = 200 }}\n\
             recovery = {{ interval_ms = 500 }}\n\
             activity_supervisor = {{ {supervisor} }}\n"
        ),
    }
}

/// Starts a host and waits until it serves (so the CLI calls that follow
/// do not race its creation of the database).
fn serve(manifest: &Path) -> Host {
    let host = Host::start(manifest, &[]);
    assert!(host.wait_for_log("instance started", Duration::from_secs(60)), "the host did not start:\n{}", host.log_text());
    host
}

fn start_probes(manifest: &Path, probes: &[(&str, Value)]) -> String {
    let input = json!({
        "probes": probes.iter().map(|(a, i)| json!({"activity": a, "input": i})).collect::<Vec<_>>()
    });
    cli_ok(manifest, &["start", "probe-flow", &input.to_string()])
}

fn await_probes(manifest: &Path, run: &str) -> Vec<Value> {
    let out = cli_ok(manifest, &["await", run, "--timeout", "60"]);
    let out: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("probe-flow printed invalid JSON ({e}): {out}"));
    out.as_array().cloned().unwrap_or_else(|| panic!("probe-flow returned {out}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_looping_and_a_growing_activity_are_stopped_without_harming_other_runs() {
    // A guest keeps a core busy here: one such scenario at a time.
    let _turn = cpu_heavy().await;
    let dir = TempDir::new();
    let db = format!("sqlite:{}", dir.0.join("limits.db").display());
    let manifest = write_manifest(
        &dir.0,
        "node-a",
        &[spec("default", &db, "default_attempt_timeout_ms = 1500, max_memory_mb = 32")],
    );
    let _host = serve(&manifest);
    let t0 = Instant::now();
    let spin = start_probes(&manifest, &[("spin", json!({}))]);
    let grow = start_probes(&manifest, &[("grow", json!({"step_mb": 4}))]);
    let fine = start_probes(&manifest, &[("env_var", json!({"name": "HOME"}))]);

    let fine = await_probes(&manifest, &fine);
    assert_eq!(fine[0]["result"]["ok"], true, "a well-behaved run completes meanwhile: {fine:?}");

    let spin = await_probes(&manifest, &spin);
    let failure = spin[0]["failure"].as_str().unwrap_or_else(|| panic!("spin must fail: {spin:?}"));
    assert!(failure.contains("timed out after 1.5s"), "{failure}");
    assert_eq!(spin[0]["kind"], "TimedOut", "the workflow sees a typed timeout: {spin:?}");
    assert_eq!(spin[0]["attempts"], 1, "{spin:?}");
    let grow = await_probes(&manifest, &grow);
    let failure = grow[0]["failure"].as_str().unwrap_or_else(|| panic!("grow must fail: {grow:?}"));
    assert!(failure.contains("exceeded the instance's memory limit of 32 MiB"), "{failure}");
    assert!(t0.elapsed() < Duration::from_secs(30), "stopped promptly ({:?})", t0.elapsed());

    // The host is still healthy: another run completes after them.
    let again = start_probes(&manifest, &[("env_var", json!({"name": "HOME"}))]);
    assert_eq!(await_probes(&manifest, &again)[0]["result"]["ok"], true);
}

/// The stored heartbeat details of the run's first activity call, if any.
fn stored_progress(manifest: &Path, run: &str) -> Option<u64> {
    show_json(manifest, run, None).heartbeats.first()?.details["done"].as_u64()
}

#[tokio::test(flavor = "multi_thread")]
async fn heartbeat_details_survive_a_host_crash_and_the_next_attempt_resumes_from_them() {
    let db = PgDb::create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec("default", &db.url, "heartbeat_interval_ms = 100")]);
    let mut first = serve(&manifest);
    // Attempt 1 dies with its host and counts: a second attempt needs a
    // policy that allows one.
    let input = json!({"probes": [{
        "activity": "resumable",
        "input": {"steps": 40, "step_ms": 100, "tag": "crash"},
        "retry": {"max_attempts": 2, "interval_ms": 100},
    }]});
    let run = cli_ok(&manifest, &["start", "probe-flow", &input.to_string()]);

    let progress = eventually(Duration::from_secs(30), || async {
        stored_progress(&manifest, &run).filter(|done| *done >= 5)
    })
    .await
    .expect("the activity's heartbeats are stored");
    first.kill();
    let text = cli_ok(&manifest, &["show", &run]);
    assert!(text.contains("activity heartbeats") && text.contains("\"done\""), "show lists the heartbeat:\n{text}");

    let _second = serve(&manifest);
    let results = await_probes(&manifest, &run);
    let out = &results[0]["result"];
    assert_eq!(out["done"], 40, "{results:?}");
    let resumed = out["resumed_from"].as_u64().unwrap_or_else(|| panic!("{results:?}"));
    assert!(resumed >= progress && resumed < 40, "resumed from {resumed}, stored {progress} before the crash");
    assert_eq!(out["attempt"], 2, "the attempt after the lost one is attempt 2: {results:?}");
    assert!(show_json(&manifest, &run, None).heartbeats.is_empty(), "forgotten once done");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_activity_sees_its_workflows_cancellation() {
    let dir = TempDir::new();
    let db = format!("sqlite:{}", dir.0.join("cancel.db").display());
    let manifest = write_manifest(&dir.0, "node-a", &[spec("default", &db, "heartbeat_interval_ms = 100, cancel_grace_ms = 5000")]);
    let _host = serve(&manifest);
    let run = start_probes(&manifest, &[("resumable", json!({"steps": 10000, "step_ms": 50, "tag": "stop-me"}))]);
    eventually(Duration::from_secs(30), || async { stored_progress(&manifest, &run).filter(|d| *d >= 2) })
        .await
        .expect("the activity runs");

    cli_ok(&manifest, &["cancel", &run]);
    let note = dir.0.join("data/sandbox/default/cancelled/stop-me.json");
    let seen = eventually(Duration::from_secs(20), || async { std::fs::read_to_string(&note).ok() })
        .await
        .expect("the activity saw its cancellation and wrote its note");
    let seen: Value = serde_json::from_str(&seen).expect("note is JSON");
    assert!(seen["done"].as_u64().is_some_and(|d| d >= 2 && d < 10000), "{seen}");
    let state = eventually(Duration::from_secs(20), || async {
        let doc = show_json(&manifest, &run, None);
        (doc.run.state == "cancelled").then_some(doc)
    })
    .await;
    assert!(state.is_some(), "the run ends cancelled");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_attempt_that_stops_heartbeating_fails_as_timed_out_and_is_retried() {
    let dir = TempDir::new();
    let db = format!("sqlite:{}", dir.0.join("heartbeat-timeout.db").display());
    let manifest = write_manifest(&dir.0, "node-a", &[spec("default", &db, "heartbeat_interval_ms = 100")]);
    let _host = serve(&manifest);
    let probe = |tag: &str, step_ms: u64| {
        json!({"probes": [{
            "activity": "resumable",
            "input": {"steps": 3, "step_ms": step_ms, "tag": tag},
            "retry": {"max_attempts": 2, "interval_ms": 50},
            "heartbeat_timeout_ms": 700,
        }]})
    };
    // Heartbeats every 100 ms: well within 700 ms, it completes.
    let fine = cli_ok(&manifest, &["start", "probe-flow", &probe("fine", 100).to_string()]);
    // Heartbeats every 3 s: each attempt is stopped at 700 ms.
    let stuck = cli_ok(&manifest, &["start", "probe-flow", &probe("stuck", 3_000).to_string()]);
    let fine = await_probes(&manifest, &fine);
    assert_eq!(fine[0]["result"]["done"], 3, "{fine:?}");
    let t0 = Instant::now();
    let stuck = await_probes(&manifest, &stuck);
    assert_eq!(stuck[0]["kind"], "TimedOut", "{stuck:?}");
    assert_eq!(stuck[0]["attempts"], 2, "retried, then out of attempts: {stuck:?}");
    let failure = stuck[0]["failure"].as_str().unwrap_or_default();
    assert!(failure.contains("sent no heartbeat for 700ms"), "{failure}");
    assert!(t0.elapsed() < Duration::from_secs(6), "stopped by the heartbeat timeout, not by the attempt's end ({:?})", t0.elapsed());
}

