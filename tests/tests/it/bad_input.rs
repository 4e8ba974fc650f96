//! Bad input gets a clear error naming the culprit, and nothing is lost:
//! unknown workflow or instance, invalid JSON, a file that is not a
//! component, a guest that panics or returns an error, signals to finished
//! or unknown runs.

use std::time::Duration;

use continuum_tests::*;
use serde_json::Value;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_refuses_bad_requests_clearly() {
    let db = PgDb::create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("default", &db.url)]);

    let out = cli(&manifest, &["start", "no-such-flow", "{}"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown workflow `no-such-flow` in instance `default`"), "{}", stderr(&out));

    let out = cli(&manifest, &["start", "order-flow", "{not json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("invalid JSON input"), "{}", stderr(&out));

    let out = cli(&manifest, &["start", "order-flow", "{}", "--instance", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("instance `nope` is not registered"), "{}", stderr(&out));

    let out = cli(&manifest, &["signal", "no-such-run", "fraud_review", "\"approved\""]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("run `no-such-run` not found in instance `default`"), "{}", stderr(&out));

    let out = cli(&manifest, &["signal", "whatever", "fraud_review", "{oops"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("invalid JSON signal payload"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_that_is_not_a_component_is_refused_at_start_up() {
    let db = PgDb::create().await;
    let dir = TempDir::new();
    let text = dir.0.join("notes.wasm");
    std::fs::write(&text, "this is not wasm").unwrap();
    let core = dir.0.join("core.wasm");
    // The smallest core module: magic and version 1.
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    for (file, needle) in [(&text, "is not a WebAssembly component"), (&core, "is a core WebAssembly module, not a component")] {
        let spec = InstanceSpec { workflows: vec![("broken".into(), file.clone())], activities: vec![], ..InstanceSpec::examples("default", &db.url) };
        let manifest = write_manifest(&dir.0, "node-a", &[spec]);
        // A host refuses the file, logs why, and goes on serving the rest.
        let mut host = Host::start(&manifest, &[]);
        assert!(host.wait_for_log("continuum: serving", Duration::from_secs(60)), "serve stopped: {}", host.log_text());
        assert_eq!(host_status(&mut host).ok().flatten(), None, "serve exited on a bad module: {}", host.log_text());
        assert!(host.log_text().lines().any(|l| l.contains("ERROR") && l.contains("refused")), "{}", host.log_text());
        assert!(host.log_text().contains(needle), "{}", host.log_text());
        assert!(host.log_text().contains(&file.display().to_string()), "{}", host.log_text());
        host.kill();
        // The CLI refuses the manifest with one line naming the file.
        let out = cli(&manifest, &["runs"]);
        assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stderr).contains(needle), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

fn host_status(host: &mut Host) -> std::io::Result<Option<i32>> {
    host.try_wait().map(|s| s.and_then(|s| s.code()))
}

#[tokio::test(flavor = "multi_thread")]
async fn guest_panics_and_errors_fail_the_run_with_the_journal_intact() {
    let db = PgDb::create().await;
    let dir = TempDir::new();
    let spec = InstanceSpec {
        workflows: vec![("panicky".into(), component("panicky")), ("order-flow".into(), component("order_flow"))],
        ..InstanceSpec::examples("default", &db.url)
    };
    let manifest = write_manifest(&dir.0, "node-a", &[spec]);
    let _host = Host::start(&manifest, &[]);

    let run = cli_ok(&manifest, &["start", "panicky", r#"{"panic": true}"#]);
    let out = cli(&manifest, &["await", &run, "--timeout", "30"]);
    assert_eq!(out.status.code(), Some(3));
    let doc = show_json(&manifest, &run, None);
    assert_eq!(doc.run.state, "failed");
    assert_eq!(doc.run.error_code(), Some("trap"));
    let message = doc.run.error_message();
    assert!(message.contains("boom: the guest panicked on purpose"), "{message}");
    let kinds = doc.kinds();
    assert_eq!(kinds.first(), Some(&"run_started"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"run_failed"), "{kinds:?}");

    let run = cli_ok(&manifest, &["start", "panicky", r#"{"fail": true}"#]);
    let out = cli(&manifest, &["await", &run, "--timeout", "30"]);
    assert_eq!(out.status.code(), Some(3));
    let err: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
    assert_eq!(err["code"], "bad_input", "{err}");

    // A finished run takes no more signals.
    let out = cli(&manifest, &["signal", &run, "anything", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is already failed"), "{}", stderr(&out));

    // A declined card is a workflow error the caller can read.
    let run = cli_ok(&manifest, &["start", "order-flow", r#"{"order_id": "d", "sku": "S", "quantity": 1, "amount_cents": 1, "card": "4000-0000-0000-0002"}"#]);
    let out = cli(&manifest, &["await", &run, "--timeout", "30"]);
    let err: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
    assert_eq!(err["code"], "payment_declined", "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guest_that_traps_after_journaled_steps_fails_and_keeps_them() {
    let db = PgDb::create().await;
    let dir = TempDir::new();
    let spec = InstanceSpec { workflows: vec![("panicky".into(), component("panicky"))], ..InstanceSpec::examples("default", &db.url) };
    let manifest = write_manifest(&dir.0, "node-a", &[spec]);
    let _host = Host::start(&manifest, &[]);

    // An activity result and a timer are journaled, then the guest panics
    // (after a replay: the timer suspends the run first).
    let input = serde_json::json!({"panic_after": {
        "activity": "reserve_stock",
        "input": {"order_id": "t-1", "sku": "BOOK", "quantity": 2},
        "sleep_ms": 300,
    }});
    let run = cli_ok(&manifest, &["start", "panicky", &input.to_string()]);
    let out = cli(&manifest, &["await", &run, "--timeout", "60"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let doc = show_json(&manifest, &run, None);
    assert_eq!(doc.run.state, "failed", "{doc:#?}");
    assert_eq!(doc.run.error_code(), Some("trap"), "{doc:#?}");
    let message = doc.run.error_message();
    assert!(message.contains("boom after steps:") && message.contains("res_"), "the trap message is missing or lacks the activity's output: {message}");

    let events = &doc.events;
    assert_eq!(
        doc.kinds(),
        ["run_started", "activity_scheduled", "activity_completed", "timer_started", "timer_fired", "run_failed"],
        "{doc:#?}"
    );
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1, "journal has a gap or a repeat: {doc:#?}");
    }
    let result = &events[2].body["output"];
    assert_eq!(result["quantity"], 2, "the activity's result was not kept: {doc:#?}");
    assert!(result["reservation_id"].as_str().unwrap_or("").starts_with("res_"), "{doc:#?}");
    assert_eq!(events[3].body["duration_ms"], 300, "{doc:#?}");
    assert_eq!(events[4].body["op"], events[3].body["op"], "{doc:#?}");
}

on_both_stores!(
    /// Malformed run ids, signal names, instance and workflow names,
    /// timeouts, limits and payloads: each verb exits 2 with one line on
    /// stderr naming the thing, nothing panics, nothing is written.
    async fn every_verb_refuses_malformed_input_with_one_line(store: Store) {
        use crate::bad_modules::assert_one_line_refusal;
        let db = store.create().await;
        let dir = TempDir::new();
        let manifest = write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("default", &db.url)]);
        // A run to address (no host: it stays pending).
        let run = cli_ok(&manifest, &["start", "order-flow", "{}", "--run-id", "good-run"]);
        assert_eq!(run, "good-run");

        let id_8k = "r".repeat(8 * 1024);
        let name_100k = "s".repeat(100 * 1024);
        let instance_100k = "i".repeat(100 * 1024);
        let order_flow = component("order_flow").display().to_string();
        let billing_flow = component("billing_flow").display().to_string();
        let mut sql = db.sql().await;
        let head = "SELECT hash FROM module_heads WHERE instance = 'default' AND workflow = 'order-flow'";
        let current = sql.texts(head, &[]).await;
        let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
            (vec!["start", "order-flow", "{}", "--run-id", ""], vec!["invalid run id", "empty"]),
            (vec!["start", "order-flow", "{}", "--run-id", &id_8k], vec!["invalid run id", "8192 characters"]),
            (vec!["start", "order-flow", "{}", "--run-id", "two words"], vec!["invalid run id", "whitespace"]),
            (vec!["start", "order-flow", "{}", "--run-id", "line\nbreak"], vec!["invalid run id", "control"]),
            (vec!["start", "order-flow", "{}", "--instance", ""], vec!["instance ``"]),
            (vec!["start", "order-flow", "{}", "--instance", &instance_100k], vec!["is not registered", "102400 characters"]),
            (vec!["start", &name_100k, "{}"], vec!["unknown workflow", "102400 characters"]),
            (vec!["start", "order-flow", "{\"a\": "], vec!["invalid JSON input"]),
            (vec!["start"], vec!["required"]),
            (vec!["signal", "good-run", "", "1"], vec!["invalid signal name", "empty"]),
            (vec!["signal", "good-run", &name_100k, "1"], vec!["invalid signal name", "102400 characters"]),
            (vec!["signal", "", "fraud_review", "1"], vec!["invalid run id"]),
            (vec!["signal", &id_8k, "fraud_review", "1"], vec!["invalid run id"]),
            (vec!["signal", "good-run", "fraud_review", "nope"], vec!["invalid JSON signal payload"]),
            (vec!["cancel", ""], vec!["invalid run id"]),
            (vec!["cancel", &id_8k], vec!["invalid run id"]),
            (vec!["await", "", "--timeout", "1"], vec!["invalid run id"]),
            (vec!["await", "good-run", "--timeout", "99999999999999999999"], vec!["--timeout"]),
            (vec!["await", "good-run", "--timeout", "-1"], vec![]),
            (vec!["await", "good-run", "--timeout", "NaN"], vec!["--timeout"]),
            (vec!["await", "good-run", "--timeout", "inf"], vec!["--timeout"]),
            (vec!["await", "good-run", "--timeout", "soon"], vec!["--timeout"]),
            (vec!["show", ""], vec!["invalid run id"]),
            (vec!["show", &id_8k], vec!["invalid run id"]),
            (vec!["show", "no-such-run"], vec!["run `no-such-run` not found"]),
            (vec!["runs", "--limit", "-5"], vec![]),
            (vec!["runs", "--limit", "99999999999999999999999"], vec!["--limit"]),
            (vec!["deploy", "", "x.wasm"], vec!["invalid workflow name"]),
            (vec!["deploy", "order-flow", "/no/such/file.wasm"], vec!["workflow `order-flow`", "/no/such/file.wasm"]),
            (vec!["deploy", "order-flow", "x.wasm", "--migrate", ""], vec!["invalid run id"]),
            (vec!["replay", "--module", "x.wasm", ""], vec!["invalid run id"]),
            (vec!["replay", "--module", "/no/such/file.wasm", "good-run"], vec!["/no/such/file.wasm"]),
            (vec!["replay", "--module", &order_flow, "--workflow", "nope"], vec!["unknown workflow `nope`"]),
            (vec!["replay", "--module", &order_flow, "--workflow", ""], vec!["invalid workflow name"]),
            (vec!["deploy", "order-flow", &billing_flow, "--migrate", "no-such-run"], vec!["run `no-such-run` not found"]),
            (vec!["deploy", "order-flow", &billing_flow, "--migrate", "good-run", "no-such-run"], vec!["run `no-such-run` not found"]),
            (vec!["no-such-verb"], vec![]),
        ];
        for (args, needles) in &cases {
            let out = cli(&manifest, args);
            let shown: Vec<String> = args.iter().map(|a| a.chars().take(40).collect()).collect();
            assert_one_line_refusal(&out, &format!("{shown:?}"), needles);
        }
        // An input over the payload limit (from a file: too long for an argument).
        let big = dir.0.join("big.json");
        std::fs::write(&big, format!("\"{}\"", "x".repeat(continuum_host::MAX_PAYLOAD_BYTES))).expect("write");
        let out = cli(&manifest, &["start", "order-flow", "--input-file", &big.display().to_string()]);
        assert_one_line_refusal(&out, "big input", &["input is larger than the limit"]);
        // A manifest that does not parse.
        let broken = dir.0.join("broken.toml");
        std::fs::write(&broken, "[instances.default\ndatabase = 1\n").expect("write");
        assert_one_line_refusal(&cli(&broken, &["runs"]), "broken manifest", &["broken.toml", "TOML syntax error"]);

        // Nothing was written: the one run, no signal, no other version.
        assert_eq!(sql.texts(head, &[]).await, current, "a refused deploy changed the current version");
        assert_eq!(sql.int("SELECT count(*) FROM runs", &[]).await, 1);
        assert_eq!(sql.int("SELECT count(*) FROM signals", &[]).await, 0);
        assert_eq!(cli_ok(&manifest, &["runs"]).lines().count(), 1);
    }
);

on_both_stores!(
    /// A reader that goes away (`continuum show RUN | head -1`) ends the
    /// command quietly: no panic, nothing on stderr.
    async fn a_closed_stdout_ends_quietly(store: Store) {
        let db = store.create().await;
        let dir = TempDir::new();
        let manifest = write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("default", &db.url)]);
        let run = cli_ok(&manifest, &["start", "order-flow", "{}"]);
        for args in [vec!["show", run.as_str()], vec!["show", run.as_str(), "--json"], vec!["runs"], vec!["--help"]] {
            let mut child = std::process::Command::new(continuum_bin())
                .arg("--manifest")
                .arg(&manifest)
                .args(&args)
                .env("CONTINUUM_CACHE_DIR", cache_dir())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("run continuum");
            // The reader goes before the first line is written.
            drop(child.stdout.take());
            let out = child.wait_with_output().expect("wait");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.is_empty(), "{args:?}: stderr: {err}");
            assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        }
    }
);

on_both_stores!(
    /// An embedder gets the same limits as typed errors, and a bad module
    /// handed to `Continuum::deploy` or to the builder changes nothing.
    async fn the_library_refuses_the_same_with_typed_errors(store: Store) {
        use continuum_host::{CallOptions, ChildrenConfig, DeployOptions, Error, Instance, SignalOptions, StartOptions};
        let db = store.create().await;
        let c = embedded(&db.url, "order-flow", Default::default(), ChildrenConfig::client_only()).await;
        let current = c.instance(None).expect("default").current_version("order-flow");
        assert!(current.is_some());
        let call = CallOptions::default;
        let start = |id: &str| StartOptions { instance: None, run_id: Some(id.to_string()), ..Default::default() };
        let long = "r".repeat(continuum_host::MAX_RUN_ID_CHARS + 1);
        let keyed = |k: &str| SignalOptions { instance: None, idempotency_key: Some(k.to_string()) };
        let refused = [
            c.start("order-flow", Value::Null, start("")).await.err(),
            c.start("order-flow", Value::Null, start(&long)).await.err(),
            c.signal("x", "", Value::Null, call()).await.err(),
            c.signal("", "name", Value::Null, call()).await.err(),
            c.send_signal("x", "s", Value::Null, keyed(&"k".repeat(continuum_host::MAX_SIGNAL_KEY_CHARS + 1))).await.err(),
            c.send_signal("x", "s", Value::Null, keyed("")).await.err(),
            c.send_signal("x", "s", Value::Null, keyed("a key")).await.err(),
            c.cancel("a b", call()).await.err(),
            c.await_run("", Duration::MAX, call()).await.err(),
            c.history("\n", call()).await.err(),
        ];
        for (i, e) in refused.into_iter().enumerate() {
            assert!(matches!(e, Some(Error::InvalidName { .. })), "case {i}: {e:?}");
        }
        let big = Value::String("x".repeat(continuum_host::MAX_PAYLOAD_BYTES));
        let e = c.start("order-flow", big.clone(), StartOptions::default()).await.err();
        assert!(matches!(e, Some(Error::PayloadTooLarge { what: "input", .. })), "{e:?}");
        // A huge timeout waits (no overflow): the unknown run is named.
        let e = c.await_run("no-such-run", Duration::MAX, call()).await.err();
        assert!(matches!(e, Some(Error::UnknownRun { .. })), "{e:?}");

        let dir = TempDir::new();
        let truncated = dir.0.join("truncated.wasm");
        let bytes = std::fs::read(component("order_flow")).expect("read");
        std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
        let e = c.deploy("order-flow", &truncated, DeployOptions::default()).await.err();
        assert!(matches!(&e, Some(Error::WorkflowModule { workflow, .. }) if workflow == "order-flow"), "{e:?}");
        let e = c.deploy("order-flow", &component("order_activities"), DeployOptions::default()).await.err();
        assert!(matches!(&e, Some(Error::WorkflowModule { .. })), "{e:?}");
        assert_eq!(c.instance(None).expect("default").current_version("order-flow"), current);
        let built = Instance::builder("default")
            .database(&db.url)
            .workflow("order-flow", &truncated)
            .children(ChildrenConfig::client_only())
            .cache_dir(cache_dir())
            .build()
            .await;
        assert!(matches!(&built, Err(Error::WorkflowModule { .. })), "{:?}", built.err());
        let built = Instance::builder("default")
            .database(&db.url)
            .activity_component(component("order_flow"))
            .cache_dir(cache_dir())
            .build()
            .await;
        assert!(matches!(&built, Err(Error::ActivityModule { .. })), "{:?}", built.err());
        c.stop_all().await;
        let reread = embedded(&db.url, "order-flow", Default::default(), ChildrenConfig::client_only()).await;
        assert_eq!(reread.instance(None).expect("default").current_version("order-flow"), current);
    }
);
