//! A workflow component importing an interface the host does not provide
//! (the `refused_foreign_import` fixture imports `acme:fixture/lookup`),
//! through the real binary on both stores: the CLI's verbs and `deploy`
//! refuse it with one line naming the workflow and the interface, and
//! `serve` logs that refusal as an error and goes on serving the other
//! workflows (an order-flow run completes on that host).

use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::Value;

use super::bad_modules::assert_one_line_refusal;

const INTERFACE: &str = "acme:fixture/lookup";

on_both_stores!(async fn an_unprovided_import_is_refused_and_the_host_serves_the_rest(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let fixture = component("refused_foreign_import");
    let good = InstanceSpec::examples("default", &db.url);
    let good_manifest = write_manifest(&dir.0, "node-good", &[good.clone()]);
    let mut bad = good;
    bad.workflows.push(("foreign".into(), fixture.clone()));
    let bad_manifest = write_manifest(&dir.0, "node-bad", &[bad]);

    for verb in [&["runs"][..], &["start", "foreign", "{}"][..]] {
        let out = cli(&bad_manifest, verb);
        assert_one_line_refusal(&out, &format!("{verb:?}"), &["workflow `foreign`", INTERFACE]);
    }
    let out = cli(&good_manifest, &["deploy", "foreign", fixture.to_str().unwrap()]);
    assert_one_line_refusal(&out, "deploy", &["workflow `foreign`", INTERFACE]);

    let host = Host::start(&bad_manifest, &[]);
    assert!(host.wait_for_log("continuum: serving", Duration::from_secs(60)), "serve stopped: {}", host.log_text());
    let log = host.log_text();
    let refusal = log.lines().find(|l| l.contains("ERROR") && l.contains("workflow `foreign`") && l.contains(INTERFACE));
    assert!(refusal.is_some(), "serve did not log the refusal naming the workflow and the interface:\n{log}");

    // The host serves the manifest's other workflows.
    let order = r#"{"order_id": "o-1", "sku": "BOOK-42", "quantity": 1, "amount_cents": 100, "card": "4242-4242-4242-4242", "review_timeout_ms": 200}"#;
    let run = cli_ok(&good_manifest, &["start", "order-flow", order]);
    let out: Value = serde_json::from_str(&cli_ok(&good_manifest, &["await", &run, "--timeout", "60"])).unwrap();
    assert_eq!(out["order_id"], "o-1", "{out}\n{}", host.log_text());
});
