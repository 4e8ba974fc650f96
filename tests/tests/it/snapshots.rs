//! The snapshotter: past the manifest's threshold a suspended run's journal
//! prefix is compacted into one row; a new host resumes the run from the
//! snapshot (its replay checked against every recorded command) and ends
//! exactly as a run without a snapshot does. On Postgres and on SQLite.

use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::Value;

fn long_instance(db: &str, snapshotter: &str) -> InstanceSpec {
    let mut spec = InstanceSpec {
        workflows: vec![("long-flow".into(), component("long_flow"))],
        activities: vec![],
        ..InstanceSpec::examples("default", db)
    };
    spec.children.push_str(&format!("snapshotter = {snapshotter}\n"));
    spec
}

on_both_stores!(async fn a_run_resumed_from_its_snapshot_ends_as_without_one(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[long_instance(&db.url, "{ threshold_events = 100 }")]);
    let mut host = Host::start(&manifest, &[]);
    let run = cli_ok(&manifest, &["start", "long-flow", r#"{"steps": 500}"#]);
    assert!(host.wait_for_log("snapshot written", Duration::from_secs(60)), "no snapshot: {}", host.log_text());
    let mut conn = db.sql().await;
    let upto = conn.int("SELECT upto_seq FROM snapshots WHERE run_id = $1", &[Arg::Text(&run)]).await;
    let total = conn.int("SELECT count(*) FROM events WHERE run_id = $1", &[Arg::Text(&run)]).await;
    assert!(upto >= 500 && upto == total, "snapshot covers {upto} of {total} entries");

    // What the guest must compute on resuming: the sum of the clock values
    // the journal recorded.
    let bodies = conn.texts("SELECT body FROM events WHERE run_id = $1 AND kind = 'clock_read' ORDER BY seq", &[Arg::Text(&run)]).await;
    assert_eq!(bodies.len(), 500);
    let sum = bodies.iter().fold(0u64, |acc, b| {
        let v: Value = serde_json::from_str(b).unwrap();
        acc.wrapping_add(v["value_ms"].as_u64().unwrap())
    });

    // A crash; then the entries the snapshot covers are deleted, so from
    // here on the run can only be loaded through its snapshot.
    host.kill();
    let deleted = conn.execute("DELETE FROM events WHERE run_id = $1 AND seq <= $2", &[Arg::Text(&run), Arg::Int(upto)]).await;
    assert_eq!(deleted as i64, upto);

    // The replay check reads the snapshot and verifies every command.
    let module = component("long_flow");
    let report = cli_ok(&manifest, &["replay", "--workflow", "long-flow", "--module", module.to_str().unwrap(), &run]);
    assert!(report.contains(&format!("compatible ({upto} journal entries replayed)")), "{report}");

    // A new host resumes the run from the snapshot and ends as without one.
    let _host = Host::start(&manifest, &[]);
    cli_ok(&manifest, &["signal", &run, "finish", "\"done\""]);
    let with: Value = serde_json::from_str(&cli_ok(&manifest, &["await", &run, "--timeout", "60"])).unwrap();
    assert_eq!(with["steps"], 500, "{with}");
    assert_eq!(with["finish"], "done", "{with}");
    assert_eq!(with["sum"], sum.to_string(), "the snapshot replayed the very same clock values: {with}");
});

on_both_stores!(async fn the_snapshotter_is_off_by_default(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let spec = InstanceSpec {
        workflows: vec![("long-flow".into(), component("long_flow"))],
        activities: vec![],
        ..InstanceSpec::examples("default", &db.url)
    };
    let manifest = write_manifest(&dir.0, "node-a", &[spec]);
    let _host = Host::start(&manifest, &[]);
    let run = cli_ok(&manifest, &["start", "long-flow", r#"{"steps": 300}"#]);
    let mut conn = db.sql().await;
    let suspended = eventually(Duration::from_secs(30), || async {
        let doc = show_json(&manifest, &run, None);
        (doc.run.state == "suspended").then_some(())
    })
    .await;
    assert!(suspended.is_some());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let n = conn.int("SELECT count(*) FROM snapshots", &[]).await;
    assert_eq!(n, 0);
});
