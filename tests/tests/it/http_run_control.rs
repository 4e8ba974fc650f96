//! Run control over HTTP (issue 16), on Postgres and on SQLite, every
//! answer checked against `/openapi.json`: pause (the run view says so),
//! resume, reset (the history lists the superseded entries) and retry,
//! their refusals as JSON errors with stable codes (400
//! `invalid_reset_point`, 404 `unknown_run`, 409 `run_control_refused`),
//! and the CLI's `--server` path of the same verbs.

use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::json;

use super::http_api::{order, serve_checked};

/// Waits until the run (read over HTTP) waits for its fraud review.
async fn wait_for_review(api: &Api, run: &str) {
    let path = format!("/v1/instances/default/runs/{run}/history");
    let found = eventually(Duration::from_secs(60), || async {
        let a = api.get(&path).await;
        let waiting = a.body["run"]["state"] == "suspended"
            && a.body["events"].as_array().is_some_and(|e| e.iter().any(|e| e["body"]["type"] == "signal_requested"));
        waiting.then_some(())
    })
    .await;
    assert!(found.is_some(), "run {run} never waited for its review: {:?}", api.get(&path).await);
}

on_both_stores!(async fn run_control_over_http(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let (host, api) = serve_checked(&dir, &[InstanceSpec::examples("default", &db.url)], "").await;
    let runs = "/v1/instances/default/runs";
    let a = api.post(runs, &json!({"workflow": "order-flow", "input": order("h-1"), "run_id": "h-1"})).await;
    assert_eq!(a.status, 201, "{a:?}");
    wait_for_review(&api, "h-1").await;

    let a = api.post(&format!("{runs}/h-1/pause"), &json!({})).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert!(a.body["paused_at"].is_string(), "{a:?}");
    let a = api.post(&format!("{runs}/h-1/pause"), &json!({})).await;
    assert_eq!((a.status, a.code()), (409, "run_control_refused"), "{a:?}");
    assert!(a.message().contains("`h-1`"), "{a:?}");
    let a = api.post(&format!("{runs}/h-1/signals"), &json!({"name": "fraud_review", "payload": "approved"})).await;
    assert_eq!(a.status, 202, "{a:?}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let a = api.get(&format!("{runs}/h-1")).await;
    assert_eq!((a.body["state"].as_str(), a.body["paused_at"].is_string()), (Some("suspended"), true), "{a:?}");
    let a = api.post(&format!("{runs}/h-1/resume"), &json!({})).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert!(a.body["paused_at"].is_null(), "{a:?}");
    let a = api.get(&format!("{runs}/h-1/result?wait=30s")).await;
    assert_eq!((a.status, a.body["output"]["status"].as_str()), (200, Some("shipped")), "{a:?}");

    // Refusals: nothing written.
    let before = api.get(&format!("{runs}/h-1/history")).await.body;
    let last = before["events"].as_array().map_or(0, Vec::len) as i64;
    for to in [0, -1, last + 1] {
        let a = api.post(&format!("{runs}/h-1/reset"), &json!({"to_seq": to})).await;
        assert_eq!((a.status, a.code()), (400, "invalid_reset_point"), "{a:?}");
    }
    let a = api.post(&format!("{runs}/h-1/reset"), &json!({"to": 3})).await;
    assert_eq!(a.status, 400, "an unknown field: {a:?}");
    let a = api.post(&format!("{runs}/h-1/retry"), &json!({})).await;
    assert_eq!((a.status, a.code()), (409, "run_control_refused"), "{a:?}");
    let a = api.post(&format!("{runs}/h-1/resume"), &json!({})).await;
    assert_eq!((a.status, a.code()), (409, "run_control_refused"), "{a:?}");
    let a = api.post(&format!("{runs}/nope/reset"), &json!({"to_seq": 1})).await;
    assert_eq!((a.status, a.code()), (404, "unknown_run"), "{a:?}");
    assert_eq!(api.get(&format!("{runs}/h-1/history")).await.body, before);

    // A reset to before the review: the run waits for one again.
    let events = before["events"].as_array().cloned().unwrap_or_default();
    let received = events.iter().find(|e| e["body"]["type"] == "signal_received").and_then(|e| e["seq"].as_i64()).expect("a review");
    let a = api.post(&format!("{runs}/h-1/reset"), &json!({"to_seq": received - 1, "reason": "over HTTP"})).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.body, json!({"run_id": "h-1", "reset_id": 1, "to_seq": received - 1, "superseded": last - received + 1}));
    wait_for_review(&api, "h-1").await;
    let h = api.get(&format!("{runs}/h-1/history")).await;
    assert_eq!(h.body["resets"][0]["reason"], "over HTTP", "{h:?}");
    assert_eq!(h.body["resets"][0]["superseded"].as_array().map_or(0, Vec::len) as i64, last - received + 1);

    // The same verbs through the CLI's `--server`.
    let manifest = dir.0.join("node-a.toml");
    let base = host.http_base(Duration::from_secs(5));
    let remote = |args: &[&str]| {
        let mut all = vec!["--server", base.as_str()];
        all.extend_from_slice(args);
        cli_env(&manifest, &all, &[])
    };
    let ok = |args: &[&str]| {
        let out = remote(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(ok(&["pause", "h-1"]), "run h-1 paused");
    let out = remote(&["pause", "h-1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("paused already"), "{out:?}");
    assert_eq!(ok(&["resume", "h-1"]), "run h-1 resumed");
    let out = remote(&["reset", "h-1", "--to", "0"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("entry 0"), "{out:?}");
    let a = api.post(&format!("{runs}/h-1/signals"), &json!({"name": "fraud_review", "payload": "rejected"})).await;
    assert_eq!(a.status, 202, "{a:?}");
    let a = api.get(&format!("{runs}/h-1/result?wait=30s")).await;
    assert_eq!(a.body["output"]["status"], "refunded", "{a:?}");
    let out = remote(&["retry", "h-1"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not failed"), "{out:?}");
    let reset = ok(&["reset", "h-1", "--to", "2", "--reason", "cli"]);
    assert!(reset.starts_with("run h-1 reset from journal entry 2 ("), "{reset}");
    wait_for_review(&api, "h-1").await;
});
