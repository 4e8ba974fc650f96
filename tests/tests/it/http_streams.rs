//! The server-sent event streams of the HTTP API (issue 15): a run's
//! journal entries as they are committed, an instance's run state changes,
//! and a host that stops on SIGTERM with a stream open.

use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::json;

use super::http_api::{order, serve_checked, START};

on_both_stores!(async fn streams_send_journal_entries_and_state_changes(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let (mut host, api) = serve_checked(&dir, &[InstanceSpec::examples("default", &db.url)], "").await;
    let base = "/v1/instances/default";
    let mut states = api.sse(&format!("{base}/stream/runs"), None).await;
    assert_eq!(states.status, 200);
    let a = api.post(&format!("{base}/runs"), &json!({"workflow": "order-flow", "input": order("o-1"), "run_id": "s1"})).await;
    assert_eq!(a.status, 201, "{a:?}");
    let mut journal = api.sse(&format!("{base}/runs/s1/journal/stream"), None).await;
    assert_eq!(journal.status, 200);

    // The first entry comes as soon as it is committed; the run waits for its review.
    let first = journal.next(START).await.expect("a first journal entry");
    assert_eq!((first.event.as_str(), first.id.as_deref(), &first.data["seq"]), ("entry", Some("1"), &json!(1)), "{first:?}");
    let a = api.post(&format!("{base}/runs/s1/signals"), &json!({"name": "fraud_review", "payload": "approved"})).await;
    assert_eq!(a.status, 202, "{a:?}");
    let mut seqs = vec![1];
    let end = loop {
        let ev = journal.next(START).await.expect("the journal stream goes on to its end");
        match ev.event.as_str() {
            "entry" => seqs.push(ev.data["seq"].as_i64().unwrap()),
            "end" => break ev,
            other => panic!("unexpected event {other}: {ev:?}"),
        }
    };
    assert_eq!(end.data, json!({"state": "completed"}));
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "every entry once, in order");
    assert!(journal.next(Duration::from_secs(5)).await.is_none(), "the stream ends after `end`");
    // Resuming with Last-Event-ID sends only what came after.
    let mut resumed = api.sse(&format!("{base}/runs/s1/journal/stream"), Some(&(seqs.len() as i64 - 2).to_string())).await;
    let ev = resumed.next(START).await.unwrap();
    assert_eq!(ev.data["seq"], json!(seqs.len() as i64 - 1), "{ev:?}");

    // The state stream saw the run come to its end.
    let mut seen = Vec::new();
    let mut first_id = None;
    while seen.last().map(String::as_str) != Some("completed") {
        let ev = states.next(START).await.unwrap_or_else(|| panic!("no completed state after {seen:?}"));
        assert_eq!((ev.event.as_str(), ev.data["run_id"].as_str(), ev.data["workflow"].as_str()), ("state", Some("s1"), Some("order-flow")), "{ev:?}");
        let id = ev.id.clone().unwrap_or_else(|| panic!("a state event has an id: {ev:?}"));
        first_id.get_or_insert(id);
        seen.push(ev.data["state"].as_str().unwrap().to_string());
    }
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique, seen, "a state is sent once per change: {seen:?}");

    // A client that reconnects with the id of the first change it got is
    // sent the run's current state at once (it missed the later changes).
    let first_id = first_id.expect("a first state event");
    let mut resumed = api.sse(&format!("{base}/stream/runs"), Some(&first_id)).await;
    assert_eq!(resumed.status, 200);
    let ev = resumed.next(START).await.expect("a resumed state stream repeats what changed since");
    assert_eq!((ev.event.as_str(), ev.data["run_id"].as_str(), ev.data["state"].as_str()), ("state", Some("s1"), Some("completed")), "{ev:?}");
    // `?since=` does the same; a Last-Event-ID that is no event's id is refused.
    let since = api.sse(&format!("{base}/stream/runs?since={}", first_id.replace('+', "%2B")), None).await;
    assert_eq!(since.status, 200);
    let bad = api.sse(&format!("{base}/stream/runs"), Some("yesterday")).await;
    assert_eq!(bad.status, 400);

    // Streams of unknown runs and instances are refused before they start.
    assert_eq!(api.get(&format!("{base}/runs/nope/journal/stream")).await.code(), "unknown_run");
    assert_eq!(api.get("/v1/instances/nope/stream/runs").await.code(), "unknown_instance");

    // An open stream does not keep a host from stopping on SIGTERM.
    let _open = api.sse(&format!("{base}/stream/runs"), None).await;
    let status = std::process::Command::new("kill").arg("-TERM").arg(host.pid().to_string()).status().expect("run kill");
    assert!(status.success());
    let start = std::time::Instant::now();
    let exited = loop {
        if let Some(s) = host.try_wait().expect("wait for the host") {
            break s;
        }
        assert!(start.elapsed() < START, "the host did not stop within {START:?}:\n{}", host.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(exited.code(), Some(0), "{}", host.log_text());
});
