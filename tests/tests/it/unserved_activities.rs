//! A call to an activity no host of the instance serves, through the real
//! binary on both stores: `show` names the call and says no host serves
//! it, the host logs a warning, and a call with a schedule-to-start
//! timeout fails with `unknown_activity` once it passes, while a served
//! call with the same timeout completes. The host that serves the activity
//! later picks up a call that was waiting for it.

use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::{json, Value};

/// The probe workflow and the worker-probe activities; `activity_dispatcher`
/// as `children` says.
fn spec(database: &str, children: &str) -> InstanceSpec {
    InstanceSpec {
        name: "default".into(),
        database: database.into(),
        workflows: vec![("probe-flow".into(), component("probe_flow"))],
        activities: vec![component("worker_probe")],
        children: children.into(),
    }
}

const CHILDREN: &str = "heartbeater = { interval_ms = 300, lease_ttl_ms = 1500 }\ndispatcher = { poll_interval_ms = 200 }\nrecovery = { interval_ms = 300 }\n";

fn start(manifest: &std::path::Path, probes: Value) -> String {
    cli_ok(manifest, &["start", "probe-flow", &json!({ "probes": probes }).to_string()])
}

on_both_stores!(async fn a_call_no_host_serves_is_named_warned_about_and_timed_out(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db.url, CHILDREN)]);
    let host = Host::start(&manifest, &[]);

    // Waits for an activity nobody serves, with no timeout.
    let waiting = start(&manifest, json!([{"activity": "nobody_serves_this", "input": {}}]));
    // The same with a schedule-to-start timeout of 1.5 s: fails.
    let timed = start(&manifest, json!([{"activity": "nobody_serves_this_either", "input": {}, "schedule_to_start_ms": 1500}]));
    // A served activity on a queue no host serves, with a timeout: fails too.
    let off_queue = start(&manifest, json!([{"activity": "resumable", "queue": "nobody-here",
        "input": {"tag": "q", "steps": 1, "step_ms": 1}, "schedule_to_start_ms": 1500}]));
    // A served call with the same timeout completes.
    let served = start(&manifest, json!([{"activity": "resumable", "input": {"tag": "s", "steps": 1, "step_ms": 1},
        "schedule_to_start_ms": 1500}]));

    for (run, activity, queue) in [(&timed, "nobody_serves_this_either", "default"), (&off_queue, "resumable", "nobody-here")] {
        let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", run, "--timeout", "60"])).unwrap();
        assert_eq!(out[0]["kind"], "UnknownActivity", "{out}\n{}", host.log_text());
        let message = out[0]["failure"].as_str().unwrap_or_default();
        assert!(message.contains(&format!("serves activity `{activity}` on queue `{queue}`")), "{message}");
        assert!(message.contains("schedule-to-start"), "{message}");
    }
    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", &served, "--timeout", "60"])).unwrap();
    assert!(out[0].get("result").is_some(), "the served call did not complete: {out}");

    // The waiting run: `show` names the call and that no host serves it.
    let doc = show_json(&manifest, &waiting, None);
    assert_eq!(doc.run.state, "suspended", "{:#?}", doc.run);
    let open = &doc.open_activities;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["activity"], "nobody_serves_this");
    assert_eq!(open[0]["served"], false, "{open:?}");
    let text = cli_ok(&manifest, &["show", &waiting]);
    assert!(
        text.contains("no host of instance `default` serves activity `nobody_serves_this` on queue `default`"),
        "show does not say why the run waits:\n{text}"
    );
    // And the host warns about it (after a lease TTL of waiting), once.
    let warned = host.wait_for_log("no host of instance `default` serves activity `nobody_serves_this` on queue `default`", Duration::from_secs(30));
    assert!(warned, "no warning logged:\n{}", host.log_text());
    assert!(host.log_text().lines().any(|l| l.contains("WARN") && l.contains("nobody_serves_this") && l.contains(&waiting)),
        "the warning does not carry the run:\n{}", host.log_text());
    assert!(cli(&manifest, &["await", &waiting, "--timeout", "1"]).status.code() != Some(0), "the waiting run finished");
});

on_both_stores!(async fn a_call_waiting_for_its_activity_runs_once_a_host_serves_it(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    // Runs only: no activity worker, so the call waits.
    let runs_only = format!("{CHILDREN}activity_dispatcher = false\n");
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db.url, &runs_only)]);
    let _runs = Host::start(&manifest, &[]);
    let run = start(&manifest, json!([{"activity": "resumable", "input": {"tag": "late", "steps": 1, "step_ms": 1}}]));
    let unserved = eventually(Duration::from_secs(30), || async {
        let doc = show_json(&manifest, &run, None);
        doc.open_activities.first().filter(|a| a["served"] == false).cloned()
    })
    .await;
    assert!(unserved.is_some(), "the call never showed as unserved: {:#?}", show_json(&manifest, &run, None).open_activities);

    // A worker comes: `show` sees it served, and the call completes.
    let worker_children = "run_supervisor = false\ndispatcher = false\nrecovery = false\n\
                           heartbeater = { interval_ms = 300, lease_ttl_ms = 1500 }\nactivity_dispatcher = { poll_interval_ms = 200 }\n";
    let worker_manifest = write_manifest(&dir.0, "node-w", &[spec(&db.url, worker_children)]);
    let _worker = Host::start(&worker_manifest, &[]);
    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", &run, "--timeout", "60"])).unwrap();
    assert!(out[0].get("result").is_some(), "{out}");
    assert!(show_json(&manifest, &run, None).open_activities.is_empty());
});
