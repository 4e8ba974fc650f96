//! Continue-as-new (issue 14), on the real binary on Postgres and on
//! SQLite, with the `loop-flow` example (a loop that continues as new
//! every `every` iterations): a chain finishes with the right output and
//! `await` on its first run id returns it (CLI direct, CLI over HTTP, the
//! HTTP long poll); `show` lists the chain; signals and a cancellation
//! addressed to the first run id reach the chain's latest run; input that
//! is not JSON, an unknown version, and a call after continuing fail the
//! run clearly and create nothing; a child that continues as new delivers
//! its chain's final result to its parent; and a host killed with SIGKILL
//! again and again while the chain continues leaves it to the next host,
//! every journal entry and every iteration's activity once.

use std::path::Path;
use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::{json, Value};

fn spec(db: &StoreDb) -> InstanceSpec {
    let mut spec = InstanceSpec::examples("default", &db.url);
    spec.workflows.push(("loop-flow".into(), component("loop_flow")));
    spec.workflows.push(("parent-flow".into(), component("parent_flow")));
    spec.activities.push(component("conformance_activities"));
    spec
}

fn start_loop(manifest: &Path, run_id: &str, input: &Value) {
    let id = cli_ok(manifest, &["start", "loop-flow", &input.to_string(), "--run-id", run_id]);
    assert_eq!(id, run_id);
}

/// `show` of a run that may not exist yet.
fn try_show(manifest: &Path, run: &str) -> Option<Shown> {
    let out = cli(manifest, &["show", run, "--json"]);
    out.status.success().then(|| serde_json::from_slice(&out.stdout).ok()).flatten()
}

/// Waits until the chain of `root` has ended; the `show` of its last run.
async fn chain_end(manifest: &Path, root: &str) -> Shown {
    eventually(Duration::from_secs(120), || async {
        let doc = try_show(manifest, root)?;
        let last = doc.chain.last().and_then(|c| c["key"]["run_id"].as_str()).unwrap_or(root).to_string();
        let end = try_show(manifest, &last)?;
        matches!(end.run.state.as_str(), "completed" | "failed" | "cancelled" | "drifted").then_some(end)
    })
    .await
    .unwrap_or_else(|| panic!("the chain of {root} did not end: {:#?}", try_show(manifest, root)))
}

/// The run ids of the chain `root` belongs to, in order.
fn chain_ids(doc: &Shown) -> Vec<String> {
    doc.chain.iter().map(|c| c["key"]["run_id"].as_str().unwrap_or("").to_string()).collect()
}

/// The `i` of every `conf_echo` call journaled across the chain's runs,
/// and checks each run's journal has every entry once.
fn iterations(manifest: &Path, ids: &[String]) -> Vec<u64> {
    let mut seen = Vec::new();
    for id in ids {
        let doc = show_json(manifest, id, None);
        assert_exactly_once(&doc.events);
        let scheduled = doc.of_kind("activity_scheduled");
        assert_eq!(scheduled.len(), doc.of_kind("activity_completed").len(), "run {id}: {:#?}", doc.events);
        seen.extend(scheduled.iter().filter_map(|e| e.body["input"]["i"].as_u64()));
    }
    seen
}

on_both_stores!(async fn a_chain_finishes_and_await_on_its_first_run_returns_its_result(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db)]);
    add_http(&manifest, "");
    let host = Host::start(&manifest, &[]);
    let base = host.http_base(Duration::from_secs(60));
    start_loop(&manifest, "loop-a", &json!({"n": 7, "every": 2}));
    let want = json!({"count": 7, "sum": 42, "runs": 4});

    let awaited: Value = serde_json::from_str(&cli_ok(&manifest, &["await", "loop-a", "--timeout", "90"])).expect("JSON");
    assert_eq!(awaited, want);
    let remote: Value =
        serde_json::from_str(&cli_ok(&manifest, &["--server", &base, "await", "loop-a", "--timeout", "90"])).expect("JSON");
    assert_eq!(remote, want);
    let api = Api::new(&base).checked().await;
    let a = api.get("/v1/instances/default/runs/loop-a/result?wait=60s").await;
    assert_eq!((a.status, &a.body["state"], &a.body["output"]), (200, &json!("completed"), &want), "{a:?}");
    let a = api.get("/v1/instances/default/runs/loop-a/result").await;
    assert_eq!((a.status, &a.body["output"]), (200, &want), "{a:?}");
    let h = api.get("/v1/instances/default/runs/loop-a/history").await;
    assert_eq!((h.status, h.body["chain"].as_array().map_or(0, Vec::len)), (200, 4), "{h:?}");

    // show: the first run continued; the chain lists in order.
    let first = show_json(&manifest, "loop-a", None);
    assert_eq!((first.run.state.as_str(), first.run.continued_to.as_deref()), ("continued", Some("loop-a-can-1")), "{:#?}", first.run);
    assert_eq!(first.run.output, None);
    let ids = chain_ids(&first);
    assert_eq!(ids, ["loop-a", "loop-a-can-1", "loop-a-can-2", "loop-a-can-3"]);
    let states: Vec<&str> = first.chain.iter().filter_map(|c| c["state"].as_str()).collect();
    assert_eq!(states, ["continued", "continued", "continued", "completed"]);
    assert_eq!(first.kinds().last(), Some(&"continued_as_new"), "{:?}", first.kinds());
    let last = show_json(&manifest, "loop-a-can-3", None);
    assert_eq!((last.run.continued_from.as_deref(), last.run.output.as_ref()), (Some("loop-a-can-2"), Some(&want)));
    assert_eq!(chain_ids(&last), ids, "every run of the chain lists it");
    // Each run's history holds its own iterations only.
    let mut seen = iterations(&manifest, &ids);
    seen.sort_unstable();
    assert_eq!(seen, (0..7).collect::<Vec<u64>>());
    let text = cli_ok(&manifest, &["show", "loop-a-can-1"]);
    assert!(text.contains("chain (continue-as-new)") && text.contains("continues loop-a") && text.contains("continued loop-a-can-2"), "{text}");
    assert!(text.lines().any(|l| l.contains("loop-a-can-3") && l.contains("completed")), "{text}");
    // A continued run's journal replays exactly on its module.
    let module = component("loop_flow");
    let replay = cli_ok(&manifest, &["replay", "--module", module.to_str().unwrap_or_default(), "loop-a", "loop-a-can-3"]);
    assert!(replay.contains("run loop-a: compatible") && replay.contains("run loop-a-can-3: compatible"), "{replay}");
});

on_both_stores!(async fn signals_and_a_cancellation_to_the_first_run_reach_the_chains_latest_run(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db)]);
    let _host = Host::start(&manifest, &[]);
    // One iteration per run, each waiting for a signal: the three signals
    // all go to the first run's id; those a run did not take move on.
    start_loop(&manifest, "sig", &json!({"n": 3, "every": 1, "step": "signal"}));
    for v in [1, 10, 100] {
        cli_ok(&manifest, &["signal", "sig", "tick", &v.to_string()]);
    }
    let end = chain_end(&manifest, "sig").await;
    assert_eq!(end.run.output, Some(json!({"count": 3, "sum": 111, "runs": 3})), "{:#?}", end.run);
    // Later signals to the first id after the chain moved on.
    start_loop(&manifest, "sig2", &json!({"n": 3, "every": 1, "step": "signal"}));
    for v in [1, 2, 3] {
        cli_ok(&manifest, &["signal", "sig2", "tick", &v.to_string()]);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let end = chain_end(&manifest, "sig2").await;
    assert_eq!(end.run.output, Some(json!({"count": 3, "sum": 6, "runs": 3})), "{:#?}", end.run);

    // A cancellation sent to the first run once the chain moved on.
    start_loop(&manifest, "can", &json!({"n": 5, "every": 1, "step": "signal"}));
    cli_ok(&manifest, &["signal", "can", "tick", "1"]);
    eventually(Duration::from_secs(60), || async { try_show(&manifest, "can-can-1").filter(|d| d.run.state == "suspended") })
        .await
        .expect("the chain never moved on to its second run");
    cli_ok(&manifest, &["cancel", "can"]);
    let end = chain_end(&manifest, "can").await;
    assert_eq!((end.run.key.run_id.as_str(), end.run.state.as_str()), ("can-can-1", "cancelled"), "{:#?}", end.run);
    let out = cli(&manifest, &["await", "can", "--timeout", "30"]);
    assert!(!out.status.success(), "await on a cancelled chain fails");
    assert!(String::from_utf8_lossy(&out.stderr).contains("cancelled"), "{}", String::from_utf8_lossy(&out.stderr));
});

on_both_stores!(async fn a_keyed_signal_is_delivered_once_to_a_chain_whichever_of_its_runs_it_is_sent_to(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db)]);
    let _host = Host::start(&manifest, &[]);
    // One iteration per run, each taking one signal: `k1` is taken by the
    // first run, which then continues.
    start_loop(&manifest, "keyed", &json!({"n": 3, "every": 1, "step": "signal"}));
    let sent = cli_ok(&manifest, &["signal", "keyed", "tick", "1", "--key", "k1"]);
    assert!(sent.contains("sent to run keyed"), "{sent}");
    eventually(Duration::from_secs(60), || async { try_show(&manifest, "keyed-can-1").filter(|d| d.run.state == "suspended") })
        .await
        .expect("the chain never moved on to its second run");
    // The retrying client sends `k1` again, to the first id and to the
    // chain's current run: neither delivers it again.
    for to in ["keyed", "keyed-can-1"] {
        let again = cli_ok(&manifest, &["signal", to, "tick", "1", "--key", "k1"]);
        assert!(again.contains("before with key `k1`: not sent again"), "resend to {to}: {again}");
    }
    // The same key with another payload is a conflict, naming the key.
    let out = cli(&manifest, &["signal", "keyed", "tick", "5", "--key", "k1"]);
    assert!(!out.status.success(), "a key reused with another payload must be refused");
    assert!(String::from_utf8_lossy(&out.stderr).contains("k1"), "{}", String::from_utf8_lossy(&out.stderr));
    for (v, k) in [(2, "k2"), (3, "k3")] {
        cli_ok(&manifest, &["signal", "keyed", "tick", &v.to_string(), "--key", k]);
    }
    cli_ok(&manifest, &["signal", "keyed", "tick", "2", "--key", "k2"]);
    let end = chain_end(&manifest, "keyed").await;
    // A `k1` or `k2` delivered twice would have been counted: 1 + 1 + 2.
    assert_eq!(end.run.output, Some(json!({"count": 3, "sum": 6, "runs": 3})), "{:#?}", end.run);
    let signals: usize = chain_ids(&end).iter().map(|id| show_json(&manifest, id, None).of_kind("signal_received").len()).sum();
    assert_eq!(signals, 3, "the chain received each keyed signal once");
});

on_both_stores!(async fn bad_continuations_fail_the_run_clearly_and_create_nothing(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db)]);
    let _host = Host::start(&manifest, &[]);
    start_loop(&manifest, "bad-json", &json!({"n": 4, "every": 1, "step": "none", "bad_input": true}));
    start_loop(&manifest, "bad-version", &json!({"n": 4, "every": 1, "step": "none", "version": "0123abcd"}));
    start_loop(&manifest, "call-after", &json!({"n": 4, "every": 1, "step": "none", "call_after": true}));
    for (run, code, says) in [
        ("bad-json", "invalid_continuation", "the input of continue-as-new is not valid JSON"),
        ("bad-version", "invalid_continuation", "no version `0123abcd` of workflow `loop-flow`"),
        ("call-after", "contract_violation", "after continue-as-new"),
    ] {
        let end = chain_end(&manifest, run).await;
        assert_eq!((end.run.key.run_id.as_str(), end.run.state.as_str(), end.run.error_code()), (run, "failed", Some(code)), "{:#?}", end.run);
        let message = end.run.error.as_ref().and_then(|e| e["message"].as_str()).unwrap_or("");
        assert!(message.contains(says), "{run}: {message}");
        assert!(try_show(&manifest, &format!("{run}-can-1")).is_none(), "{run}: a run was continued");
        assert!(end.chain.is_empty() && end.run.continued_to.is_none(), "{:#?}", end.chain);
        assert!(!end.has("continued_as_new"), "{:?}", end.kinds());
        assert_exactly_once(&end.events);
    }
});

on_both_stores!(async fn a_child_that_continues_as_new_delivers_its_chains_result_to_its_parent(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db)]);
    let _host = Host::start(&manifest, &[]);
    let input = json!({"mode": "one", "workflow": "loop-flow", "input": {"n": 5, "every": 2, "step": "timer", "timer_ms": 50}});
    let parent = cli_ok(&manifest, &["start", "parent-flow", &input.to_string()]);
    let output: Value = serde_json::from_str(&cli_ok(&manifest, &["await", &parent, "--timeout", "90"])).expect("JSON");
    assert_eq!(output["child"], json!({"count": 5, "sum": 20, "runs": 3}), "{output}");
    let doc = show_json(&manifest, &parent, None);
    assert_eq!(doc.kinds(), ["run_started", "child_started", "child_completed", "run_completed"], "{:#?}", doc.events);
    let child = format!("{parent}-child-0");
    let shown = show_json(&manifest, &child, None);
    assert_eq!(shown.run.state, "continued");
    for id in chain_ids(&shown) {
        let run = show_json(&manifest, &id, None);
        assert_eq!(run.run.parent_run_id.as_deref(), Some(parent.as_str()), "{id} keeps the parent link");
        assert_exactly_once(&run.events);
    }
});

on_both_stores!(async fn a_host_killed_again_and_again_while_the_chain_continues(store: Store) {
    let _turn = cpu_heavy().await;
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db)]);
    let n = 30u64;
    // Every iteration is one activity call, then a continuation.
    start_loop(&manifest, "crash", &json!({"n": n, "every": 1}));
    let mut host = Host::start(&manifest, &[]);
    for round in 0..4u32 {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        tokio::time::sleep(Duration::from_millis(200 + u64::from(nanos % 1300))).await;
        host.kill();
        let at_kill = try_show(&manifest, "crash").map_or(0, |d| d.chain.len());
        eprintln!("round {round}: killed with {at_kill} runs in the chain");
        host = Host::start(&manifest, &[]);
    }
    let end = chain_end(&manifest, "crash").await;
    let sum: u64 = (0..n).map(|i| 2 * i).sum();
    assert_eq!(end.run.output, Some(json!({"count": n, "sum": sum, "runs": n})), "{:#?}", end.run);
    let ids = chain_ids(&end);
    assert_eq!(ids.len() as u64, n, "one run per iteration: {ids:?}");
    for (seq, id) in ids.iter().enumerate() {
        let want = if seq == 0 { "crash".to_string() } else { format!("crash-can-{seq}") };
        assert_eq!(id, &want);
    }
    // Every iteration's activity ran to a journaled result exactly once.
    let mut seen = iterations(&manifest, &ids);
    seen.sort_unstable();
    assert_eq!(seen, (0..n).collect::<Vec<u64>>());
    let awaited: Value = serde_json::from_str(&cli_ok(&manifest, &["await", "crash", "--timeout", "30"])).expect("JSON");
    assert_eq!(awaited["count"], n);
    drop(host);
});
