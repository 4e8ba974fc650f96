//! Python activity components (componentize-py, the `activity` world),
//! through the real `continuum` binary, on Postgres and on SQLite: the
//! `notes-activities` example keeps notes as files in its instance's
//! sandbox, a workflow (`probe-flow`) calls it, an `ActivityError` reaches
//! the workflow typed (kind, code, attempts; a non-retryable one is not
//! retried), and the sandbox holds: a path outside it is refused and
//! nothing outside it is read or written.

use std::path::Path;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::{json, Value};

/// Runs probe-flow with `probes` (`(activity, input)`, each with up to 3
/// attempts) and returns each probe's entry (`result`, or `failure`,
/// `kind`, `attempts`, `code`).
fn probe(manifest: &Path, probes: &[(&str, Value)]) -> Vec<Value> {
    let input = json!({
        "probes": probes
            .iter()
            .map(|(a, i)| json!({"activity": a, "input": i, "retry": {"max_attempts": 3, "interval_ms": 10}}))
            .collect::<Vec<_>>()
    });
    let run = cli_ok(manifest, &["start", "probe-flow", &input.to_string()]);
    let out = cli_ok(manifest, &["await", &run, "--timeout", "120"]);
    let out: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("probe-flow printed invalid JSON ({e}): {out}"));
    let entries = out.as_array().cloned().unwrap_or_else(|| panic!("probe-flow returned {out}"));
    assert_eq!(entries.len(), probes.len(), "{out}");
    entries
}

/// The probe failed for good after one attempt, with an error code.
fn assert_typed_failure(entry: &Value, code: Option<&str>) {
    assert!(entry.get("result").is_none(), "should fail: {entry}");
    assert_eq!(entry["kind"], "ActivityFailed", "{entry}");
    assert_eq!(entry["attempts"], 1, "a non-retryable error is not retried: {entry}");
    match code {
        Some(code) => assert_eq!(entry["code"], code, "{entry}"),
        None => assert!(entry["code"].as_str().is_some_and(|c| !c.is_empty()), "the refusal should carry a code: {entry}"),
    }
}

on_both_stores!(async fn python_activities_run_typed_and_sandboxed(store: Store) {
    let _turn = cpu_heavy().await;
    let db = store.create().await;
    let dir = TempDir::new();
    let spec = InstanceSpec {
        workflows: vec![("probe-flow".into(), component("probe_flow"))],
        activities: vec![component("python_notes_activities")],
        ..InstanceSpec::examples("default", &db.url)
    };
    let manifest = write_manifest(&dir.0, "node-a", &[spec]);
    std::fs::write(dir.0.join("secret.txt"), "top secret").expect("write the secret");
    let sandbox = dir.0.join("data/sandbox/default");
    let _host = Host::start(&manifest, &[]);

    let out = probe(
        &manifest,
        &[
            ("save_note", json!({"name": "groceries", "text": "milk, eggs"})),
            ("list_notes", json!({})),
            ("read_file", json!({"path": "notes/groceries.txt"})),
            ("save_note", json!({"name": "empty", "text": ""})),
            ("save_note", json!({"name": "../escape", "text": "x"})),
            ("read_file", json!({"path": "notes/missing.txt"})),
        ],
    );
    assert_eq!(out[0]["result"], json!({"name": "groceries", "bytes": 10, "attempt": 1}), "{}", out[0]);
    assert_eq!(out[1]["result"], json!({"notes": ["groceries"]}), "{}", out[1]);
    assert_eq!(out[2]["result"], json!({"path": "notes/groceries.txt", "text": "milk, eggs"}), "{}", out[2]);
    assert_typed_failure(&out[3], Some("empty_note"));
    assert_typed_failure(&out[4], Some("bad_name"));
    assert_typed_failure(&out[5], Some("enoent"));
    // The note is a real file, in the instance's sandbox directory.
    assert_eq!(std::fs::read_to_string(sandbox.join("notes/groceries.txt")).ok().as_deref(), Some("milk, eggs"));

    // Nothing outside the sandbox: relative escapes and absolute paths are
    // refused with the error's code, and the secret beside it stays unread.
    let out = probe(
        &manifest,
        &[
            ("read_file", json!({"path": "../../../secret.txt"})),
            ("read_file", json!({"path": "/sandbox/../../secret.txt"})),
            ("read_file", json!({"path": "/etc/passwd"})),
            ("read_file", json!({"path": "/sandbox/notes/groceries.txt"})),
        ],
    );
    for entry in &out[..3] {
        assert_typed_failure(entry, None);
        assert!(!entry.to_string().contains("top secret"), "the secret leaked: {entry}");
    }
    assert_eq!(out[3]["result"]["text"], "milk, eggs", "the sandbox by its absolute path: {}", out[3]);
});
