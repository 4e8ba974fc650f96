//! Termination, the hard stop (issue 3; `cancel` was this until issue 14
//! made it a request the workflow handles, see `cancel_cleanup`): without
//! any engine the caller takes the
//! lease through the journal and commits the cancellation itself; a live
//! engine holding the lease gets the request (on Postgres by LISTEN/NOTIFY
//! -> signal router -> registry, on SQLite at its next lease renewal) and
//! confirms it; an engine that cannot be reached
//! makes the cancel fail cleanly with a retryable error, and a retry once
//! its lease has expired succeeds. Each on Postgres and on SQLite.

use std::path::Path;
use std::time::{Duration, Instant};

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::{json, Value};

fn order(id: &str, extra: Value) -> String {
    let mut v = json!({"order_id": id, "sku": "BOOK-42", "quantity": 1, "amount_cents": 4200, "card": "4242-4242-4242-4242"});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v.to_string()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn kinds(doc: &Shown) -> Vec<String> {
    doc.kinds().into_iter().map(str::to_string).collect()
}

/// The run is cancelled, its journal ends with exactly one `run_cancelled`,
/// and its seqs run from 1 without gaps.
fn assert_cancelled(manifest: &Path, run: &str) -> Shown {
    let doc = show_json(manifest, run, None);
    assert_eq!(doc.run.state, "cancelled", "{doc:#?}");
    assert_eq!(doc.run.error_code(), Some("terminated"), "{doc:#?}");
    let k = kinds(&doc);
    assert_eq!(k.last().map(String::as_str), Some("run_cancelled"), "{k:?}");
    assert_eq!(k.iter().filter(|k| *k == "run_cancelled").count(), 1, "{k:?}");
    for (i, e) in doc.events.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1, "journal has a gap or a repeat: {doc:#?}");
    }
    doc
}

/// Waits until the run's `charge_card` (spinning) is in flight on `host`:
/// the host logged its start and the run is `running` with a lease.
async fn wait_spinning(manifest: &Path, host: &Host, run: &str) -> Shown {
    eventually(Duration::from_secs(60), || async {
        let started = host.log_text().lines().any(|l| l.contains("activity started") && l.contains("charge_card"));
        let doc = show_json(manifest, run, None);
        (started && doc.run.state == "running" && doc.run.lease_owner.is_some()).then_some(doc)
    })
    .await
    .unwrap_or_else(|| panic!("run {run} never got busy in charge_card: {:#?}\n{}", show_json(manifest, run, None), host.log_text()))
}

on_both_stores!(async fn with_no_host_the_caller_commits_the_cancellation(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("default", &db.url)]);

    // A run that never ran: its journal is empty.
    let pending = cli_ok(&manifest, &["start", "order-flow", &order("p", json!({}))]);
    let out = cli_ok(&manifest, &["terminate", &pending]);
    assert!(out.contains("terminated"), "{out}");
    let doc = assert_cancelled(&manifest, &pending);
    assert_eq!(kinds(&doc), vec!["run_cancelled"]);
    assert!(doc.run.lease_owner.is_none(), "the caller's lease was not released: {doc:#?}");

    // A run with a journal, parked on its signal; its host is gone.
    let mut host = Host::start(&manifest, &[]);
    let parked = cli_ok(&manifest, &["start", "order-flow", &order("s", json!({}))]);
    let before = eventually(Duration::from_secs(60), || async {
        let doc = show_json(&manifest, &parked, None);
        (doc.run.state == "suspended" && kinds(&doc).contains(&"signal_requested".to_string())).then_some(doc)
    })
    .await
    .expect("the run never parked on its signal");
    host.kill();
    let out = cli_ok(&manifest, &["terminate", &parked]);
    assert!(out.contains("terminated"), "{out}");
    let doc = assert_cancelled(&manifest, &parked);
    let n = before.events.len();
    assert_eq!(doc.events[..n], before.events[..], "the journal was rewritten");
    assert_eq!(doc.events.len(), n + 1, "{doc:#?}");

    // Cancelling again is harmless and says so.
    let out = cli_ok(&manifest, &["terminate", &parked]);
    assert!(out.contains("had already finished: cancelled"), "{out}");
    // A finished run is not cancelled.
    let out = cli(&manifest, &["await", &parked, "--timeout", "1"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
});

on_both_stores!(async fn a_live_engine_gets_the_cancellation_and_confirms_it(store: Store) {
    // A guest keeps a core busy here: one such scenario at a time.
    let _turn = cpu_heavy().await;
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-b", &[InstanceSpec::examples("default", &db.url)]);
    let host = Host::start(&manifest, &[]);
    let run = cli_ok(&manifest, &["start", "order-flow", &order("busy", json!({"spin": 200_000_000_000u64}))]);
    let busy = wait_spinning(&manifest, &host, &run).await;
    assert!(busy.run.lease_owner.as_deref().unwrap_or("").starts_with("node-b/default/"), "{busy:#?}");

    let t0 = Instant::now();
    let out = cli(&manifest, &["terminate", &run]);
    assert_eq!(out.status.code(), Some(0), "cancel failed: {}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("run {run} terminated")), "{out:?}");
    assert!(t0.elapsed() < Duration::from_secs(5), "the engine took {:?} to confirm", t0.elapsed());
    assert_cancelled(&manifest, &run);
    // Only Postgres wakes another process (LISTEN/NOTIFY -> signal router);
    // on SQLite the engine finds the request at its next lease renewal.
    if store == Store::Postgres {
        assert!(host.log_text().contains("cancellation routed to the run"), "the signal router did not deliver it:\n{}", host.log_text());
    }
    assert!(!host.log_text().contains("run cancelled through the journal"), "{}", host.log_text());
});

on_both_stores!(async fn an_unreachable_engine_makes_the_cancel_fail_cleanly_and_a_retry_succeeds(store: Store) {
    // A guest keeps a core busy here: one such scenario at a time.
    let _turn = cpu_heavy().await;
    let db = store.create().await;
    let dir = TempDir::new();
    let mut spec = InstanceSpec::examples("default", &db.url);
    // A lease that outlives the cancel's wait for confirmation.
    spec.children = spec.children.replace("lease_ttl_ms = 1500", "lease_ttl_ms = 8000");
    assert!(spec.children.contains("lease_ttl_ms = 8000"));
    let manifest = write_manifest(&dir.0, "node-c", &[spec]);
    let mut host = Host::start(&manifest, &[]);
    let run = cli_ok(&manifest, &["start", "order-flow", &order("deaf", json!({"spin": 200_000_000_000u64}))]);
    let before = wait_spinning(&manifest, &host, &run).await;
    let owner = before.run.lease_owner.clone().unwrap();
    // The host is cut off: its engine cannot hear the request (neither by
    // notification nor at its next lease renewal) and cannot confirm it.
    host.freeze();

    let out = cli(&manifest, &["terminate", &run]);
    assert_eq!(out.status.code(), Some(4), "an unconfirmed terminate should exit 4 (retryable): {out:?}");
    assert!(stderr(&out).contains("was not confirmed") && stderr(&out).contains("retry"), "{}", stderr(&out));
    // Nothing half-done: still running, owned by its engine, journal unchanged.
    let after = show_json(&manifest, &run, None);
    assert_eq!(after.run.state, "running", "{after:#?}");
    assert_eq!(after.run.lease_owner.as_deref(), Some(owner.as_str()), "the lease moved: {after:#?}");
    assert_eq!(after.run.lease_token, before.run.lease_token, "the lease was taken meanwhile: {after:#?}");
    assert_eq!(after.events, before.events, "the journal changed");
    assert!(after.run.cancel_requested_at.is_none(), "the unconfirmed request was left recorded: {after:#?}");
    assert!(!host.log_text().contains("run cancelled"), "{}", host.log_text());

    // Thawed, the engine hears the late notification and renews its lease,
    // but the withdrawn request is not acted on: the run goes on.
    let renewed_before = after.run.lease_expires_at.clone();
    host.thaw();
    let renewed = eventually(Duration::from_secs(30), || async {
        let doc = show_json(&manifest, &run, None);
        (doc.run.lease_expires_at != renewed_before).then_some(doc)
    })
    .await
    .expect("the thawed host never renewed its lease");
    // A few renewals more (interval 300 ms), then look again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let thawed = show_json(&manifest, &run, None);
    for doc in [&renewed, &thawed] {
        assert_eq!(doc.run.state, "running", "the withdrawn cancel was acted on: {doc:#?}");
        assert_eq!(doc.run.lease_owner.as_deref(), Some(owner.as_str()), "{doc:#?}");
        assert!(doc.run.cancel_requested_at.is_none(), "{doc:#?}");
    }
    assert_eq!(thawed.events, before.events, "the journal changed after the thaw");
    assert!(!host.log_text().contains("run cancelled"), "the thawed host cancelled the run:\n{}", host.log_text());
    assert!(!host.log_text().contains("cancellation routed to the run"), "{}", host.log_text());

    // Once the engine is gone and its lease has expired, a retry succeeds.
    let before = thawed;
    host.kill();
    let mut refusals = 0;
    let done = eventually(Duration::from_secs(30), || {
        let out = cli(&manifest, &["terminate", &run]);
        let code = out.status.code();
        if code != Some(0) {
            assert_eq!(code, Some(4), "a retry failed otherwise than retryably: {}", stderr(&out));
            refusals += 1;
        }
        async move { (code == Some(0)).then_some(()) }
    })
    .await;
    assert!(done.is_some(), "the retried cancel never succeeded: {:#?}", show_json(&manifest, &run, None));
    let doc = assert_cancelled(&manifest, &run);
    let n = before.events.len();
    assert_eq!(doc.events[..n], before.events[..], "the journal was rewritten");
    assert!(refusals <= 1, "{refusals} retries were refused; the lease (ttl 8 s, renewed until the kill) should have expired within one");
});
