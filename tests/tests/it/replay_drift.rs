//! Replay drift: the module changes under a running workflow (v1 waits for a
//! signal; v2 calls another activity there) — a forced migration with
//! `deploy --migrate` and no `--check`. When the run resumes it is stopped in
//! the `drifted` state with the mismatch named, and its journal is left as
//! recorded.

use std::time::Duration;

use continuum_tests::*;

#[tokio::test(flavor = "multi_thread")]
async fn drift_is_detected_and_reported() {
    let db = PgDb::create().await;
    let dir = TempDir::new();
    // The workflow file the manifest names; replaced under the run later.
    let module = component("drift_v1");
    let spec = InstanceSpec {
        workflows: vec![("drift".into(), module.clone())],
        activities: vec![component("bench_activities")],
        ..InstanceSpec::examples("default", &db.url)
    };
    let manifest = write_manifest(&dir.0, "node-a", &[spec]);
    let mut host = Host::start(&manifest, &[]);
    let run = cli_ok(&manifest, &["start", "drift", "{}"]);
    let waiting = eventually(Duration::from_secs(30), || async {
        let doc = show_json(&manifest, &run, None);
        (doc.run.state == "suspended").then_some(doc)
    })
    .await
    .expect("v1 never suspended on its signal");
    let recorded = waiting.events.len();
    host.kill();
    let _host = Host::start(&manifest, &[]);
    let v2 = component("drift_v2");
    let deployed = cli_ok(&manifest, &["deploy", "drift", v2.to_str().unwrap(), "--migrate"]);
    assert!(deployed.contains("1 run(s) migrated"), "{deployed}");
    cli_ok(&manifest, &["signal", &run, "go", "null"]);
    let out = cli(&manifest, &["await", &run, "--timeout", "60"]);
    assert_eq!(out.status.code(), Some(3), "await should report a run that did not complete");
    let doc = show_json(&manifest, &run, None);
    assert_eq!(doc.run.state, "drifted", "{doc:#?}");
    let error = doc.run.error.clone().unwrap_or_default();
    assert_eq!(error["code"], "replay_drift", "{error}");
    let message = error["message"].as_str().unwrap_or("");
    assert!(message.contains("receive-signal `go`"), "{message}");
    assert!(message.contains("call-activity `step_three`"), "{message}");
    assert_eq!(doc.events.len(), recorded, "the journal must stay as recorded");
    let shown = cli_ok(&manifest, &["show", &run]);
    assert!(shown.contains("state     drifted"), "{shown}");
}
