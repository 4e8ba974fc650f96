//! Queries (issue 16), on the real binary on Postgres and on SQLite, with
//! the `counter-flow` example (adds up the `add` signals; answers `count`,
//! `status`, `echo`, and `fail`, which always fails): a query answers on a
//! waiting run and on a finished one, through the CLI (direct and
//! `--server`) and the HTTP API, and leaves the run's record and journal
//! as they were (also with no host up: no lease is taken); an unknown
//! query, an unknown run, a failing handler and a workflow that answers no
//! queries give clear errors. The Python, JavaScript and C SDKs' counters
//! answer the same queries and updates.

use std::path::Path;
use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::{json, Value};

fn spec(db: &StoreDb) -> InstanceSpec {
    let mut spec = InstanceSpec::examples("default", &db.url);
    spec.workflows.push(("counter-flow".into(), component("counter_flow")));
    spec.workflows.push(("loop-flow".into(), component("loop_flow")));
    spec
}

/// `continuum query ...` (direct, or over `--server` when `server` is
/// given), its answer parsed.
fn query(manifest: &Path, server: Option<&str>, args: &[&str]) -> Value {
    let mut all = Vec::new();
    if let Some(s) = server {
        all.extend(["--server", s]);
    }
    all.push("query");
    all.extend(args);
    let text = cli_ok(manifest, &all);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("`continuum {all:?}` printed no JSON ({e}): {text}"))
}

/// A query that must fail: its exit code and stderr.
fn query_err(manifest: &Path, server: Option<&str>, args: &[&str]) -> (i32, String) {
    let mut all = Vec::new();
    if let Some(s) = server {
        all.extend(["--server", s]);
    }
    all.push("query");
    all.extend(args);
    let out = cli(manifest, &all);
    assert!(!out.status.success(), "`continuum {all:?}` succeeded: {}", String::from_utf8_lossy(&out.stdout));
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).trim().to_string())
}

/// Waits until the run has received `n` signals and is suspended.
/// `run` with the lease token of `before`: the host itself may claim a
/// parked run again meanwhile (a signal's wake that came after the claim
/// that took it finds nothing new and suspends it again), which moves the
/// token on; that is not the query's doing (a query takes no lease: the
/// owner stays empty, and the journal is compared entry by entry).
fn same_lease_token(mut run: ShownRun, before: &ShownRun) -> ShownRun {
    run.lease_token = before.lease_token;
    run
}

async fn parked_after(manifest: &Path, run: &str, n: usize) -> Shown {
    eventually(Duration::from_secs(60), || async {
        let doc = show_json(manifest, run, None);
        (doc.run.state == "suspended" && doc.of_kind("signal_received").len() == n && doc.kinds().last() == Some(&"signal_requested"))
            .then_some(doc)
    })
    .await
    .unwrap_or_else(|| panic!("run {run} did not park after {n} signals: {:#?}", show_json(manifest, run, None)))
}

on_both_stores!(async fn a_query_answers_without_changing_the_run(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db)]);
    add_http(&manifest, "");
    let host = Host::start(&manifest, &[]);
    let base = host.http_base(Duration::from_secs(60));
    let api = Api::new(&base).checked().await;
    cli_ok(&manifest, &["start", "counter-flow", "{}", "--run-id", "cnt-a"]);
    cli_ok(&manifest, &["signal", "cnt-a", "add", "2"]);
    cli_ok(&manifest, &["signal", "cnt-a", "add", "3"]);
    let before = parked_after(&manifest, "cnt-a", 2).await;

    // A waiting run answers, through every path.
    assert_eq!(query(&manifest, None, &["cnt-a", "count"]), json!(5));
    assert_eq!(query(&manifest, None, &["cnt-a", "status"]), json!({"count": 5, "adds": 2, "stopped": false}));
    assert_eq!(query(&manifest, None, &["cnt-a", "echo", r#"{"x": [1, "y"]}"#]), json!({"x": [1, "y"]}));
    assert_eq!(query(&manifest, Some(&base), &["cnt-a", "status"]), json!({"count": 5, "adds": 2, "stopped": false}));
    let a = api.post("/v1/instances/default/runs/cnt-a/queries", &json!({"name": "count"})).await;
    assert_eq!((a.status, &a.body["answer"], &a.body["query"]), (200, &json!(5), &json!("count")), "{a:?}");
    let a = api.post("/v1/instances/default/runs/cnt-a/queries", &json!({"name": "echo", "args": [1, 2]})).await;
    assert_eq!((a.status, &a.body["answer"]), (200, &json!([1, 2])), "{a:?}");
    // Nothing was written: the record and the journal are as they were.
    let after = show_json(&manifest, "cnt-a", None);
    assert_eq!(after.events, before.events, "a query changed the journal");
    assert_eq!(same_lease_token(after.run.clone(), &before.run), before.run, "a query changed the run's record");

    // With no host up, a query still answers (no lease is needed) and
    // takes none.
    drop(host);
    assert_eq!(query(&manifest, None, &["cnt-a", "count"]), json!(5));
    assert_eq!(show_json(&manifest, "cnt-a", None), after);

    // A finished run answers from its final state.
    let host = Host::start(&manifest, &[]);
    let base = host.http_base(Duration::from_secs(60));
    cli_ok(&manifest, &["signal", "cnt-a", "add", "\"stop\""]);
    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", "cnt-a", "--timeout", "60"])).expect("JSON");
    assert_eq!(out, json!({"count": 5, "adds": 2}));
    let done = show_json(&manifest, "cnt-a", None);
    assert_eq!(query(&manifest, None, &["cnt-a", "status"]), json!({"count": 5, "adds": 2, "stopped": true}));
    assert_eq!(query(&manifest, Some(&base), &["cnt-a", "count"]), json!(5));
    assert_eq!(show_json(&manifest, "cnt-a", None), done, "a query changed the finished run");
    assert!(host.log_text().contains("run completed"), "{}", host.log_text());
});

on_both_stores!(async fn query_errors_are_clear(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db)]);
    add_http(&manifest, "");
    let host = Host::start(&manifest, &[]);
    let base = host.http_base(Duration::from_secs(60));
    let api = Api::new(&base).checked().await;
    cli_ok(&manifest, &["start", "counter-flow", "{}", "--run-id", "cnt-e"]);
    cli_ok(&manifest, &["signal", "cnt-e", "add", "1"]);
    parked_after(&manifest, "cnt-e", 1).await;
    // loop-flow (built with the same SDK) waits for a signal and registers
    // no query handler.
    cli_ok(&manifest, &["start", "loop-flow", r#"{"n": 3, "step": "signal"}"#, "--run-id", "loop-q"]);
    eventually(Duration::from_secs(60), || async {
        let doc = show_json(&manifest, "loop-q", None);
        (doc.run.state == "suspended" && doc.has("signal_requested")).then_some(())
    })
    .await
    .unwrap_or_else(|| panic!("loop-q did not wait for its signal: {:#?}", show_json(&manifest, "loop-q", None)));

    for server in [None, Some(base.as_str())] {
        let (code, err) = query_err(&manifest, server, &["cnt-e", "nope"]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("has no query `nope`") && err.contains("count, status, echo, fail"), "{err}");
        let (code, err) = query_err(&manifest, server, &["cnt-e", "fail"]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("query `fail` of run `cnt-e`") && err.contains("the fail query always fails"), "{err}");
        let (code, err) = query_err(&manifest, server, &["no-such-run", "count"]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("run `no-such-run` not found"), "{err}");
        let (code, err) = query_err(&manifest, server, &["loop-q", "status"]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("workflow `loop-flow` does not answer queries"), "{err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
    let (code, err) = query_err(&manifest, None, &["cnt-e", "count", "{not json"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("query arguments"), "{err}");

    let q = |run: &str, body: Value| {
        let api = api.clone();
        let path = format!("/v1/instances/default/runs/{run}/queries");
        async move { api.post(&path, &body).await }
    };
    let a = q("cnt-e", json!({"name": "nope"})).await;
    assert_eq!((a.status, a.code()), (404, "unknown_query"), "{a:?}");
    let a = q("cnt-e", json!({"name": "fail"})).await;
    assert_eq!((a.status, a.code()), (422, "query_failed"), "{a:?}");
    assert!(a.message().contains("the fail query always fails"), "{a:?}");
    let a = q("no-such-run", json!({"name": "count"})).await;
    assert_eq!((a.status, a.code()), (404, "unknown_run"), "{a:?}");
    let a = q("loop-q", json!({"name": "status"})).await;
    assert_eq!((a.status, a.code()), (409, "queries_unsupported"), "{a:?}");
    let a = q("cnt-e", json!({"name": ""})).await;
    assert_eq!((a.status, a.code()), (400, "invalid_name"), "{a:?}");
    let a = q("cnt-e", json!({"name": "count", "extra": 1})).await;
    assert_eq!(a.status, 400, "{a:?}");
});

/// The counter of another SDK (component `component`) answers the same
/// queries and updates as the Rust one.
async fn counter_of_another_sdk(store: Store, component_name: &str) {
    let db = store.create().await;
    let dir = TempDir::new();
    let mut spec = spec(&db);
    spec.workflows.push(("sdk-counter".into(), component(component_name)));
    let manifest = write_manifest(&dir.0, "node-a", &[spec]);
    let host = Host::start(&manifest, &[]);
    cli_ok(&manifest, &["start", "sdk-counter", "{}", "--run-id", "sdk-c"]);
    cli_ok(&manifest, &["signal", "sdk-c", "add", "2"]);
    let before = parked_after(&manifest, "sdk-c", 1).await;
    assert_eq!(query(&manifest, None, &["sdk-c", "count"]), json!(2));
    assert_eq!(query(&manifest, None, &["sdk-c", "echo", "[1]"]), json!([1]));
    let (code, err) = query_err(&manifest, None, &["sdk-c", "fail"]);
    assert!(code == 1 && err.contains("the fail query always fails"), "{code} {err}");
    let (code, err) = query_err(&manifest, None, &["sdk-c", "nope"]);
    assert!(code == 2 && err.contains("has no query `nope`") && err.contains("count, status, echo, fail"), "{code} {err}");
    let after = show_json(&manifest, "sdk-c", None);
    assert_eq!(after.events, before.events, "a query changed the journal");
    assert_eq!(same_lease_token(after.run.clone(), &before.run), before.run, "a query changed the run's record");
    let out = cli_ok(&manifest, &["update", "sdk-c", "add", "3", "--timeout", "60s"]);
    assert_eq!(out, "5", "{}", host.log_text());
    let out = cli(&manifest, &["update", "sdk-c", "add", "\"reject\""]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("the counter rejects"), "{out:?}");
    assert_eq!(query(&manifest, None, &["sdk-c", "status"]), json!({"count": 5, "adds": 2, "stopped": false}));
    cli_ok(&manifest, &["signal", "sdk-c", "add", "\"stop\""]);
    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", "sdk-c", "--timeout", "60"])).expect("JSON");
    assert_eq!(out, json!({"count": 5, "adds": 2}));
    assert_eq!(query(&manifest, None, &["sdk-c", "status"]), json!({"count": 5, "adds": 2, "stopped": true}));
    let doc = show_json(&manifest, "sdk-c", None);
    assert_exactly_once(&doc.events);
    assert_eq!(doc.of_kind("update_replied").len(), 2, "{:#?}", doc.kinds());
}

on_both_stores!(async fn the_python_sdk_answers_queries_and_updates(store: Store) {
    counter_of_another_sdk(store, "python_counter_flow").await;
});

on_both_stores!(async fn the_javascript_sdk_answers_queries_and_updates(store: Store) {
    counter_of_another_sdk(store, "js_counter_flow").await;
});

on_both_stores!(async fn the_c_sdk_answers_queries_and_updates(store: Store) {
    counter_of_another_sdk(store, "c_counter_flow").await;
});
