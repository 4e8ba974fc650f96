//! A deploy reaches hosts that are already running, without a restart:
//! the runs a host starts itself (through the embedding API) start on the
//! new version once the deploy notification arrives (Postgres), or once the
//! recovery tick re-reads the current versions (the backstop for a missed
//! notification; SQLite has no notification across processes).

use std::path::Path;
use std::time::Duration;

use continuum_host::Manifest;
use continuum_host::{CallOptions, Continuum, DeployOptions, Mode, StartOptions};
use continuum_tests::*;
use serde_json::json;

fn drift_instance(db: &str, recovery_ms: u64) -> InstanceSpec {
    InstanceSpec {
        workflows: vec![("drift".into(), component("drift_v1"))],
        activities: vec![component("bench_activities")],
        children: format!(
            "heartbeater = {{ interval_ms = 300, lease_ttl_ms = 1500 }}\ndispatcher = {{ poll_interval_ms = 200 }}\n\
             recovery = {{ interval_ms = {recovery_ms} }}\n"
        ),
        ..InstanceSpec::examples("default", db)
    }
}

/// A host in this process (`continuum serve` through the embedding API).
async fn serve(manifest: &Path) -> Continuum {
    let manifest = Manifest::load(manifest).expect("manifest");
    let host = Continuum::from_manifest(&manifest, Mode::Serve, &[]).await.expect("host");
    host.start_all();
    host
}

fn current(host: &Continuum) -> Option<String> {
    host.instance(None).expect("default").current_version("drift")
}

/// Waits until `host` sees `hash` as current (it never restarts).
async fn sees(host: &Continuum, hash: &str, within: Duration) -> bool {
    eventually(within, || async { (current(host).as_deref() == Some(hash)).then_some(()) }).await.is_some()
}

/// Starts a run through the host's own path, checks it recorded `hash`, and
/// returns the version its output names.
async fn version_of_a_new_run(host: &Continuum, hash: &str) -> i64 {
    let id = host.start("drift", json!({}), StartOptions::default()).await.expect("start");
    let continuum_host::RunHistory { run,  .. } = host.history(&id, CallOptions::default()).await.expect("show");
    assert_eq!(run.module_hash, hash, "the host's new run records the current version");
    // v1 waits for `go`; v2 does not (and may be done already).
    let _ = host.signal(&id, "go", json!("now"), CallOptions::default()).await;
    let out = host.await_run(&id, Duration::from_secs(30), CallOptions::default()).await.expect("await");
    let output = out.output.unwrap_or_else(|| panic!("run {id} ended {}: {:?}", out.state, out.error));
    output["version"].as_i64().expect("a version")
}

#[tokio::test(flavor = "multi_thread")]
async fn two_running_hosts_start_their_own_runs_on_a_version_deployed_through_the_api() {
    let db = PgDb::create().await;
    let dir = TempDir::new();
    // Recovery ticks once an hour: only the deploy notification can tell
    // the hosts within the test.
    let a = write_manifest(&dir.0, "node-a", &[drift_instance(&db.url, 3_600_000)]);
    let b = write_manifest(&dir.0, "node-b", &[drift_instance(&db.url, 3_600_000)]);
    let (host_a, host_b) = (serve(&a).await, serve(&b).await);
    let v1 = current(&host_a).expect("v1 is current");
    assert_eq!(version_of_a_new_run(&host_a, &v1).await, 1);

    // A deploy through the embedding API of another process's client.
    let deployer = Continuum::from_manifest(&Manifest::load(&a).unwrap(), Mode::Client, &[]).await.expect("client");
    let report = deployer.deploy("drift", &component("drift_v2"), DeployOptions::default()).await.expect("deploy");
    assert_ne!(report.hash, v1);
    for host in [&host_a, &host_b] {
        assert!(sees(host, &report.hash, Duration::from_secs(10)).await, "a running host never saw the deploy");
        assert_eq!(version_of_a_new_run(host, &report.hash).await, 2);
    }
    host_a.stop_all().await;
    host_b.stop_all().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_host_that_missed_the_notification_picks_the_deploy_up_at_its_recovery_tick() {
    let dir = TempDir::new();
    let url = format!("sqlite:{}", dir.0.join("journal.db").display());
    let manifest = write_manifest(&dir.0, "node-a", &[drift_instance(&url, 300)]);
    let host = serve(&manifest).await;
    let v1 = current(&host).expect("v1 is current");

    // The CLI is another process: on SQLite no notification reaches the host.
    let v2 = component("drift_v2");
    let deployed = cli_ok(&manifest, &["deploy", "drift", v2.to_str().unwrap()]);
    let hash = deployed.split_whitespace().nth(3).expect("deployed drift version HASH").to_string();
    assert_ne!(hash, v1);
    assert!(sees(&host, &hash, Duration::from_secs(10)).await, "the recovery tick never refreshed the versions");
    // The only host executes it, on v2, without a restart.
    assert_eq!(version_of_a_new_run(&host, &hash).await, 2);
    host.stop_all().await;
}
