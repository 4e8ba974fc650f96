//! order-flow end to end through the real `continuum` binary, on Postgres
//! and on SQLite: the approved, rejected and timeout paths, and `show`.

use std::time::Duration;

use continuum_tests::*;
use continuum_tests::on_both_stores;
use serde_json::{json, Value};

fn order(id: &str, extra: Value) -> String {
    let mut v = json!({"order_id": id, "sku": "BOOK-42", "quantity": 2, "amount_cents": 4200, "card": "4242-4242-4242-4242"});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v.to_string()
}

on_both_stores!(async fn approved_rejected_and_timeout_paths(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("default", &db.url)]);
    let _host = Host::start(&manifest, &[]);

    let approved = cli_ok(&manifest, &["start", "order-flow", &order("o-1", json!({}))]);
    cli_ok(&manifest, &["signal", &approved, "fraud_review", "\"approved\""]);
    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", &approved, "--timeout", "30"])).unwrap();
    assert_eq!(out["status"], "shipped", "{out}");
    assert_eq!(out["order_id"], "o-1");
    assert!(out["tracking"].is_string(), "{out}");

    let rejected = cli_ok(&manifest, &["start", "order-flow", &order("o-2", json!({}))]);
    cli_ok(&manifest, &["signal", &rejected, "fraud_review", "\"rejected\""]);
    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", &rejected, "--timeout", "30"])).unwrap();
    assert_eq!(out["status"], "refunded", "{out}");
    assert_eq!(out["reason"], "fraud_review_rejected", "{out}");

    let timeout = cli_ok(&manifest, &["start", "order-flow", &order("o-3", json!({"review_timeout_ms": 1000}))]);
    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", &timeout, "--timeout", "30"])).unwrap();
    assert_eq!(out["status"], "refunded", "{out}");
    assert_eq!(out["reason"], "fraud_review_timeout", "{out}");

    let shown = cli_ok(&manifest, &["show", &approved]);
    assert!(shown.contains("state     completed"), "{shown}");
    assert!(shown.contains("signal_received"), "{shown}");
    assert!(shown.contains("reserve_stock"), "{shown}");
    let _ = Duration::ZERO;
});

on_both_stores!(async fn verbs_work_without_a_host_and_a_signal_sent_early_is_kept(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("default", &db.url)]);
    // No host yet: start and signal go to the database; the signal arrives
    // before the workflow asks for it.
    let run = cli_ok(&manifest, &["start", "order-flow", &order("o-4", json!({}))]);
    cli_ok(&manifest, &["signal", &run, "fraud_review", "\"approved\""]);
    let shown = cli_ok(&manifest, &["show", &run]);
    assert!(shown.contains("state     pending"), "{shown}");
    let _host = Host::start(&manifest, &[]);
    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", &run, "--timeout", "30"])).unwrap();
    assert_eq!(out["status"], "shipped", "{out}");
});
