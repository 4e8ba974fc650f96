//! Updates (issue 16), on the real binary on Postgres and on SQLite, with
//! the `counter-flow` example (an `add` sent as an update is replied to
//! with the new total): an update gets its reply through the CLI (direct
//! and `--server`) and the HTTP API, and a rejection its error; an update
//! sent while no host runs is replied to once one starts; a sender that
//! times out leaves the update delivered; and a host killed (SIGKILL)
//! between an update and its reply leaves it to the next host, which
//! replies once.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::{json, Value};

fn spec(db: &StoreDb) -> InstanceSpec {
    let mut spec = InstanceSpec::examples("default", &db.url);
    spec.workflows.push(("counter-flow".into(), component("counter_flow")));
    spec
}

fn reply(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "update failed ({}): {text}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("the reply is not JSON ({e}): {text}"))
}

/// `continuum update ...` in a thread, for a sender that waits while the
/// test does something else.
fn update_in_background(manifest: &Path, args: &[&str]) -> std::thread::JoinHandle<Output> {
    let manifest: PathBuf = manifest.to_path_buf();
    let mut all = vec!["update".to_string()];
    all.extend(args.iter().map(|a| a.to_string()));
    std::thread::spawn(move || {
        let args: Vec<&str> = all.iter().map(String::as_str).collect();
        cli(&manifest, &args)
    })
}

/// The `update_replied` entries of a run's journal.
fn replies(manifest: &Path, run: &str) -> Vec<Value> {
    show_json(manifest, run, None).of_kind("update_replied").iter().map(|e| e.body.clone()).collect()
}

on_both_stores!(async fn an_update_gets_its_reply(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db)]);
    add_http(&manifest, "");
    let host = Host::start(&manifest, &[]);
    let base = host.http_base(Duration::from_secs(60));
    let api = Api::new(&base).checked().await;
    cli_ok(&manifest, &["start", "counter-flow", "{}", "--run-id", "upd-a"]);

    assert_eq!(reply(&cli(&manifest, &["update", "upd-a", "add", "2", "--timeout", "30s"])), json!(2));
    // A plain signal is taken too, and replied to nobody.
    cli_ok(&manifest, &["signal", "upd-a", "add", "3"]);
    assert_eq!(reply(&cli(&manifest, &["--server", &base, "update", "upd-a", "add", "4"])), json!(9));
    let a = api.post("/v1/instances/default/runs/upd-a/updates?wait=30s", &json!({"name": "add", "payload": 1})).await;
    assert_eq!((a.status, &a.body["replied"], &a.body["reply"]), (200, &json!(true), &json!(10)), "{a:?}");
    let id = a.body["update_id"].as_str().expect("an update id").to_string();
    let again = api.get(&format!("/v1/instances/default/runs/upd-a/updates/{id}")).await;
    assert_eq!((again.status, &again.body["reply"]), (200, &json!(10)), "{again:?}");

    // A rejection is the workflow's error, one line, exit 1; nothing added.
    let out = cli(&manifest, &["update", "upd-a", "add", "\"reject\""]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("was rejected: the counter rejects \"reject\""), "{err}");
    let a = api.post("/v1/instances/default/runs/upd-a/updates?wait=30s", &json!({"name": "add", "payload": "reject"})).await;
    assert_eq!((a.status, a.code()), (422, "update_rejected"), "{a:?}");
    let a = api.post("/v1/instances/default/runs/nope/updates", &json!({"name": "add"})).await;
    assert_eq!((a.status, a.code()), (404, "unknown_run"), "{a:?}");
    let out = cli(&manifest, &["update", "nope", "add", "1"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));

    // Each update replied once, the plain signal not at all.
    let doc = show_json(&manifest, "upd-a", None);
    assert_eq!(doc.of_kind("update_replied").len(), 5, "{:#?}", doc.kinds());
    assert_eq!(doc.of_kind("signal_received").len(), 6);
    assert_exactly_once(&doc.events);
    assert_eq!(reply(&cli(&manifest, &["update", "upd-a", "add", "\"stop\""])), json!(10));
    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", "upd-a", "--timeout", "30"])).expect("JSON");
    assert_eq!(out, json!({"count": 10, "adds": 4}));
    // The run has ended: an update is refused like a signal.
    let out = cli(&manifest, &["update", "upd-a", "add", "1"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
});

on_both_stores!(async fn updates_are_durable_and_a_timeout_leaves_them_delivered(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db)]);
    cli_ok(&manifest, &["start", "counter-flow", "{}", "--run-id", "upd-d"]);

    // No host: the sender times out (exit 4), the update stays delivered.
    let out = cli(&manifest, &["update", "upd-d", "add", "5", "--timeout", "1s"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("was not replied to within") && err.contains("stays delivered"), "{err}");
    // An update sent while no host runs is replied to once one starts.
    let waiting = update_in_background(&manifest, &["upd-d", "add", "7", "--timeout", "90s"]);
    std::thread::sleep(Duration::from_millis(800));
    let host = Host::start(&manifest, &[]);
    assert_eq!(reply(&waiting.join().expect("the sender thread")), json!(12), "{}", host.log_text());
    assert_eq!(reply(&cli(&manifest, &["update", "upd-d", "add", "1"])), json!(13));
    let got = replies(&manifest, "upd-d");
    assert_eq!(got.len(), 3, "{got:#?}");
    assert_eq!(got[0]["reply"], json!(5), "the timed-out update was delivered and replied to: {got:#?}");
});

on_both_stores!(async fn a_host_killed_before_the_reply_replies_once_after_recovery(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db)]);
    let mut host = Host::start(&manifest, &[]);
    cli_ok(&manifest, &["start", "counter-flow", "{}", "--run-id", "upd-k"]);
    // The reply comes after a 3 s timer: the host is killed in between.
    let waiting = update_in_background(&manifest, &["upd-k", "add", r#"{"add": 4, "delay_ms": 3000}"#, "--timeout", "120s"]);
    eventually(Duration::from_secs(60), || async {
        let doc = show_json(&manifest, "upd-k", None);
        (doc.has("signal_received") && doc.has("timer_started")).then_some(())
    })
    .await
    .unwrap_or_else(|| panic!("the update was not received: {:#?}", show_json(&manifest, "upd-k", None)));
    assert!(replies(&manifest, "upd-k").is_empty());
    host.kill();
    let _host = Host::start(&manifest, &[]);
    assert_eq!(reply(&waiting.join().expect("the sender thread")), json!(4));
    let doc = show_json(&manifest, "upd-k", None);
    assert_exactly_once(&doc.events);
    assert_eq!(doc.of_kind("update_replied").len(), 1, "{:#?}", doc.kinds());
    assert_eq!(doc.of_kind("signal_received").len(), 1, "{:#?}", doc.kinds());
    assert_eq!(reply(&cli(&manifest, &["update", "upd-k", "add", "1"])), json!(5));
    assert_eq!(replies(&manifest, "upd-k").len(), 2);
});
