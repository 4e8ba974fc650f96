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
        let mut host = Host::start(&manifest, &[]);
        let mut status = None;
        for _ in 0..600 {
            if let Ok(Some(s)) = host_status(&mut host) {
                status = Some(s);
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(status, Some(2), "serve should exit 2 on a bad module: {}", host.log_text());
        assert!(host.log_text().contains(needle), "{}", host.log_text());
        assert!(host.log_text().contains(&file.display().to_string()), "{}", host.log_text());
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
