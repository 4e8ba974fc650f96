//! A cancellation a workflow can handle (issue 14), on the real binary on
//! Postgres and on SQLite: `cancel` is delivered to the workflow as a
//! `cancelled` failure from the wait it is in, order-flow's saga refunds
//! the payment and releases the stock, and the run ends cancelled; a host
//! killed with SIGKILL while the compensations run leaves them to the next
//! host, each done once; a workflow that ignores its cancellation ends
//! terminated after `cancel_cleanup_ms`; `terminate` stops a run at once
//! with no clean-up.

use std::path::Path;
use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::json;

fn order(id: &str) -> String {
    json!({"order_id": id, "sku": "BOOK-42", "quantity": 1, "amount_cents": 4200, "card": "4242-4242-4242-4242"}).to_string()
}

fn spec(db: &StoreDb, cleanup_ms: u64) -> InstanceSpec {
    let mut spec = InstanceSpec::examples("default", &db.url);
    spec.workflows.push(("hostile-flow".into(), component("hostile_flow")));
    spec.children.push_str(&format!("run_supervisor = {{ cancel_cleanup_ms = {cleanup_ms} }}\n"));
    spec
}

/// Waits until the run suspended waiting for its fraud review.
async fn waiting_for_review(manifest: &Path, run: &str) {
    eventually(Duration::from_secs(60), || async {
        let doc = show_json(manifest, run, None);
        (doc.run.state == "suspended" && doc.kinds().contains(&"signal_requested")).then_some(())
    })
    .await
    .unwrap_or_else(|| panic!("run {run} never waited for its review: {:#?}", show_json(manifest, run, None)));
}

/// The activities the journal scheduled, in order.
fn scheduled(doc: &Shown) -> Vec<String> {
    doc.events
        .iter()
        .filter(|e| e.kind() == "activity_scheduled")
        .map(|e| e.body["name"].as_str().unwrap_or("").to_string())
        .collect()
}

async fn finished(manifest: &Path, run: &str) -> Shown {
    eventually(Duration::from_secs(60), || async {
        let doc = show_json(manifest, run, None);
        matches!(doc.run.state.as_str(), "completed" | "failed" | "cancelled").then_some(doc)
    })
    .await
    .unwrap_or_else(|| panic!("run {run} did not end: {:#?}", show_json(manifest, run, None)))
}

on_both_stores!(async fn a_cancelled_order_refunds_and_releases_before_it_ends(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db, 60_000)]);
    let _host = Host::start(&manifest, &[]);
    let run = cli_ok(&manifest, &["start", "order-flow", &order("o-c1")]);
    waiting_for_review(&manifest, &run).await;
    let said = cli_ok(&manifest, &["cancel", &run]);
    assert!(said.contains(&format!("run {run} cancelled")), "{said}");

    let doc = show_json(&manifest, &run, None);
    assert_eq!((doc.run.state.as_str(), doc.run.error_code()), ("cancelled", Some("cancelled")), "{:#?}", doc.run);
    let kinds = doc.kinds();
    let delivered = kinds.iter().position(|k| *k == "cancel_delivered").expect("the cancellation was delivered");
    // The review's signal receipt and timer were completed as cancelled.
    assert_eq!(kinds[delivered + 1..].iter().take_while(|k| **k == "operation_cancelled").count(), 2, "{kinds:?}");
    // The compensations ran after it, newest first, then the run ended.
    assert_eq!(scheduled(&doc), ["reserve_stock", "charge_card", "refund_payment", "release_stock"], "{kinds:?}");
    assert!(kinds.iter().rposition(|k| *k == "activity_scheduled").is_some_and(|i| i > delivered));
    assert_eq!(kinds.iter().filter(|k| **k == "activity_completed").count(), 4, "{kinds:?}");
    assert_eq!(kinds.last().copied(), Some("run_cancelled"));
    assert_exactly_once(&doc.events);

    // Cancelling again, or signalling, finds the run final.
    let again = cli_ok(&manifest, &["cancel", &run]);
    assert!(again.contains("had already finished: cancelled"), "{again}");
});

on_both_stores!(async fn a_host_killed_during_the_compensations_leaves_them_to_the_next(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db, 60_000)]);
    let mut host = Host::start(&manifest, &[]);
    let run = cli_ok(&manifest, &["start", "order-flow", &order("o-c2")]);
    waiting_for_review(&manifest, &run).await;
    // The request stands in the journal; the host dies as it delivers it.
    let cancel = cli_command(&manifest).args(["cancel", &run]).spawn().expect("run continuum cancel");
    let delivered = eventually(Duration::from_secs(30), || async {
        show_json(&manifest, &run, None).kinds().contains(&"cancel_delivered").then_some(())
    })
    .await;
    host.kill();
    let _ = cancel.wait_with_output();
    assert!(delivered.is_some(), "the cancellation was never delivered");
    let _next = Host::start(&manifest, &[]);
    let doc = finished(&manifest, &run).await;
    assert_eq!((doc.run.state.as_str(), doc.run.error_code()), ("cancelled", Some("cancelled")), "{:#?}", doc.run);
    assert_eq!(scheduled(&doc), ["reserve_stock", "charge_card", "refund_payment", "release_stock"], "{:?}", doc.kinds());
    assert_eq!(doc.kinds().iter().filter(|k| **k == "cancel_delivered").count(), 1);
    assert_exactly_once(&doc.events);
});

on_both_stores!(async fn a_workflow_that_ignores_its_cancellation_is_terminated_after_its_budget(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db, 1500)]);
    let _host = Host::start(&manifest, &[]);
    let run = cli_ok(&manifest, &["start", "hostile-flow", &json!({"mode": "stubborn"}).to_string()]);
    eventually(Duration::from_secs(60), || async {
        (show_json(&manifest, &run, None).kinds().contains(&"timer_fired")).then_some(())
    })
    .await
    .expect("the stubborn run never slept");
    let said = cli_ok(&manifest, &["cancel", &run]);
    assert!(said.contains("cancelled") || said.contains("cancellation requested"), "{said}");
    let doc = finished(&manifest, &run).await;
    assert_eq!((doc.run.state.as_str(), doc.run.error_code()), ("cancelled", Some("terminated")), "{:#?}", doc.run);
    assert!(doc.run.error_message().contains("cancel_cleanup_ms"), "{:#?}", doc.run);
    // It went on sleeping after the delivery, until the budget ran out.
    let kinds = doc.kinds();
    let delivered = kinds.iter().position(|k| *k == "cancel_delivered").expect("delivered");
    assert!(kinds[delivered..].iter().filter(|k| **k == "timer_started").count() >= 3, "{kinds:?}");
});

on_both_stores!(async fn terminate_stops_a_run_with_no_clean_up(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db, 60_000)]);
    let _host = Host::start(&manifest, &[]);
    let run = cli_ok(&manifest, &["start", "order-flow", &order("o-t1")]);
    waiting_for_review(&manifest, &run).await;
    let said = cli_ok(&manifest, &["terminate", &run]);
    assert!(said.contains(&format!("run {run} terminated")), "{said}");
    let doc = show_json(&manifest, &run, None);
    assert_eq!((doc.run.state.as_str(), doc.run.error_code()), ("cancelled", Some("terminated")), "{:#?}", doc.run);
    assert_eq!(scheduled(&doc), ["reserve_stock", "charge_card"], "no compensation ran: {:?}", doc.kinds());
    assert!(!doc.kinds().contains(&"cancel_delivered"));
});

on_both_stores!(async fn a_cancel_asked_for_before_the_run_first_executes_is_delivered(store: Store) {
    // The cancellation is on the run's row before any host executes it:
    // the workflow's first call (scheduling an activity) has no operation
    // open to complete as cancelled, so the delivery waits for its first
    // wait. (It was once recorded at that first call and then never
    // delivered: the order went on to wait for its review.)
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db, 60_000)]);
    let run = cli_ok(&manifest, &["start", "order-flow", &order("o-early")]);
    let said = cli(&manifest, &["cancel", &run]);
    assert!(said.status.success(), "{said:?}");
    let _host = Host::start(&manifest, &[]);
    let doc = finished(&manifest, &run).await;
    assert_eq!((doc.run.state.as_str(), doc.run.error_code()), ("cancelled", Some("cancelled")), "{:?}", doc.kinds());
    let kinds = doc.kinds();
    let delivered = kinds.iter().position(|k| *k == "cancel_delivered").expect("the cancellation was delivered");
    assert_eq!(kinds.get(delivered + 1).copied(), Some("operation_cancelled"), "{kinds:?}");
    assert!(!kinds.contains(&"signal_requested"), "the order never waits for its review: {kinds:?}");
    assert_eq!(kinds.last().copied(), Some("run_cancelled"));
    assert_exactly_once(&doc.events);
});
