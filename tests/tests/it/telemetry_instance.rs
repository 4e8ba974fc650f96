//! Every telemetry event of the runtime carries the instance name, and
//! every event of a run its `run_id` and `workflow`: a real `continuum
//! serve` logging JSON at debug level goes through an approved order, a
//! timer, a cancellation of a busy run and one of a parked run, on two
//! instances; every `continuum*` event must name its instance, and every
//! event naming a run its workflow, in its own fields or in one of its
//! spans; the run lifecycle's events must name both.

use std::time::Duration;

use continuum_tests::*;
use serde_json::{json, Value};

fn order(id: &str, extra: Value) -> String {
    let mut v = json!({"order_id": id, "sku": "BOOK-42", "quantity": 1, "amount_cents": 4200, "card": "4242-4242-4242-4242"});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v.to_string()
}

/// The value an event gives `field`: in its own fields, else in its
/// innermost span that has it.
fn field_of(event: &Value, field: &str) -> Option<String> {
    let s = |v: &Value| v.as_str().map(str::to_string);
    if let Some(i) = event["fields"].get(field).and_then(s) {
        return Some(i);
    }
    if let Some(i) = event.get("span").and_then(|sp| sp.get(field)).and_then(s) {
        return Some(i);
    }
    event["spans"].as_array()?.iter().rev().find_map(|sp| sp.get(field).and_then(s))
}

/// Events of a run this scenario must log, each with its run and workflow.
const RUN_EVENTS: [&str; 11] = [
    "lease acquired; run claimed",
    "run started",
    "run suspended",
    "lease released",
    "run resumed (replaying)",
    "signal received",
    "activity started",
    "activity completed",
    "run completed",
    "cancellation routed to the run",
    "run cancelled",
];

#[tokio::test(flavor = "multi_thread")]
async fn every_event_names_its_instance() {
    // A guest keeps a core busy here: one such scenario at a time.
    let _turn = cpu_heavy().await;
    let db = PgDb::create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(
        &dir.0,
        "node-t",
        &[InstanceSpec::examples("default", &db.url), InstanceSpec::examples("billing", &db.url)],
    );
    let host = Host::start_with_env(&manifest, &[], &[("CONTINUUM_LOG_FORMAT", "json"), ("RUST_LOG", "debug")]);

    // Approved, in `default`.
    let approved = cli_ok(&manifest, &["start", "order-flow", &order("a", json!({}))]);
    cli_ok(&manifest, &["signal", &approved, "fraud_review", "\"approved\""]);
    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", &approved, "--timeout", "60"])).unwrap();
    assert_eq!(out["status"], "shipped", "{out}");
    // A timer, in `billing`.
    let timed = cli_ok(&manifest, &["start", "order-flow", &order("t", json!({"review_timeout_ms": 300})), "--instance", "billing"]);
    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", &timed, "--timeout", "60", "--instance", "billing"])).unwrap();
    assert_eq!(out["reason"], "fraud_review_timeout", "{out}");
    // A busy run cancelled through its engine, and a parked one.
    let busy = cli_ok(&manifest, &["start", "order-flow", &order("b", json!({"spin": 200_000_000_000u64}))]);
    let spinning = eventually(Duration::from_secs(60), || async {
        host.log_text().lines().any(|l| l.contains("activity started") && l.contains("charge_card")).then_some(())
    })
    .await;
    assert!(spinning.is_some(), "charge_card never started:\n{}", host.log_text());
    cli_ok(&manifest, &["cancel", &busy]);
    let parked = cli_ok(&manifest, &["start", "order-flow", &order("p", json!({})), "--instance", "billing"]);
    let waiting = eventually(Duration::from_secs(60), || async {
        (show_json(&manifest, &parked, Some("billing")).run.state == "suspended").then_some(())
    })
    .await;
    assert!(waiting.is_some(), "the billing run never parked");
    cli_ok(&manifest, &["cancel", &parked, "--instance", "billing"]);
    assert_eq!(show_json(&manifest, &busy, None).run.state, "cancelled");
    assert_eq!(show_json(&manifest, &parked, Some("billing")).run.state, "cancelled");
    // Let the host log what follows the cancellations (lease release, ...).
    let settled = eventually(Duration::from_secs(10), || async {
        host.log_text().contains("cancellation routed to the run").then_some(())
    })
    .await;
    assert!(settled.is_some(), "the busy run's cancellation was not delivered by the router:\n{}", host.log_text());
    let log_path = host.log.clone();
    drop(host);
    let log = std::fs::read_to_string(&log_path).expect("read the host log");
    let mut ours = 0;
    let mut missing = Vec::new();
    let mut no_workflow = Vec::new();
    let mut run_events = std::collections::BTreeMap::<&str, usize>::new();
    let mut seen = std::collections::BTreeSet::new();
    for line in log.lines().filter(|l| l.starts_with('{')) {
        let event: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        let target = event["target"].as_str().unwrap_or("");
        if !target.starts_with("continuum") {
            continue;
        }
        ours += 1;
        let (run_id, workflow) = (field_of(&event, "run_id"), field_of(&event, "workflow"));
        if run_id.is_some() && workflow.as_deref() != Some("order-flow") {
            no_workflow.push(line.to_string());
        }
        let message = event["fields"]["message"].as_str().unwrap_or("");
        if let Some(known) = RUN_EVENTS.iter().find(|m| **m == message) {
            if run_id.is_some() && workflow.is_some() {
                *run_events.entry(known).or_default() += 1;
            } else {
                missing.push(format!("(no run_id or workflow) {line}"));
            }
        }
        match field_of(&event, "instance") {
            Some(i) => {
                assert!(i == "default" || i == "billing", "event names an unknown instance `{i}`: {line}");
                seen.insert(i);
            }
            None => missing.push(line.to_string()),
        }
    }
    assert!(ours > 50, "only {ours} continuum events were logged as JSON:\n{log}");
    assert!(missing.is_empty(), "{} of {ours} events lack the instance, or their run:\n{}", missing.len(), missing.join("\n"));
    assert!(no_workflow.is_empty(), "{} events name a run but not its workflow:\n{}", no_workflow.len(), no_workflow.join("\n"));
    for message in RUN_EVENTS {
        assert!(run_events.contains_key(message), "no `{message}` event was logged; seen: {run_events:?}");
    }
    assert_eq!(seen.len(), 2, "events of both instances expected, saw {seen:?}");
}
