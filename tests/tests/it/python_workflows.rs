//! Python workflows (componentize-py) on the deterministic WASI, through the
//! real `continuum` binary, on Postgres and on SQLite: `time.time()` is the
//! journaled clock `now` reads, `random`/`uuid4`/`os.urandom` come from a
//! journaled per-run seed (two runs differ, a replay repeats), `print()`
//! goes to the host's log once (muted on replay), the environment is empty
//! and files and sockets fail with an error the guest can catch, `exit`
//! fails the run with its code, a host killed mid-run leaves the run to be
//! finished by replay with the same values, and the Python order flow
//! behaves as the Rust one.

use std::path::Path;
use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::{json, Value};

/// The default instance plus the Python workflows.
fn spec(db: &str) -> InstanceSpec {
    let mut spec = InstanceSpec::examples("default", db);
    spec.workflows.push(("py-probe".into(), component("python_wasi_probe")));
    spec.workflows.push(("py-order-flow".into(), component("python_order_flow")));
    spec
}

fn journal(manifest: &Path, run: &str) -> (ShownRun, Vec<ShownEvent>) {
    let doc = show_json(manifest, run, None);
    (doc.run, doc.events)
}

fn await_output(manifest: &Path, run: &str) -> Value {
    serde_json::from_str(&cli_ok(manifest, &["await", run, "--timeout", "120"])).unwrap()
}

/// The `value_ms` of every journaled clock read.
fn clock_reads(events: &[ShownEvent]) -> Vec<u64> {
    of_kind(events, "clock_read").iter().filter_map(|e| e.body["value_ms"].as_u64()).collect()
}

/// `time.time()` as the journaled milliseconds it was made of.
fn ms_of(seconds: &Value) -> u64 {
    (seconds.as_f64().unwrap_or(-1.0) * 1000.0).round() as u64
}

/// The lines of a host log that carry `needle`.
fn lines_with(log: &str, needle: &str) -> Vec<String> {
    log.lines().filter(|l| l.contains(needle)).map(str::to_string).collect()
}

on_both_stores!(async fn a_python_workflow_runs_on_the_deterministic_wasi(store: Store) {
    let _turn = cpu_heavy().await;
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db.url)]);
    let host = Host::start(&manifest, &[]);

    let first = cli_ok(&manifest, &["start", "py-probe", r#"{"tag": "p1", "sleep_ms": 300}"#]);
    let out = await_output(&manifest, &first);
    let (record, events) = journal(&manifest, &first);
    assert_eq!(record.state, "completed", "{record:#?}");

    // time.time() is a journaled clock read, and agrees with `now`.
    let reads = clock_reads(&events);
    let (before, after) = (ms_of(&out["time_before"]), ms_of(&out["time_after"]));
    assert!(reads.contains(&before), "time.time() {before} is not a journaled clock read {reads:?}: {out}");
    assert!(reads.contains(&after), "time.time() {after} is not a journaled clock read {reads:?}: {out}");
    let now = out["now_before"].as_u64().expect("now_before");
    assert!(reads.contains(&now), "{now} vs {reads:?}");
    assert!(now >= before && now - before < 5_000, "now {now} and time.time() {before} disagree");
    assert!(after >= before + 300, "the durable sleep of 300 ms is not in the clock: {before} -> {after}");
    let (mono_before, mono_after) = (out["monotonic_before"].as_u64().unwrap(), out["monotonic_after"].as_u64().unwrap());
    assert!(mono_after >= mono_before + 300_000_000, "monotonic {mono_before} -> {mono_after}");

    // Nothing of the host leaks in; files and sockets fail, catchably.
    assert_eq!(out["environ"], json!({}), "{out}");
    for probe in ["connect_error", "lookup_error", "file_error"] {
        let error = out[probe].as_str().unwrap_or("none");
        assert!(error != "none" && !error.is_empty(), "{probe}: {out}");
    }
    assert!(out["reservation_id"].as_str().is_some_and(|r| r.starts_with("res_")), "{out}");

    // Randomness comes from a per-run seed: a second run draws other values.
    let second = cli_ok(&manifest, &["start", "py-probe", r#"{"tag": "p2", "sleep_ms": 10}"#]);
    let other = await_output(&manifest, &second);
    for field in ["random", "uuid", "urandom"] {
        assert_ne!(out[field], other[field], "{field} is the same in two runs: {out} {other}");
    }
    let (_, events) = journal(&manifest, &second);
    assert_eq!(of_kind(&events, "random_drawn").len(), 1, "one journaled seed per run: {events:#?}");

    // print() and stderr reach the host log with the run's id, once each.
    let log = host.log_text();
    for needle in ["probe p1 before", "probe p1 to stderr", "probe p1 after"] {
        let lines = lines_with(&log, needle);
        assert_eq!(lines.len(), 1, "{needle:?} logged {} times:\n{log}", lines.len());
        assert!(lines[0].contains(&first), "{needle:?} without the run id: {}", lines[0]);
    }
    assert_exactly_once(&events);
});

on_both_stores!(async fn a_killed_host_replays_a_python_run_to_the_same_values(store: Store) {
    let _turn = cpu_heavy().await;
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db.url)]);
    let mut first = Host::start(&manifest, &[]);

    // It draws and prints its values, then sleeps 4 s: kill the host then.
    let run = cli_ok(&manifest, &["start", "py-probe", r#"{"tag": "k1", "sleep_ms": 4000}"#]);
    let parked = eventually(Duration::from_secs(120), || async {
        let (record, events) = journal(&manifest, &run);
        (record.state == "suspended" && events.iter().any(|e| e.kind() == "timer_started")).then_some(())
    })
    .await;
    assert!(parked.is_some(), "the Python run never parked on its sleep:\n{}", first.log_text());
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
    // Floats are compared as numbers: the JSON store may print another
    // (equally close) decimal than Python's repr.
    let printed_float = |name: &str| -> f64 {
        let start = printed.find(&format!("{name}=")).map(|i| i + name.len() + 1).unwrap_or(printed.len());
        printed[start..].split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
    };
    for (field, printed_value) in [("time_before", printed_float("time")), ("random", printed_float("random"))] {
        let replayed = out[field].as_f64().unwrap_or(f64::NAN);
        assert!((replayed - printed_value).abs() <= 1e-6 * printed_value.abs().max(1.0), "{field}: replayed {replayed}, printed before the kill: {printed}");
    }
    for (field, shown) in [
        ("uuid", format!("uuid={}", out["uuid"].as_str().unwrap_or("?"))),
        ("urandom", format!("urandom={}", out["urandom"].as_str().unwrap_or("?"))),
    ] {
        assert!(printed.contains(&shown), "{field}: replayed {shown}, printed before the kill: {printed}");
    }
    let (record, events) = journal(&manifest, &run);
    assert_eq!(record.state, "completed", "{record:#?}");
    assert_exactly_once(&events);
    assert_eq!(events[..at_kill.len()], at_kill[..], "the journal was rewritten by the replay");
    assert_eq!(of_kind(&events, "random_drawn").len(), 1, "{events:#?}");
    assert!(clock_reads(&events).contains(&ms_of(&out["time_before"])), "{out}");

    // Printed once: the replay re-executed the print before the sleep muted.
    let second_log = second.log_text();
    assert!(lines_with(&second_log, "probe k1 before").is_empty(), "printed again on replay:\n{second_log}");
    assert!(lines_with(&second_log, "probe k1 to stderr").is_empty(), "printed again on replay:\n{second_log}");
    assert_eq!(lines_with(&second_log, "probe k1 after").len(), 1, "{second_log}");
    assert!(lines_with(&first_log, "probe k1 after").is_empty(), "{first_log}");
});

on_both_stores!(async fn exit_fails_a_python_run_with_its_code(store: Store) {
    let _turn = cpu_heavy().await;
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db.url)]);
    let _host = Host::start(&manifest, &[]);
    let run = cli_ok(&manifest, &["start", "py-probe", r#"{"tag": "x1", "sleep_ms": 10, "exit": 3}"#]);
    let out = cli(&manifest, &["await", &run, "--timeout", "120"]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let (record, events) = journal(&manifest, &run);
    assert_eq!(record.state, "failed", "{record:#?}");
    let error = record.error.clone().unwrap_or_default();
    assert_eq!(error["code"], "exited", "{error}");
    // WASI 0.2's stable `exit` carries success or failure only: wasi-libc
    // turns `_exit(3)` into a failure, which is exit code 1.
    assert_eq!(error["exit_code"], 1, "{error}");
    assert_eq!(events.last().map(ShownEvent::kind), Some("run_failed"), "{events:#?}");
});

on_both_stores!(async fn a_python_guest_over_its_store_shape_fails_naming_the_limit(store: Store) {
    let _turn = cpu_heavy().await;
    let db = store.create().await;
    let dir = TempDir::new();
    // A CPython guest instantiates more than 4 core modules; a Rust guest one.
    let mut tight = spec(&db.url);
    tight.children.push_str("run_supervisor = { max_core_instances = 4 }\n");
    let manifest = write_manifest(&dir.0, "node-a", &[tight]);
    let _host = Host::start(&manifest, &[]);
    let run = cli_ok(&manifest, &["start", "py-probe", r#"{"tag": "s1", "sleep_ms": 10}"#]);
    let out = cli(&manifest, &["await", &run, "--timeout", "120"]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let (record, _) = journal(&manifest, &run);
    assert_eq!(record.state, "failed", "{record:#?}");
    let error = record.error.clone().unwrap_or_default();
    assert_eq!(error["code"], "store_limit", "{error}");
    assert_eq!(error["limit"], "run_supervisor.max_core_instances", "{error}");
    assert_eq!(error["value"], 4, "{error}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains("core instances") && message.contains("`run_supervisor.max_core_instances` = 4"), "{message}");
    let rust = cli_ok(&manifest, &["start", "order-flow", &order("o-s", json!({"review_timeout_ms": 100})).to_string()]);
    cli_ok(&manifest, &["await", &rust, "--timeout", "60"]);
});

fn order(id: &str, extra: Value) -> Value {
    let mut v = json!({"order_id": id, "sku": "BOOK-42", "quantity": 2, "amount_cents": 4200, "card": "4242-4242-4242-4242"});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v
}

/// How a run ended, as `await` prints it: its output or its error.
fn outcome(manifest: &Path, run: &str) -> (Option<i32>, Value) {
    let out = cli(manifest, &["await", run, "--timeout", "120"]);
    let value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap_or(Value::Null);
    (out.status.code(), value)
}

on_both_stores!(async fn the_python_order_flow_behaves_as_the_rust_one(store: Store) {
    let _turn = cpu_heavy().await;
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db.url)]);
    let _host = Host::start(&manifest, &[]);

    // (order, signal) pairs: approved, rejected, a bad payload, the timeout,
    // a declined card, a bad input.
    let cases: Vec<(Value, Option<&str>)> = vec![
        (order("o-1", json!({})), Some("\"approved\"")),
        (order("o-2", json!({})), Some(r#"{"decision": "rejected"}"#)),
        (order("o-3", json!({})), Some("42")),
        (order("o-4", json!({"review_timeout_ms": 500})), None),
        (order("o-5", json!({"card": "4000-0000-0000-0002"})), None),
        (json!({"order_id": "o-6"}), None),
    ];
    for (input, signal) in cases {
        let mut ends = Vec::new();
        for workflow in ["order-flow", "py-order-flow"] {
            let run = cli_ok(&manifest, &["start", workflow, &input.to_string()]);
            if let Some(payload) = signal {
                cli_ok(&manifest, &["signal", &run, "fraud_review", payload]);
            }
            let (code, value) = outcome(&manifest, &run);
            let kinds: Vec<String> = journal(&manifest, &run).1.iter().map(|e| e.kind().to_string()).collect();
            let activities: Vec<Value> = journal(&manifest, &run)
                .1
                .iter()
                .filter(|e| e.kind() == "activity_scheduled")
                .map(|e| json!([e.body["name"], e.body["input"]]))
                .collect();
            ends.push((code, value, activities, kinds.contains(&"run_completed".to_string())));
        }
        let (rust, python) = (&ends[0], &ends[1]);
        if input.get("card").is_some() {
            assert_eq!(rust, python, "for {input} and signal {signal:?}: Rust ended {rust:?}, Python {python:?}");
        } else {
            // A bad input: both fail with `invalid_input` (serde's message
            // and Python's are worded differently).
            assert_eq!((rust.0, &rust.1["code"]), (python.0, &python.1["code"]), "{rust:?} vs {python:?}");
            assert_eq!(rust.1["code"], "invalid_input", "{rust:?}");
        }
    }
});
