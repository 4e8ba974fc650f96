//! Hot deploy and versioning: runs replay on the exact module version they
//! recorded; `deploy` makes a new version current on every host without a
//! restart; `replay` and `deploy --check` report the first diverging step;
//! a run whose version is unknown is parked, never failed or replayed on
//! the wrong code, and resumes once its version is deployed again. Each on
//! Postgres and on SQLite.

use std::path::Path;
use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::Value;

fn show(manifest: &Path, run: &str) -> Shown {
    show_json(manifest, run, None)
}

async fn wait_state(manifest: &Path, run: &str, state: &str) -> Shown {
    eventually(Duration::from_secs(30), || async {
        let doc = show(manifest, run);
        (doc.run.state == state).then_some(doc)
    })
    .await
    .unwrap_or_else(|| panic!("run {run} never reached {state}: {:#?}", show(manifest, run)))
}

fn drift_instance(db: &str) -> InstanceSpec {
    InstanceSpec {
        workflows: vec![("drift".into(), component("drift_v1"))],
        activities: vec![component("bench_activities")],
        ..InstanceSpec::examples("default", db)
    }
}

on_both_stores!(async fn new_runs_use_the_deployed_version_while_old_runs_finish_on_theirs(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[drift_instance(&db.url)]);
    let _host = Host::start(&manifest, &[]);
    let old = cli_ok(&manifest, &["start", "drift", "{}"]);
    let waiting = wait_state(&manifest, &old, "suspended").await;
    let v1_hash = waiting.run.module_hash.clone();

    // The replay check names the first diverging step, without deploying.
    let v2 = component("drift_v2");
    let out = cli(&manifest, &["replay", "--workflow", "drift", "--module", v2.to_str().unwrap(), &old]);
    assert_eq!(out.status.code(), Some(3));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("incompatible"), "{report}");
    assert!(report.contains("receive-signal `go`") && report.contains("call-activity `step_three`"), "{report}");
    let v1 = component("drift_v1");
    let report = cli_ok(&manifest, &["replay", "--workflow", "drift", "--module", v1.to_str().unwrap(), &old]);
    assert!(report.contains("compatible"), "{report}");

    // `deploy --check` refuses to migrate the waiting run onto v2.
    let out = cli(&manifest, &["deploy", "drift", v2.to_str().unwrap(), "--check", "--migrate"]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(show(&manifest, &old).run.module_hash, v1_hash.as_str());
    let after_refusal = cli_ok(&manifest, &["start", "drift", "{}"]);
    assert_eq!(show(&manifest, &after_refusal).run.module_hash, v1_hash.as_str(), "a refused deploy leaves v1 current");
    cli_ok(&manifest, &["cancel", &after_refusal]);

    // A plain deploy: new runs start on v2 at once, no restart.
    let deployed = cli_ok(&manifest, &["deploy", "drift", v2.to_str().unwrap()]);
    assert!(deployed.contains("0 run(s) migrated"), "{deployed}");
    let new = cli_ok(&manifest, &["start", "drift", "{}"]);
    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", &new, "--timeout", "30"])).unwrap();
    assert_eq!(out["version"], 2, "{out}");
    assert_ne!(show(&manifest, &new).run.module_hash, v1_hash.as_str());

    // The old run still finishes on v1.
    cli_ok(&manifest, &["signal", &old, "go", "\"now\""]);
    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", &old, "--timeout", "30"])).unwrap();
    assert_eq!(out["version"], 1, "{out}");
    assert_eq!(out["go"], "now", "{out}");
});

on_both_stores!(async fn a_run_whose_version_is_unknown_is_parked_until_it_is_deployed(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[drift_instance(&db.url)]);
    let mut host = Host::start(&manifest, &[]);
    let run = cli_ok(&manifest, &["start", "drift", "{}"]);
    let waiting = wait_state(&manifest, &run, "suspended").await;
    let hash = waiting.run.module_hash.clone();
    host.kill();

    // The version disappears (and the manifest now names v2).
    let mut conn = db.sql().await;
    conn.execute("DELETE FROM modules WHERE hash = $1", &[Arg::Text(&hash)]).await;
    let spec = InstanceSpec { workflows: vec![("drift".into(), component("drift_v2"))], ..drift_instance(&db.url) };
    let manifest = write_manifest(&dir.0, "node-a", &[spec]);
    let host = Host::start(&manifest, &[]);
    cli_ok(&manifest, &["signal", &run, "go", "1"]);
    let parked = eventually(Duration::from_secs(30), || async {
        let doc = show(&manifest, &run);
        (doc.run.error_code() == Some("module_version_unknown")).then_some(doc)
    })
    .await
    .expect("the run was never parked");
    assert_eq!(parked.run.state, "suspended", "never failed: {parked:#?}");
    assert!(host.wait_for_log("run parked: module version unknown", Duration::from_secs(5)), "{}", host.log_text());
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(show(&manifest, &run).run.state, "suspended", "a parked run stays parked");

    // Deploying the version again lets it go on, on its own code.
    let v1 = component("drift_v1");
    cli_ok(&manifest, &["deploy", "drift", v1.to_str().unwrap()]);
    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", &run, "--timeout", "30"])).unwrap();
    assert_eq!(out["version"], 1, "{out}");
    assert_eq!(show(&manifest, &run).run.module_hash, hash.as_str());
});

on_both_stores!(async fn a_patch_marker_lets_old_runs_migrate_and_keep_their_path(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[drift_instance(&db.url)]);
    let _host = Host::start(&manifest, &[]);
    let old = cli_ok(&manifest, &["start", "drift", "{}"]);
    wait_state(&manifest, &old, "suspended").await;

    // v3 makes the change behind `patched("skip-go")`: the check passes and
    // the waiting v1 run moves to v3.
    let v3 = component("drift_v3");
    let deployed = cli_ok(&manifest, &["deploy", "drift", v3.to_str().unwrap(), "--check", "--migrate"]);
    assert!(deployed.contains("compatible") && deployed.contains("1 run(s) migrated"), "{deployed}");

    // New runs take the new path and journal the marker.
    let new = cli_ok(&manifest, &["start", "drift", "{}"]);
    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", &new, "--timeout", "30"])).unwrap();
    assert_eq!((out["version"].as_i64(), out["three"].is_null()), (Some(3), false), "{out}");
    let shown = show(&manifest, &new);
    let kinds = shown.kinds();
    assert!(kinds.contains(&"patch_marker"), "{kinds:?}");

    // The migrated run keeps the old path, now executing v3's code.
    cli_ok(&manifest, &["signal", &old, "go", "\"late\""]);
    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", &old, "--timeout", "30"])).unwrap();
    assert_eq!(out["version"], 3, "{out}");
    assert_eq!(out["patched"], false, "{out}");
    assert_eq!(out["go"], "late", "{out}");
});

on_both_stores!(async fn a_host_restart_keeps_a_deploy_and_a_changed_manifest_file_is_deployed(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[drift_instance(&db.url)]);
    let serve = |manifest: &Path| {
        let host = Host::start(manifest, &[]);
        assert!(host.wait_for_log("instance started", Duration::from_secs(60)), "{}", host.log_text());
        host
    };
    let version_of_a_new_run = |manifest: &Path| {
        let run = cli_ok(manifest, &["start", "drift", "{}"]);
        show(manifest, &run).run.module_hash
    };
    let mut host = serve(&manifest);
    let v1 = version_of_a_new_run(&manifest);
    let v2 = component("drift_v2");
    cli_ok(&manifest, &["deploy", "drift", v2.to_str().unwrap()]);
    let deployed = version_of_a_new_run(&manifest);
    assert_ne!(deployed, v1);

    // The host restarts with its manifest still naming v1's file: the
    // deploy stays current.
    host.kill();
    let mut host = serve(&manifest);
    assert_eq!(version_of_a_new_run(&manifest), deployed, "a restart must not undo a deploy");

    // The operator changes the manifest's file: on restart it is current.
    host.kill();
    let text = std::fs::read_to_string(&manifest).unwrap();
    let v3 = component("drift_v3");
    let text = text.replace(component("drift_v1").to_str().unwrap(), v3.to_str().unwrap());
    std::fs::write(&manifest, text).unwrap();
    let _host = serve(&manifest);
    let now = version_of_a_new_run(&manifest);
    assert!(now != v1 && now != deployed, "the changed manifest file is the current version");
});

on_both_stores!(async fn a_checked_migration_leaves_a_run_an_engine_holds_and_moves_it_once_free(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[drift_instance(&db.url)]);
    let _host = Host::start(&manifest, &[]);
    let run = cli_ok(&manifest, &["start", "drift", "{}"]);
    let v1_hash = wait_state(&manifest, &run, "suspended").await.run.module_hash;

    // An engine elsewhere holds the run, as while it executes a step (it
    // may record more steps on v1 after any check): the lease it would
    // have taken, in the journal.
    let mut conn = db.sql().await;
    let hold = format!(
        "UPDATE runs SET state = 'running', lease_owner = 'node-z/default/1', lease_token = lease_token + 1, \
         lease_expires_at = {} WHERE run_id = $1",
        db.an_hour_from_now()
    );
    conn.execute(&hold, &[Arg::Text(&run)]).await;
    let v3 = component("drift_v3");
    let out = cli(&manifest, &["deploy", "drift", v3.to_str().unwrap(), "--check", "--migrate"]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("run {run}: not migrated")) && stdout.contains("0 run(s) migrated"), "{stdout}");
    assert_eq!(show(&manifest, &run).run.module_hash, v1_hash.as_str(), "a held run is never moved");

    // The engine lets go (its attempt suspended): deploying again moves it.
    let release = "UPDATE runs SET state = 'suspended', lease_owner = NULL, lease_expires_at = NULL WHERE run_id = $1";
    conn.execute(release, &[Arg::Text(&run)]).await;
    let deployed = cli_ok(&manifest, &["deploy", "drift", v3.to_str().unwrap(), "--check", "--migrate", &run]);
    assert!(deployed.contains("1 run(s) migrated"), "{deployed}");
    assert_ne!(show(&manifest, &run).run.module_hash, v1_hash.as_str());
    cli_ok(&manifest, &["signal", &run, "go", "1"]);
    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", &run, "--timeout", "30"])).unwrap();
    assert_eq!((out["version"].as_i64(), out["patched"].as_bool()), (Some(3), Some(false)), "{out}");
});

on_both_stores!(async fn replay_takes_the_workflow_from_the_runs_and_names_a_run_of_another(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let mut spec = drift_instance(&db.url);
    spec.workflows.push(("long-flow".into(), component("long_flow")));
    let manifest = write_manifest(&dir.0, "node-a", &[spec]);
    let _host = Host::start(&manifest, &[]);
    let drift = cli_ok(&manifest, &["start", "drift", "{}"]);
    let long = cli_ok(&manifest, &["start", "long-flow", r#"{"steps": 3}"#]);
    wait_state(&manifest, &drift, "suspended").await;
    wait_state(&manifest, &long, "suspended").await;
    let (v1, v2) = (component("drift_v1"), component("drift_v2"));

    // No --workflow: taken from the run.
    let report = cli_ok(&manifest, &["replay", "--module", v1.to_str().unwrap(), &drift]);
    assert!(report.contains(&format!("run {drift}: compatible")), "{report}");
    let out = cli(&manifest, &["replay", "--module", v2.to_str().unwrap(), &drift]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));

    // A run of another workflow than the module's is named, not replayed.
    let out = cli(&manifest, &["replay", "--workflow", "drift", "--module", v1.to_str().unwrap(), &long]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("run `{long}`")) && stderr.contains("workflow `long-flow`, not `drift`"), "{stderr}");
    let out = cli(&manifest, &["replay", "--module", v1.to_str().unwrap(), &drift, &long]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let out = cli(&manifest, &["deploy", "drift", v1.to_str().unwrap(), "--check", "--migrate", &long]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    // An unknown run is named too; and without runs, the workflow is needed.
    let out = cli(&manifest, &["replay", "--module", v1.to_str().unwrap(), "no-such-run"]);
    assert!(out.status.code() == Some(2) && String::from_utf8_lossy(&out.stderr).contains("no-such-run"));
    let out = cli(&manifest, &["replay", "--module", v1.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
});
