//! Crashes: a host killed with SIGKILL while a run waits on a signal, while
//! an activity is in flight, and with a timer pending; a new host process on
//! the same database finishes the runs, and every journal entry is present
//! exactly once.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use continuum_tests::*;
use serde_json::{json, Value};

fn journal(manifest: &Path, run: &str) -> (Value, Vec<Value>) {
    let doc: Value = serde_json::from_str(&cli_ok(manifest, &["show", run, "--json"])).unwrap();
    let events = doc["events"].as_array().cloned().unwrap_or_default();
    (doc["run"].clone(), events)
}

/// Every seq from 1 without gaps, each command and completion once per op.
fn assert_exactly_once(events: &[Value]) {
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["seq"].as_i64(), Some(i as i64 + 1), "journal has a gap or a repeat: {events:#?}");
    }
    let mut seen: HashMap<(String, i64), usize> = HashMap::new();
    for e in events {
        let body = &e["body"];
        if let Some(op) = body["op"].as_i64() {
            *seen.entry((body["type"].as_str().unwrap_or("").to_string(), op)).or_default() += 1;
        }
    }
    for ((kind, op), n) in seen {
        assert_eq!(n, 1, "{kind} for op {op} recorded {n} times: {events:#?}");
    }
    let starts = events.iter().filter(|e| e["body"]["type"] == "run_started").count();
    assert_eq!(starts, 1, "run_started recorded {starts} times");
}

async fn state_of(manifest: &Path, run: &str) -> String {
    journal(manifest, run).0["state"].as_str().unwrap_or("").to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_while_waiting_on_a_signal_and_while_an_activity_runs() {
    let db = PgDb::create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("default", &db.url)]);
    let mut first = Host::start(&manifest, &[]);

    // Run A reaches the fraud review wait.
    let a = cli_ok(&manifest, &["start", "order-flow", &json!({"order_id": "a", "sku": "S", "quantity": 1, "amount_cents": 100, "card": "4242"}).to_string()]);
    let waiting = eventually(Duration::from_secs(30), || async {
        let (_, events) = journal(&manifest, &a);
        events.iter().any(|e| e["body"]["type"] == "signal_requested").then_some(())
    })
    .await;
    assert!(waiting.is_some(), "run A never reached the signal wait");

    // Run B is caught with `charge_card` in flight (it spins first).
    let b = cli_ok(&manifest, &["start", "order-flow", &json!({"order_id": "b", "sku": "S", "quantity": 1, "amount_cents": 100, "card": "4242", "spin": 3_000_000_000u64}).to_string()]);
    let in_flight = first.wait_for_log("activity started activity=\"charge_card\"", Duration::from_secs(30))
        || first.wait_for_log("charge_card", Duration::from_secs(1));
    assert!(in_flight, "charge_card never started:\n{}", first.log_text());
    first.kill();

    let _second = Host::start(&manifest, &[]);
    cli_ok(&manifest, &["signal", &a, "fraud_review", "\"approved\""]);
    cli_ok(&manifest, &["signal", &b, "fraud_review", "\"approved\""]);
    for run in [&a, &b] {
        let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", run, "--timeout", "60"])).unwrap();
        assert_eq!(out["status"], "shipped", "{out}");
        let (record, events) = journal(&manifest, run);
        assert_eq!(record["state"], "completed");
        assert_exactly_once(&events);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timer_set_before_a_restart_fires_after_it() {
    let db = PgDb::create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("default", &db.url)]);
    let mut first = Host::start(&manifest, &[]);
    let run = cli_ok(&manifest, &["start", "order-flow", &json!({"order_id": "t", "sku": "S", "quantity": 1, "amount_cents": 100, "card": "4242", "review_timeout_ms": 4000}).to_string()]);
    let suspended = eventually(Duration::from_secs(30), || async {
        (state_of(&manifest, &run).await == "suspended").then_some(())
    })
    .await;
    assert!(suspended.is_some(), "the run never suspended on its timer");
    first.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _second = Host::start(&manifest, &[]);
    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", &run, "--timeout", "60"])).unwrap();
    assert_eq!(out["reason"], "fraud_review_timeout", "{out}");
    let (_, events) = journal(&manifest, &run);
    assert!(events.iter().any(|e| e["body"]["type"] == "timer_fired"), "{events:#?}");
    assert_exactly_once(&events);
}
