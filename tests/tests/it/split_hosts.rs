//! A host that only runs workflows and a host that only runs activities,
//! on one Postgres database: activity calls become durable tasks, claimed
//! by the activity host (`FOR UPDATE SKIP LOCKED`), and their results wake
//! the workflow on the other host.

use std::time::Duration;

use continuum_tests::*;
use serde_json::{json, Value};

/// The example instance on a host that runs workflows but no activity.
fn workflows_only(db: &str) -> InstanceSpec {
    let base = InstanceSpec::examples("default", db);
    InstanceSpec {
        children: format!("{}activity_supervisor = false\nactivity_dispatcher = false\n", base.children),
        ..base
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn workflows_and_activities_on_separate_hosts() {
    let db = PgDb::create().await;
    let dir = TempDir::new();
    let workflows_only = workflows_only(&db.url);
    let activities_only = InstanceSpec {
        children: "run_supervisor = false\ndispatcher = false\nrecovery = false\nheartbeater = false\nactivity_dispatcher = { poll_interval_ms = 200 }\n".into(),
        ..InstanceSpec::examples("default", &db.url)
    };
    let wf_manifest = write_manifest(&dir.0, "wf-host", &[workflows_only]);
    let act_manifest = write_manifest(&dir.0, "act-host", &[activities_only]);
    let wf_host = Host::start(&wf_manifest, &[]);
    let act_host = Host::start(&act_manifest, &[]);

    let input = json!({"order_id": "split", "sku": "S", "quantity": 1, "amount_cents": 100, "card": "4242"}).to_string();
    let run = cli_ok(&wf_manifest, &["start", "order-flow", &input]);
    cli_ok(&wf_manifest, &["signal", &run, "fraud_review", "\"approved\""]);
    let out = cli(&wf_manifest, &["await", &run, "--timeout", "60"]);
    assert!(
        out.status.success(),
        "await failed: {}\nworkflow host:\n{}\nactivity host:\n{}",
        String::from_utf8_lossy(&out.stdout),
        wf_host.log_text(),
        act_host.log_text()
    );
    let out: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
    assert_eq!(out["status"], "shipped", "{out}");
    // The activities ran on the activity host, as claimed tasks.
    assert!(act_host.log_text().contains("activity task claimed"), "{}", act_host.log_text());
    assert!(!wf_host.log_text().contains("activity started"), "{}", wf_host.log_text());
    let _ = Duration::ZERO;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_whose_worker_died_is_retried_elsewhere_after_its_claim_expires() {
    // A guest keeps a core busy here: one such scenario at a time.
    let _turn = cpu_heavy().await;
    let db = PgDb::create().await;
    let dir = TempDir::new();
    let workflows_only = workflows_only(&db.url);
    let activities_only = |node: &str| {
        let spec = InstanceSpec {
            children: "run_supervisor = false\ndispatcher = false\nrecovery = false\n\
                       heartbeater = { interval_ms = 300, lease_ttl_ms = 1500 }\nactivity_dispatcher = { poll_interval_ms = 200 }\n"
                .into(),
            ..InstanceSpec::examples("default", &db.url)
        };
        write_manifest(&dir.0, node, &[spec])
    };
    let wf_manifest = write_manifest(&dir.0, "wf-host", &[workflows_only]);
    let _wf_host = Host::start(&wf_manifest, &[]);
    let mut worker_a = Host::start(&activities_only("worker-a"), &[]);

    let input = json!({"order_id": "w", "sku": "S", "quantity": 1, "amount_cents": 100, "card": "4242", "spin": 3_000_000_000u64}).to_string();
    let run = cli_ok(&wf_manifest, &["start", "order-flow", &input]);
    cli_ok(&wf_manifest, &["signal", &run, "fraud_review", "\"approved\""]);
    assert!(
        worker_a.wait_for_log("activity=\"charge_card\"", Duration::from_secs(60)),
        "worker A never claimed charge_card: {}",
        worker_a.log_text()
    );
    worker_a.kill();
    let worker_b = Host::start(&activities_only("worker-b"), &[]);
    let out = cli(&wf_manifest, &["await", &run, "--timeout", "90"]);
    assert!(out.status.success(), "{}\nworker B: {}", String::from_utf8_lossy(&out.stderr), worker_b.log_text());
    assert!(worker_b.log_text().contains("activity=\"charge_card\""), "{}", worker_b.log_text());
    let doc = show_json(&wf_manifest, &run, None);
    let charges = doc.events.iter().filter(|e| e.kind() == "activity_completed" && e.body["op"] == 1).count();
    assert_eq!(charges, 1, "{doc:#?}");
}
