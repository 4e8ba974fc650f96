//! C workflows (clang + wasi-libc, adapted to WASI 0.2) on the
//! deterministic WASI, through the real `continuum` binary, on Postgres and
//! on SQLite: `clock_gettime(CLOCK_REALTIME)` is the journaled clock `now`
//! reads, `arc4random`/`getentropy` come from a journaled per-run seed (two
//! runs differ, a replay repeats), `printf` to stdout and stderr reaches
//! the host's log once (muted on replay), `getenv` finds nothing and
//! `fopen` fails, `exit(3)` fails the run with its code, a host killed
//! mid-run leaves the run to be finished by replay with the same values,
//! and the C order flow behaves as the Rust one, output for output and
//! error for error. The C conformance workflow also runs its cases on the
//! C conformance activities (an activity component written in C).

use std::path::Path;
use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::{json, Value};

/// The default instance plus the C workflows.
fn spec(db: &str) -> InstanceSpec {
    let mut spec = InstanceSpec::examples("default", db);
    spec.workflows.push(("c-probe".into(), component("c_wasi_probe")));
    spec.workflows.push(("c-order-flow".into(), component("c_order_flow")));
    spec
}

fn journal(manifest: &Path, run: &str) -> (ShownRun, Vec<ShownEvent>) {
    let doc = show_json(manifest, run, None);
    (doc.run, doc.events)
}

fn await_output(manifest: &Path, run: &str) -> Value {
    serde_json::from_str(&cli_ok(manifest, &["await", run, "--timeout", "60"])).unwrap()
}

/// The `value_ms` of every journaled clock read.
fn clock_reads(events: &[ShownEvent]) -> Vec<u64> {
    of_kind(events, "clock_read").iter().filter_map(|e| e.body["value_ms"].as_u64()).collect()
}

/// The lines of a host log that carry `needle`.
fn lines_with(log: &str, needle: &str) -> Vec<String> {
    log.lines().filter(|l| l.contains(needle)).map(str::to_string).collect()
}

/// How a run ended, as `await` prints it: its exit status and its output
/// or error.
fn outcome(manifest: &Path, run: &str) -> (Option<i32>, Value) {
    let out = cli(manifest, &["await", run, "--timeout", "60"]);
    let value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap_or(Value::Null);
    (out.status.code(), value)
}

on_both_stores!(async fn a_c_workflow_runs_on_the_deterministic_wasi_and_exit_fails_it_with_its_code(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db.url)]);
    let host = Host::start(&manifest, &[]);

    // Three runs at once: the probe, a second probe, and one that exits.
    let first = cli_ok(&manifest, &["start", "c-probe", r#"{"tag": "p1", "sleep_ms": 300}"#]);
    let second = cli_ok(&manifest, &["start", "c-probe", r#"{"tag": "p2", "sleep_ms": 10}"#]);
    let exiting = cli_ok(&manifest, &["start", "c-probe", r#"{"tag": "x1", "sleep_ms": 10, "exit": 3}"#]);

    let out = await_output(&manifest, &first);
    let (record, events) = journal(&manifest, &first);
    assert_eq!(record.state, "completed", "{record:#?}");

    // clock_gettime(CLOCK_REALTIME) is a journaled clock read, and agrees
    // with `now`; CLOCK_MONOTONIC moves with the durable sleep.
    let reads = clock_reads(&events);
    let (before, after) = (out["time_before"].as_u64().unwrap(), out["time_after"].as_u64().unwrap());
    assert!(reads.contains(&before), "clock_gettime {before} is not a journaled clock read {reads:?}: {out}");
    assert!(reads.contains(&after), "clock_gettime {after} is not a journaled clock read {reads:?}: {out}");
    let now = out["now_before"].as_u64().expect("now_before");
    assert!(reads.contains(&now), "{now} vs {reads:?}");
    assert!(now >= before && now - before < 5_000, "now {now} and clock_gettime {before} disagree");
    assert!(after >= before + 300, "the durable sleep of 300 ms is not in the clock: {before} -> {after}");
    let (mono_before, mono_after) = (out["monotonic_before"].as_u64().unwrap(), out["monotonic_after"].as_u64().unwrap());
    assert!(mono_after >= mono_before + 300_000_000, "monotonic {mono_before} -> {mono_after}");

    // Nothing of the host leaks in; files fail with an error the guest sees.
    assert_eq!((&out["path"], &out["environ"]), (&Value::Null, &json!(0)), "{out}");
    let file_error = out["file_error"].as_str().unwrap_or("none");
    assert!(file_error != "none" && !file_error.is_empty(), "{out}");
    assert!(out["reservation_id"].as_str().is_some_and(|r| r.starts_with("res_")), "{out}");

    // Randomness comes from a per-run seed: the second run draws other values.
    let other = await_output(&manifest, &second);
    for field in ["random", "entropy", "uuid"] {
        assert_ne!(out[field], other[field], "{field} is the same in two runs: {out} {other}");
    }
    assert_eq!(of_kind(&events, "random_drawn").len(), 1, "one journaled seed per run: {events:#?}");

    // printf and stderr reach the host log with the run's id, once each.
    let log = host.log_text();
    for needle in ["probe p1 before", "probe p1 to stderr", "probe p1 after"] {
        let lines = lines_with(&log, needle);
        assert_eq!(lines.len(), 1, "{needle:?} logged {} times:\n{log}", lines.len());
        assert!(lines[0].contains(&first), "{needle:?} without the run id: {}", lines[0]);
    }
    assert_exactly_once(&events);

    // exit(3) fails the run with code 3.
    let (code, error) = outcome(&manifest, &exiting);
    assert_eq!(code, Some(3), "{error}");
    let (record, events) = journal(&manifest, &exiting);
    assert_eq!(record.state, "failed", "{record:#?}");
    let error = record.error.clone().unwrap_or_default();
    assert_eq!(error["code"], "exited", "{error}");
    assert_eq!(error["exit_code"], 3, "{error}");
    assert_eq!(events.last().map(ShownEvent::kind), Some("run_failed"), "{events:#?}");
});

on_both_stores!(async fn a_killed_host_replays_a_c_run_to_the_same_values(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db.url)]);
    let mut first = Host::start(&manifest, &[]);

    // It draws and prints its values, then sleeps 3 s: kill the host then.
    let run = cli_ok(&manifest, &["start", "c-probe", r#"{"tag": "k1", "sleep_ms": 3000}"#]);
    let parked = eventually(Duration::from_secs(60), || async {
        let (record, events) = journal(&manifest, &run);
        (record.state == "suspended" && events.iter().any(|e| e.kind() == "timer_started")).then_some(())
    })
    .await;
    assert!(parked.is_some(), "the C run never parked on its sleep:\n{}", first.log_text());
    first.kill();
    let (record, at_kill) = journal(&manifest, &run);
    assert_eq!(record.state, "suspended", "the run finished before the kill: {record:#?}");
    let first_log = first.log_text();
    let printed = lines_with(&first_log, "probe k1 before");
    assert_eq!(printed.len(), 1, "{first_log}");
    let printed = &printed[0];

    let second = Host::start(&manifest, &[]);
    let out = await_output(&manifest, &run);
    // The replayed guest got the journaled clock and seed: the values it
    // returns are the ones it printed before the kill.
    for (field, name) in [("time_before", "time"), ("random", "random"), ("entropy", "entropy"), ("uuid", "uuid")] {
        let value = match &out[field] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        assert!(printed.contains(&format!("{name}={value} ")) || printed.ends_with(&format!("{name}={value}")),
            "{field}: replayed {value}, printed before the kill: {printed}");
    }
    let (record, events) = journal(&manifest, &run);
    assert_eq!(record.state, "completed", "{record:#?}");
    assert_exactly_once(&events);
    assert_eq!(events[..at_kill.len()], at_kill[..], "the journal was rewritten by the replay");
    assert_eq!(of_kind(&events, "random_drawn").len(), 1, "{events:#?}");
    assert!(clock_reads(&events).contains(&out["time_before"].as_u64().unwrap_or(0)), "{out}");

    // Printed once: the replay re-executed the printf before the sleep muted.
    let second_log = second.log_text();
    assert!(lines_with(&second_log, "probe k1 before").is_empty(), "printed again on replay:\n{second_log}");
    assert!(lines_with(&second_log, "probe k1 to stderr").is_empty(), "printed again on replay:\n{second_log}");
    assert_eq!(lines_with(&second_log, "probe k1 after").len(), 1, "{second_log}");
    assert!(lines_with(&first_log, "probe k1 after").is_empty(), "{first_log}");
});

/// A conformance case: its input, the signal to send (name, payload), and
/// the outcome it must end with.
type ConformanceCase = (Value, Option<(&'static str, &'static str)>, Value);

fn order(id: &str, extra: Value) -> Value {
    let mut v = json!({"order_id": id, "sku": "BOOK-42", "quantity": 2, "amount_cents": 4200, "card": "4242-4242-4242-4242"});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v
}

on_both_stores!(async fn the_c_order_flow_behaves_as_the_rust_one(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db.url)]);
    let _host = Host::start(&manifest, &[]);

    // (order, signal) pairs: approved (two spellings), rejected, bad
    // payloads, the timeout, a declined card, and bad inputs (serde's
    // messages, which the C SDK words the same way).
    let cases: Vec<(Value, Option<&str>)> = vec![
        (order("o-1", json!({})), Some("\"approved\"")),
        (order("o-2", json!({})), Some(r#"{"decision": "rejected"}"#)),
        (order("o-3", json!({})), Some("42")),
        (order("o-4", json!({"review_timeout_ms": 300})), None),
        (order("o-5", json!({"card": "4000-0000-0000-0002"})), None),
        (order("o-7", json!({"spin": 10})), Some(r#"{"decision": "approved", "by": "ann"}"#)),
        (order("o-8", json!({})), Some(r#"{"verdict": "ok", "decision": 7, "a": [1.5, null]}"#)),
        (order("o-9", json!({"quantity": 0})), None),
        (json!({"order_id": "o-6"}), None),
        (json!({"order_id": "o-10", "sku": "S", "quantity": -1, "amount_cents": 1, "card": "c"}), None),
        (json!({"order_id": "o-11", "sku": "S", "quantity": 2.5, "amount_cents": 1, "card": "c"}), None),
        (json!({"order_id": 11, "sku": "S", "quantity": 2, "amount_cents": 1, "card": "c"}), None),
        (json!("an order"), None),
    ];
    // Every run of both languages at once, then their ends compared.
    let mut runs = Vec::new();
    for (input, signal) in &cases {
        for workflow in ["order-flow", "c-order-flow"] {
            let run = cli_ok(&manifest, &["start", workflow, &input.to_string()]);
            if let Some(payload) = signal {
                cli_ok(&manifest, &["signal", &run, "fraud_review", payload]);
            }
            runs.push(run);
        }
    }
    for (i, (input, signal)) in cases.iter().enumerate() {
        let mut ends = Vec::new();
        for run in &runs[2 * i..2 * i + 2] {
            let (code, value) = outcome(&manifest, run);
            let events = journal(&manifest, run).1;
            let activities: Vec<Value> = events
                .iter()
                .filter(|e| e.kind() == "activity_scheduled")
                .map(|e| json!([e.body["name"], e.body["input"], e.body["options"]]))
                .collect();
            let kinds: Vec<&str> = events.iter().map(ShownEvent::kind).collect();
            ends.push((code, value, activities, kinds.contains(&"run_completed")));
        }
        let (rust, c) = (&ends[0], &ends[1]);
        assert_eq!(rust, c, "for {input} and signal {signal:?}: Rust ended {rust:?}, C {c:?}");
    }
});

// The C conformance workflow on the C conformance activities: every case
// of docs/conformance.md that needs no kill or redeploy, with its exact
// output (the harness of tests/tests/it/conformance.rs runs them all on
// the Rust activities).
on_both_stores!(async fn the_c_conformance_workflow_runs_on_c_activities(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let mut spec = InstanceSpec::examples("default", &db.url);
    spec.workflows.push(("c-conformance".into(), component("c_conformance")));
    spec.activities.push(component("c_conformance_activities"));
    let manifest = write_manifest(&dir.0, "node-a", &[spec]);
    let _host = Host::start(&manifest, &[]);

    let cases: Vec<ConformanceCase> = vec![
        (
            json!({"case": "activity_retry"}),
            None,
            json!({"flaky": {"attempt": 3}, "failure": {"kind": "activity_failed", "code": "declined", "attempts": 1}}),
        ),
        (json!({"case": "timer", "ms": 200}), None, json!({"slept_at_least": true})),
        (json!({"case": "signal_timeout", "timeout_ms": 200}), None, json!({"timed_out": true})),
        (json!({"case": "signal_timeout", "timeout_ms": 60000}), Some(("go", r#"{"k": [1, "x"]}"#)), json!({"signal": {"k": [1, "x"]}})),
        (json!({"case": "signal_race", "timer_ms": 200}), None, json!({"winner": "timer"})),
        (json!({"case": "signal_race", "timer_ms": 60000}), Some(("race", "\"hi\"")), json!({"winner": "signal", "payload": "hi"})),
        (json!({"case": "fan_out", "n": 10}), None, json!({"doubles": [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]})),
        (json!({"case": "patch"}), None, json!({"patched": true})),
        (json!({"case": "no_such_case"}), None, json!({"code": "unknown_case", "message": "unknown case `no_such_case`"})),
    ];
    let mut runs = Vec::new();
    for (input, signal, _) in &cases {
        let run = cli_ok(&manifest, &["start", "c-conformance", &input.to_string()]);
        if let Some((name, payload)) = signal {
            cli_ok(&manifest, &["signal", &run, name, payload]);
        }
        runs.push(run);
    }
    for ((input, _, expected), run) in cases.iter().zip(&runs) {
        let (_, value) = outcome(&manifest, run);
        assert_eq!(&value, expected, "case {input}");
        let (_, events) = journal(&manifest, run);
        assert_exactly_once(&events);
        match input["case"].as_str() {
            Some("activity_retry") => {
                let attempts: Vec<u64> = of_kind(&events, "activity_completed").iter().chain(of_kind(&events, "activity_failed").iter())
                    .filter_map(|e| e.body["attempts"].as_u64().or_else(|| e.body["failure"]["attempts"].as_u64()))
                    .collect();
                assert_eq!(attempts, vec![3, 1], "conf_flaky took 3 attempts, conf_decline 1: {events:#?}");
            }
            Some("fan_out") => {
                let kinds: Vec<&str> = events.iter().map(ShownEvent::kind).collect();
                let last_scheduled = kinds.iter().rposition(|k| *k == "activity_scheduled");
                let first_completed = kinds.iter().position(|k| *k == "activity_completed");
                assert!(last_scheduled < first_completed, "every call is scheduled before one completes: {kinds:?}");
            }
            _ => {}
        }
    }
});
