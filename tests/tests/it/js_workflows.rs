//! JavaScript workflows and activities (componentize-js) on the real
//! `continuum` binary, on Postgres and on SQLite: `Date.now()` is the
//! journaled clock `now` reads, `Math.random()`, `crypto.randomUUID()` and
//! `crypto.getRandomValues` come from a journaled per-run seed (two runs
//! differ, a replay repeats), `console.log`/`console.error` go to the host's
//! log once (muted on replay), the environment is empty and the network
//! fails catchably, a host killed mid-run leaves the run to be finished by
//! replay with the same values, the JavaScript order flow behaves as the
//! Rust one, and a JavaScript workflow calls a JavaScript activity component
//! that works in its sandbox.

use std::path::Path;
use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::{json, Value};

/// The default instance plus the JavaScript workflows and activities.
fn spec(db: &str) -> InstanceSpec {
    let mut spec = InstanceSpec::examples("default", db);
    spec.workflows.push(("js-probe".into(), component("js_wasi_probe")));
    spec.workflows.push(("js-order-flow".into(), component("js_order_flow")));
    spec.workflows.push(("js-greeter-flow".into(), component("js_greeter_flow")));
    spec.activities.push(component("js_greeter_activities"));
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

/// The lines of a host log that carry `needle`.
fn lines_with(log: &str, needle: &str) -> Vec<String> {
    log.lines().filter(|l| l.contains(needle)).map(str::to_string).collect()
}

/// The word after `name=` in a printed line.
fn printed_value<'a>(line: &'a str, name: &str) -> &'a str {
    let start = line.find(&format!(" {name}=")).map(|i| i + name.len() + 2).unwrap_or(line.len());
    line[start..].split_whitespace().next().unwrap_or("")
}

on_both_stores!(async fn a_js_workflow_runs_on_the_deterministic_wasi(store: Store) {
    let _turn = cpu_heavy().await;
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db.url)]);
    let host = Host::start(&manifest, &[]);

    let first = cli_ok(&manifest, &["start", "js-probe", r#"{"tag": "j1", "sleep_ms": 300}"#]);
    let second = cli_ok(&manifest, &["start", "js-probe", r#"{"tag": "j2", "sleep_ms": 10}"#]);
    let out = await_output(&manifest, &first);
    let other = await_output(&manifest, &second);
    let (record, events) = journal(&manifest, &first);
    assert_eq!(record.state, "completed", "{record:#?}");

    // Date.now() is a journaled clock read, and agrees with `now`.
    let reads = clock_reads(&events);
    let (before, after) = (out["time_before"].as_u64().unwrap_or(0), out["time_after"].as_u64().unwrap_or(0));
    assert!(reads.contains(&before), "Date.now() {before} is not a journaled clock read {reads:?}: {out}");
    assert!(reads.contains(&after), "Date.now() {after} is not a journaled clock read {reads:?}: {out}");
    let now = out["now_before"].as_u64().expect("now_before");
    assert!(reads.contains(&now), "{now} vs {reads:?}");
    assert!(now >= before && now - before < 5_000, "now {now} and Date.now() {before} disagree");
    assert!(after >= before + 300, "the durable sleep of 300 ms is not in the clock: {before} -> {after}");
    let (mono_before, mono_after) = (out["monotonic_before"].as_f64().unwrap(), out["monotonic_after"].as_f64().unwrap());
    assert!(mono_after >= mono_before + 300.0, "performance.now() {mono_before} -> {mono_after}");

    // Nothing of the host leaks in; the network fails, catchably.
    assert_eq!(out["environ"], json!({}), "{out}");
    let fetch_error = out["fetch_error"].as_str().unwrap_or("none");
    assert!(fetch_error != "none" && !fetch_error.is_empty(), "fetch: {out}");
    assert!(out["reservation_id"].as_str().is_some_and(|r| r.starts_with("res_")), "{out}");

    // Randomness comes from a per-run seed: the second run drew other values.
    for field in ["random", "uuid", "bytes"] {
        assert_ne!(out[field], other[field], "{field} is the same in two runs: {out} {other}");
    }
    let random = out["random"].as_f64().unwrap_or(-1.0);
    assert!((0.0..1.0).contains(&random), "Math.random() {random}");
    let (_, second_events) = journal(&manifest, &second);
    assert_eq!(of_kind(&second_events, "random_drawn").len(), 1, "one journaled seed per run: {second_events:#?}");

    // console.log and console.error reach the host log with the run's id, once each.
    let log = host.log_text();
    for needle in ["probe j1 before", "probe j1 to stderr", "probe j1 after"] {
        let lines = lines_with(&log, needle);
        assert_eq!(lines.len(), 1, "{needle:?} logged {} times:\n{log}", lines.len());
        assert!(lines[0].contains(&first), "{needle:?} without the run id: {}", lines[0]);
    }
    assert_exactly_once(&events);
});

on_both_stores!(async fn a_killed_host_replays_a_js_run_to_the_same_values(store: Store) {
    let _turn = cpu_heavy().await;
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db.url)]);
    let mut first = Host::start(&manifest, &[]);

    // It draws and prints its values, then sleeps 4 s: kill the host then.
    let run = cli_ok(&manifest, &["start", "js-probe", r#"{"tag": "k1", "sleep_ms": 4000}"#]);
    let parked = eventually(Duration::from_secs(120), || async {
        let (record, events) = journal(&manifest, &run);
        (record.state == "suspended" && events.iter().any(|e| e.kind() == "timer_started")).then_some(())
    })
    .await;
    assert!(parked.is_some(), "the JavaScript run never parked on its sleep:\n{}", first.log_text());
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
    assert_eq!(out["time_before"].to_string(), printed_value(printed, "time"), "time: {out} vs {printed}");
    let random: f64 = printed_value(printed, "random").parse().unwrap_or(f64::NAN);
    assert_eq!(out["random"].as_f64(), Some(random), "random: {out} vs {printed}");
    assert_eq!(out["uuid"].as_str(), Some(printed_value(printed, "uuid")), "uuid: {out} vs {printed}");
    assert_eq!(out["bytes"].as_str(), Some(printed_value(printed, "bytes")), "bytes: {out} vs {printed}");
    let (record, events) = journal(&manifest, &run);
    assert_eq!(record.state, "completed", "{record:#?}");
    assert_exactly_once(&events);
    assert_eq!(events[..at_kill.len()], at_kill[..], "the journal was rewritten by the replay");
    assert_eq!(of_kind(&events, "random_drawn").len(), 1, "{events:#?}");
    assert!(clock_reads(&events).contains(&out["time_before"].as_u64().unwrap_or(0)), "{out}");

    // Printed once: the replay re-executed the console.log before the sleep muted.
    let second_log = second.log_text();
    assert!(lines_with(&second_log, "probe k1 before").is_empty(), "printed again on replay:\n{second_log}");
    assert!(lines_with(&second_log, "probe k1 to stderr").is_empty(), "printed again on replay:\n{second_log}");
    assert_eq!(lines_with(&second_log, "probe k1 after").len(), 1, "{second_log}");
    assert!(lines_with(&first_log, "probe k1 after").is_empty(), "{first_log}");
});

fn order(id: &str, extra: Value) -> Value {
    let mut v = json!({"order_id": id, "sku": "BOOK-42", "quantity": 2, "amount_cents": 4200, "card": "4242-4242-4242-4242"});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v
}

/// How a run ended, as `await` prints it: its exit code and its output or error.
fn outcome(manifest: &Path, run: &str) -> (Option<i32>, Value) {
    let out = cli(manifest, &["await", run, "--timeout", "120"]);
    let value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap_or(Value::Null);
    (out.status.code(), value)
}

on_both_stores!(async fn the_js_order_flow_behaves_as_the_rust_one(store: Store) {
    let _turn = cpu_heavy().await;
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db.url)]);
    let _host = Host::start(&manifest, &[]);

    // (order, signal) pairs: approved, rejected, a bad payload, the timeout,
    // a declined card, a bad input. Every run of both languages starts at
    // once; then each pair is compared.
    let cases: Vec<(Value, Option<&str>)> = vec![
        (order("o-1", json!({})), Some("\"approved\"")),
        (order("o-2", json!({})), Some(r#"{"decision": "rejected"}"#)),
        (order("o-3", json!({})), Some("42")),
        (order("o-4", json!({"review_timeout_ms": 500})), None),
        (order("o-5", json!({"card": "4000-0000-0000-0002"})), None),
        (json!({"order_id": "o-6"}), None),
    ];
    let mut runs = Vec::new();
    for (input, signal) in &cases {
        let mut pair = Vec::new();
        for workflow in ["order-flow", "js-order-flow"] {
            let run = cli_ok(&manifest, &["start", workflow, &input.to_string()]);
            if let Some(payload) = signal {
                cli_ok(&manifest, &["signal", &run, "fraud_review", payload]);
            }
            pair.push(run);
        }
        runs.push(pair);
    }
    for ((input, signal), pair) in cases.iter().zip(&runs) {
        let mut ends = Vec::new();
        for run in pair {
            let (code, value) = outcome(&manifest, run);
            let events = journal(&manifest, run).1;
            let activities: Vec<Value> = events
                .iter()
                .filter(|e| e.kind() == "activity_scheduled")
                .map(|e| json!([e.body["name"], e.body["input"]]))
                .collect();
            ends.push((code, value, activities, events.iter().any(|e| e.kind() == "run_completed")));
        }
        let (rust, js) = (&ends[0], &ends[1]);
        if input.get("card").is_some() {
            assert_eq!(rust, js, "for {input} and signal {signal:?}: Rust ended {rust:?}, JavaScript {js:?}");
        } else {
            // A bad input: both fail with `invalid_input` (serde's message
            // and the JavaScript one are worded differently).
            assert_eq!((rust.0, &rust.1["code"]), (js.0, &js.1["code"]), "{rust:?} vs {js:?}");
            assert_eq!(rust.1["code"], "invalid_input", "{rust:?}");
        }
    }
});

on_both_stores!(async fn a_js_workflow_calls_a_js_activity_component(store: Store) {
    let _turn = cpu_heavy().await;
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db.url)]);
    let _host = Host::start(&manifest, &[]);

    let input = json!({"name": "Ada", "key": "k1", "text": "remember me", "fail_times": 2});
    let run = cli_ok(&manifest, &["start", "js-greeter-flow", &input.to_string()]);
    let out = await_output(&manifest, &run);
    assert_eq!(out["greeting"], json!({"greeting": "hello Ada", "attempt": 1}), "{out}");
    assert_eq!(out["remembered"], json!({"key": "k1", "text": "remember me", "notes": ["k1.txt"]}), "{out}");
    assert_eq!(out["recalled"], json!({"text": "remember me"}), "{out}");
    // A typed failure with the sandbox's code, not retried.
    assert_eq!(out["missing"]["kind"], "activity_failed", "{out}");
    assert_eq!(out["missing"]["code"], "no-entry", "{out}");
    assert_eq!(out["missing"]["attempts"], 1, "{out}");
    assert_eq!(out["nameless"]["code"], "no_name", "{out}");
    assert_eq!(out["nameless"]["attempts"], 1, "{out}");
    // Retried by the host until the third attempt succeeds.
    assert_eq!(out["flaky"], json!({"attempt": 3}), "{out}");

    // The note is in the instance's sandbox directory on disk.
    let note = std::fs::read_to_string(dir.0.join("data/sandbox/default/notes/k1.txt")).expect("the note in the sandbox");
    assert_eq!(note, "remember me");

    let (record, events) = journal(&manifest, &run);
    assert_eq!(record.state, "completed", "{record:#?}");
    // The journal holds the attempts each call took: `flaky` three.
    let op_of = |name: &str| -> Vec<Value> {
        events.iter().filter(|e| e.kind() == "activity_scheduled" && e.body["name"] == name).map(|e| e.body["op"].clone()).collect()
    };
    let flaky_op = op_of("flaky");
    assert_eq!(flaky_op.len(), 1, "{events:#?}");
    let completed = events.iter().find(|e| e.kind() == "activity_completed" && e.body["op"] == flaky_op[0]);
    assert_eq!(completed.map(|e| e.body["attempts"].clone()), Some(json!(3)), "{events:#?}");
    assert_exactly_once(&events);
});
