//! Crashes: a host killed with SIGKILL while a run waits on a signal, while
//! an activity is in flight, and with a timer pending; a new host process on
//! the same database finishes the runs, and every journal entry is present
//! exactly once. On Postgres and on SQLite (one host process at a time: the
//! second starts after the first is killed).

use std::path::Path;
use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::{json, Value};

fn journal(manifest: &Path, run: &str) -> (ShownRun, Vec<ShownEvent>) {
    let doc = show_json(manifest, run, None);
    (doc.run, doc.events)
}

async fn state_of(manifest: &Path, run: &str) -> String {
    journal(manifest, run).0.state
}

on_both_stores!(async fn killed_while_waiting_on_a_signal_and_while_an_activity_runs(store: Store) {
    // A guest keeps a core busy here: one such scenario at a time.
    let _turn = cpu_heavy().await;
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("default", &db.url)]);
    let mut first = Host::start(&manifest, &[]);

    // Run A reaches the fraud review wait.
    let a = cli_ok(&manifest, &["start", "order-flow", &json!({"order_id": "a", "sku": "S", "quantity": 1, "amount_cents": 100, "card": "4242"}).to_string()]);
    let waiting = eventually(Duration::from_secs(30), || async {
        let (_, events) = journal(&manifest, &a);
        events.iter().any(|e| e.kind() == "signal_requested").then_some(())
    })
    .await;
    assert!(waiting.is_some(), "run A never reached the signal wait");

    // Run B is caught with `charge_card` in flight (it spins first).
    let b = cli_ok(&manifest, &["start", "order-flow", &json!({"order_id": "b", "sku": "S", "quantity": 1, "amount_cents": 100, "card": "4242", "spin": 6_000_000_000u64}).to_string()]);
    let in_flight = eventually(Duration::from_secs(60), || async {
        let started = first.log_text().lines().any(|l| l.contains("activity started") && l.contains("charge_card"));
        let (record, events) = journal(&manifest, &b);
        (started && record.state == "running" && charge_pending(&events).is_some()).then_some(())
    })
    .await;
    assert!(in_flight.is_some(), "charge_card never got in flight on the first host:\n{}", first.log_text());
    first.kill();
    // At the kill, the journal holds charge_card scheduled and no outcome.
    let (_, at_kill) = journal(&manifest, &b);
    let op = charge_pending(&at_kill).unwrap_or_else(|| panic!("charge_card was not in flight when the host died: {at_kill:#?}"));
    assert!(!at_kill.iter().any(|e| e.kind() == "signal_requested"), "run B got past charge_card: {at_kill:#?}");

    let _second = Host::start(&manifest, &[]);
    cli_ok(&manifest, &["signal", &a, "fraud_review", "\"approved\""]);
    cli_ok(&manifest, &["signal", &b, "fraud_review", "\"approved\""]);
    for run in [&a, &b] {
        let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", run, "--timeout", "60"])).unwrap();
        assert_eq!(out["status"], "shipped", "{out}");
        let (record, events) = journal(&manifest, run);
        assert_eq!(record.state, "completed");
        assert_exactly_once(&events);
    }
    // The new host finished the charge the first one was killed in.
    let (_, events) = journal(&manifest, &b);
    let outcomes = events
        .iter()
        .filter(|e| e.op() == Some(op) && e.kind() == "activity_completed")
        .count();
    assert_eq!(outcomes, 1, "charge_card (op {op}) has {outcomes} outcomes: {events:#?}");
});

/// The op of a `charge_card` that is scheduled and has no outcome yet.
fn charge_pending(events: &[ShownEvent]) -> Option<i64> {
    let op = events.iter().find(|e| e.kind() == "activity_scheduled" && e.body["name"] == "charge_card")?.op()?;
    let done = events.iter().any(|e| e.op() == Some(op) && matches!(e.kind(), "activity_completed" | "activity_failed"));
    (!done).then_some(op)
}

on_both_stores!(async fn a_timer_set_before_a_restart_fires_after_it(store: Store) {
    let db = store.create().await;
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
    assert!(events.iter().any(|e| e.kind() == "timer_fired"), "{events:#?}");
    assert_exactly_once(&events);
});

on_both_stores!(async fn clock_and_randomness_replay_to_the_same_values_after_a_kill(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let mut spec = InstanceSpec::examples("default", &db.url);
    spec.workflows.push(("clock-flow".into(), component("clock_flow")));
    let manifest = write_manifest(&dir.0, "node-a", &[spec]);
    let mut first = Host::start(&manifest, &[]);
    // It draws now/random/uuid, then sleeps 3 s: kill the host meanwhile.
    let run = cli_ok(&manifest, &["start", "clock-flow", r#"{"sleep_ms": 3000}"#]);
    let drawn = eventually(Duration::from_secs(30), || async {
        let (record, events) = journal(&manifest, &run);
        (record.state == "suspended" && events.iter().any(|e| e.kind() == "timer_started")).then_some(events)
    })
    .await
    .expect("clock-flow never parked on its sleep");
    first.kill();
    let (record, at_kill) = journal(&manifest, &run);
    assert_eq!(record.state, "suspended", "the run finished before the kill: {record:#?}");
    assert!(!at_kill.iter().any(|e| e.kind() == "timer_fired"), "{at_kill:#?}");
    let value = |kind: &str, field: &str| -> Value {
        drawn.iter().find(|e| e.kind() == kind).unwrap_or_else(|| panic!("no {kind}: {drawn:#?}")).body[field].clone()
    };
    let (now_ms, random, uuid) = (value("clock_read", "value_ms"), value("random_drawn", "value"), value("uuid_drawn", "value"));

    // A new process replays the journal into a fresh guest: the values the
    // guest returns are the journaled ones, not new draws.
    let _second = Host::start(&manifest, &[]);
    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", &run, "--timeout", "60"])).unwrap();
    assert_eq!(out["now_ms"], now_ms, "{out}");
    assert_eq!(out["random_str"].as_str().map(str::to_string), random.as_u64().map(|r| r.to_string()), "{out} vs {random}");
    assert_eq!(out["uuid"], uuid, "{out}");
    assert!(out["after_sleep_ms"].as_u64() >= now_ms.as_u64().map(|t| t + 3000), "{out}");
    let (_, events) = journal(&manifest, &run);
    assert_exactly_once(&events);
    assert_eq!(events[..at_kill.len()], at_kill[..], "the journal was rewritten by the replay");
    for kind in ["clock_read", "random_drawn", "uuid_drawn"] {
        let n = events.iter().filter(|e| e.kind() == kind).count();
        let want = if kind == "clock_read" { 2 } else { 1 };
        assert_eq!(n, want, "{kind} recorded {n} times: {events:#?}");
    }
});
