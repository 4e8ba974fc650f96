//! `billing-flow` on the real host: durable timers (a sleep per cycle, a
//! payment deadline raced against the `invoice_paid` signal, a reminder
//! when the deadline wins), and signals sent before the workflow waits for
//! them, kept and delivered in the order they were sent.

use std::path::Path;
use std::time::Duration;

use continuum_tests::*;
use serde_json::{json, Value};

fn events(manifest: &Path, run: &str) -> Vec<ShownEvent> {
    show_json(manifest, run, None).events
}

fn of_type<'a>(events: &'a [ShownEvent], kind: &str) -> Vec<&'a ShownEvent> {
    of_kind(events, kind)
}

async fn wait_for(manifest: &Path, run: &str, what: &str, pred: impl Fn(&[ShownEvent]) -> bool) -> Vec<ShownEvent> {
    eventually(Duration::from_secs(60), || async {
        let ev = events(manifest, run);
        pred(&ev).then_some(ev)
    })
    .await
    .unwrap_or_else(|| panic!("run {run} never {what}: {:#?}", events(manifest, run)))
}

#[tokio::test(flavor = "multi_thread")]
async fn billing_flow_runs_its_timers_and_reminds_a_late_payer() {
    let db = PgDb::create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("default", &db.url)]);
    let _host = Host::start(&manifest, &[]);
    let input = json!({"customer": "acme", "amount_cents": 500, "cycles": 2, "interval_ms": 2000});
    let run = cli_ok(&manifest, &["start", "billing-flow", &input.to_string()]);

    // Cycle 1: after its sleep, the invoice is out and the flow waits for
    // the payment or its deadline; pay at once (on time).
    wait_for(&manifest, &run, "waited for the first payment", |ev| of_type(ev, "signal_requested").len() == 1).await;
    cli_ok(&manifest, &["signal", &run, "invoice_paid", r#"{"cycle": 1}"#]);
    // Cycle 2: let the deadline pass; the reminder goes out, then pay.
    let ev = wait_for(&manifest, &run, "sent a reminder", |ev| {
        ev.iter().any(|e| e.kind() == "activity_scheduled" && e.body["name"] == "send_reminder")
    })
    .await;
    assert_eq!(of_type(&ev, "signal_received").len(), 1, "{ev:#?}");
    cli_ok(&manifest, &["signal", &run, "invoice_paid", r#"{"cycle": 2}"#]);

    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", &run, "--timeout", "60"])).unwrap();
    assert_eq!(out["customer"], "acme", "{out}");
    assert_eq!(out["total_cents"], 1000, "{out}");
    let cycles = out["cycles"].as_array().expect("cycles");
    assert_eq!(cycles.len(), 2, "{out}");
    assert_eq!((cycles[0]["invoice_id"].as_str(), cycles[0]["reminded"].as_bool()), (Some("inv-acme-0001"), Some(false)), "{out}");
    assert_eq!((cycles[1]["invoice_id"].as_str(), cycles[1]["reminded"].as_bool()), (Some("inv-acme-0002"), Some(true)), "{out}");
    assert!(cycles[1]["paid_at_ms"].as_u64() > cycles[0]["paid_at_ms"].as_u64(), "{out}");

    let ev = events(&manifest, &run);
    assert_exactly_once(&ev);
    // Two sleeps and cycle 2's deadline fired (cycle 1's deadline may have
    // fired too, unheeded, while cycle 2 slept).
    let started: Vec<i64> = of_type(&ev, "timer_started").iter().filter_map(|e| e.op()).collect();
    let fired: Vec<i64> = of_type(&ev, "timer_fired").iter().filter_map(|e| e.op()).collect();
    assert_eq!(started.len(), 4, "two sleeps and two deadlines: {ev:#?}");
    assert!(fired.len() >= 3 && fired.iter().all(|op| started.contains(op)), "{ev:#?}");
    let payloads: Vec<&Value> = of_type(&ev, "signal_received").iter().map(|e| &e.body["payload"]).collect();
    assert_eq!(payloads, [&json!({"cycle": 1}), &json!({"cycle": 2})]);
}

#[tokio::test(flavor = "multi_thread")]
async fn signals_sent_before_the_workflow_waits_are_delivered_in_order() {
    let db = PgDb::create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("default", &db.url)]);
    let _host = Host::start(&manifest, &[]);
    // Three cycles; the first sleep (3 s) leaves time to send every payment
    // before the flow asks for one.
    let input = json!({"customer": "early", "amount_cents": 100, "cycles": 3, "interval_ms": 3000});
    let run = cli_ok(&manifest, &["start", "billing-flow", &input.to_string()]);
    for n in 1..=3 {
        cli_ok(&manifest, &["signal", &run, "invoice_paid", &json!({"n": n}).to_string()]);
    }
    let sent = events(&manifest, &run);
    assert!(of_type(&sent, "signal_requested").is_empty(), "the flow waited before all signals were sent; raise interval_ms: {sent:#?}");

    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", &run, "--timeout", "60"])).unwrap();
    let cycles = out["cycles"].as_array().expect("cycles");
    assert_eq!(cycles.len(), 3, "{out}");
    assert!(cycles.iter().all(|c| c["reminded"] == false), "a kept signal was not there when the flow asked: {out}");
    let ev = events(&manifest, &run);
    assert_exactly_once(&ev);
    let received = of_type(&ev, "signal_received");
    let payloads: Vec<&Value> = received.iter().map(|e| &e.body["payload"]).collect();
    assert_eq!(payloads, [&json!({"n": 1}), &json!({"n": 2}), &json!({"n": 3})], "delivered out of order: {ev:#?}");
    let ids: Vec<i64> = received.iter().filter_map(|e| e.body["signal_id"].as_i64()).collect();
    assert!(ids.len() == 3 && ids.windows(2).all(|w| w[0] < w[1]), "inbox rows not consumed in order: {ids:?}");
    // Each receipt belongs to its own cycle's wait, in order.
    let requested: Vec<i64> = of_type(&ev, "signal_requested").iter().filter_map(|e| e.op()).collect();
    let ops: Vec<i64> = received.iter().filter_map(|e| e.op()).collect();
    assert_eq!(ops, requested, "{ev:#?}");
}
