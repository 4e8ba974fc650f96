//! Run control (issue 16) on the real binary, on Postgres and on SQLite,
//! with `order-flow`: a paused run takes no step (a signal sent meanwhile
//! waits), stays paused across a host restart, and finishes once resumed;
//! a finished run reset to before its fraud review goes on from there and
//! ends on the path a new signal gives it, `show` listing the superseded
//! entries; a run failed by an activity (its receipt file cannot be
//! written) is retried, runs the activity again and completes; a run
//! paused while its engine executes it suspends at its next wait; a run
//! reset while its engine executes it fences that engine out; and every
//! refusal (a reset to 0, past the end or before a child's start, ...) is
//! one line naming the run, with nothing written.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::{json, Value};

fn order(id: &str) -> String {
    json!({"order_id": id, "sku": "BOOK-42", "quantity": 1, "amount_cents": 4200, "card": "4242-4242-4242-4242"}).to_string()
}

async fn wait_state(manifest: &Path, run: &str, state: &str) -> Shown {
    eventually(Duration::from_secs(60), || async {
        let doc = show_json(manifest, run, None);
        (doc.run.state == state).then_some(doc)
    })
    .await
    .unwrap_or_else(|| panic!("run {run} never reached {state}: {:#?}", show_json(manifest, run, None)))
}

/// Waits until the run waits for its fraud review.
async fn wait_for_review(manifest: &Path, run: &str) -> Shown {
    eventually(Duration::from_secs(60), || async {
        let doc = show_json(manifest, run, None);
        (doc.run.state == "suspended" && doc.has("signal_requested")).then_some(doc)
    })
    .await
    .unwrap_or_else(|| panic!("run {run} never waited for its review: {:#?}", show_json(manifest, run, None)))
}

fn awaited(manifest: &Path, run: &str) -> Value {
    serde_json::from_str(&cli_ok(manifest, &["await", run, "--timeout", "60"])).expect("await prints JSON")
}

/// Asserts a refusal: exit code 2, one line on stderr naming the run and
/// saying `what`.
fn assert_refused(out: &Output, run: &str, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stdout: {} stderr: {stderr}", String::from_utf8_lossy(&out.stdout));
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {stderr:?}");
    assert!(lines[0].starts_with("error: ") && lines[0].contains(&format!("`{run}`")) && lines[0].contains(what), "{stderr:?}");
}

on_both_stores!(async fn a_paused_run_survives_a_restart_and_finishes_once_resumed(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("default", &db.url)]);
    let mut host = Host::start(&manifest, &[]);
    cli_ok(&manifest, &["start", "order-flow", &order("p-1"), "--run-id", "p-1"]);
    let before = wait_for_review(&manifest, "p-1").await;

    assert_eq!(cli_ok(&manifest, &["pause", "p-1"]), "run p-1 paused");
    let text = cli_ok(&manifest, &["show", "p-1"]);
    assert!(text.contains("(paused since "), "{text}");
    assert!(show_json(&manifest, "p-1", None).run.paused_at.is_some());
    assert_refused(&cli(&manifest, &["pause", "p-1"]), "p-1", "paused already");
    // The approval arrives and waits: the paused run takes no step.
    cli_ok(&manifest, &["signal", "p-1", "fraud_review", "\"approved\""]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let still = show_json(&manifest, "p-1", None);
    assert_eq!((still.run.state.as_str(), still.events.len()), ("suspended", before.events.len()), "{still:#?}");

    // A new host does not take it either.
    host.kill();
    let _host = Host::start(&manifest, &[]);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let still = show_json(&manifest, "p-1", None);
    assert_eq!((still.run.state.as_str(), still.events.len()), ("suspended", before.events.len()), "{still:#?}");
    assert!(still.run.paused_at.is_some());

    assert_eq!(cli_ok(&manifest, &["resume", "p-1"]), "run p-1 resumed");
    assert_eq!(awaited(&manifest, "p-1")["status"], "shipped");
    let done = show_json(&manifest, "p-1", None);
    assert_eq!(done.run.paused_at, None);
    assert!(!cli_ok(&manifest, &["show", "p-1"]).contains("paused"));
    assert_refused(&cli(&manifest, &["resume", "p-1"]), "p-1", "is completed");
    assert_refused(&cli(&manifest, &["pause", "p-1"]), "p-1", "is completed");
});

on_both_stores!(async fn a_reset_run_goes_on_from_its_point_and_keeps_the_rest_as_history(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("default", &db.url)]);
    let _host = Host::start(&manifest, &[]);
    cli_ok(&manifest, &["start", "order-flow", &order("r-1"), "--run-id", "r-1"]);
    wait_for_review(&manifest, "r-1").await;
    cli_ok(&manifest, &["signal", "r-1", "fraud_review", "\"rejected\""]);
    assert_eq!(awaited(&manifest, "r-1")["status"], "refunded");

    let first = show_json(&manifest, "r-1", None);
    let received = first.of_kind("signal_received")[0].seq;
    let point = received - 1;
    let superseded = first.events.len() as i64 - point;
    let out = cli_ok(&manifest, &["reset", "r-1", "--to", &point.to_string(), "--reason", "review again"]);
    assert_eq!(out, format!("run r-1 reset from journal entry {point} ({superseded} later entries kept as history)"));

    // It goes on from there: waits for a review again (the rejection it
    // consumed is history), and ends on the path a new one gives it.
    let again = wait_for_review(&manifest, "r-1").await;
    assert_eq!(again.events.len() as i64, point, "{again:#?}");
    // A waiting run can be reset too: to before its review's timer, which
    // starts again.
    let timer = again.of_kind("timer_started")[0].seq;
    cli_ok(&manifest, &["reset", "r-1", "--to", &(timer - 1).to_string()]);
    let waiting = wait_for_review(&manifest, "r-1").await;
    assert_eq!(waiting.of_kind("timer_started").len(), 1, "{waiting:#?}");
    assert_eq!(waiting.events.len() as i64, point, "{waiting:#?}");
    cli_ok(&manifest, &["signal", "r-1", "fraud_review", "\"approved\""]);
    assert_eq!(awaited(&manifest, "r-1")["status"], "shipped");

    let done = show_json(&manifest, "r-1", None);
    assert_eq!(done.of_kind("signal_received")[0].body["payload"], "approved");
    assert_eq!(done.resets.len(), 2, "{:#?}", done.resets);
    assert_eq!((done.resets[1]["previous_state"].as_str(), done.resets[1]["to_seq"].as_i64()), (Some("suspended"), Some(timer - 1)));
    let reset = &done.resets[0];
    assert_eq!((reset["kind"].as_str(), reset["to_seq"].as_i64()), (Some("reset"), Some(point)));
    assert_eq!((reset["reason"].as_str(), reset["previous_state"].as_str()), (Some("review again"), Some("completed")));
    let old: Vec<ShownEvent> = serde_json::from_value(reset["superseded"].clone()).expect("entries");
    assert_eq!(old.len() as i64, superseded);
    assert_eq!(old[0].seq, point + 1);
    assert_eq!(of_kind(&old, "signal_received")[0].body["payload"], "rejected");
    assert!(of_kind(&old, "run_completed")[0].body["output"]["status"] == "refunded");
    let text = cli_ok(&manifest, &["show", "r-1"]);
    assert!(text.contains("reset #1 at ") && text.contains("review again") && text.contains("superseded"), "{text}");
    assert!(text.contains("\"rejected\""), "the superseded signal is listed: {text}");
});

on_both_stores!(async fn a_run_failed_by_an_activity_is_retried_and_completes(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("default", &db.url)]);
    // The charge's receipt cannot be written: a directory is in its way.
    let receipt = dir.0.join("data/sandbox/default/receipts/t-1.json");
    std::fs::create_dir_all(receipt.join("in-the-way")).expect("a directory where the receipt goes");
    let _host = Host::start(&manifest, &[]);
    cli_ok(&manifest, &["start", "order-flow", &order("t-1"), "--run-id", "t-1"]);
    let failed = wait_state(&manifest, "t-1", "failed").await;
    assert_eq!(failed.run.error_code(), Some("payment_failed"), "{failed:#?}");
    let charge_failed = failed.of_kind("activity_failed")[0].seq;
    assert_refused(&cli(&manifest, &["reset", "t-1", "--to", "0"]), "t-1", "entry 0");

    std::fs::remove_dir_all(&receipt).expect("clear the way");
    let out = cli_ok(&manifest, &["retry", "t-1"]);
    assert!(out.starts_with(&format!("run t-1 retrying from journal entry {}", charge_failed - 1)), "{out}");
    // The charge runs again (a new first attempt) and succeeds; the run
    // waits for its review, and ships.
    let waiting = wait_for_review(&manifest, "t-1").await;
    assert!(waiting.of_kind("activity_completed").iter().any(|e| e.body["output"]["charge_id"].is_string()), "{waiting:#?}");
    assert!(receipt.is_file(), "the charge wrote its receipt");
    cli_ok(&manifest, &["signal", "t-1", "fraud_review", "\"approved\""]);
    assert_eq!(awaited(&manifest, "t-1")["status"], "shipped");
    let done = show_json(&manifest, "t-1", None);
    assert!(!done.has("activity_failed") && !done.has("run_failed"), "{:#?}", done.events);
    assert_eq!(done.resets.len(), 1);
    assert_eq!((done.resets[0]["kind"].as_str(), done.resets[0]["previous_state"].as_str()), (Some("retry"), Some("failed")));
    let old: Vec<ShownEvent> = serde_json::from_value(done.resets[0]["superseded"].clone()).expect("entries");
    assert_eq!(old[0].kind(), "activity_failed");
    assert!(old.iter().any(|e| e.kind() == "run_failed"));
    assert_refused(&cli(&manifest, &["retry", "t-1"]), "t-1", "not failed");
});

on_both_stores!(async fn bad_run_control_requests_are_refused_and_change_nothing(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let mut spec = InstanceSpec::examples("default", &db.url);
    spec.workflows.push(("parent-flow".into(), component("parent_flow")));
    spec.workflows.push(("child-flow".into(), component("child_flow")));
    let manifest = write_manifest(&dir.0, "node-a", &[spec]);
    let host = Host::start(&manifest, &[]);
    cli_ok(&manifest, &["start", "order-flow", &order("b-1"), "--run-id", "b-1"]);
    cli_ok(&manifest, &["start", "parent-flow", &json!({"mode": "join", "n": 1}).to_string(), "--run-id", "par"]);
    wait_for_review(&manifest, "b-1").await;
    cli_ok(&manifest, &["signal", "b-1", "fraud_review", "\"approved\""]);
    awaited(&manifest, "b-1");
    awaited(&manifest, "par");
    drop(host);
    // A reset to before a child's start is refused, naming the child.
    let parent = show_json(&manifest, "par", None);
    let started = parent.of_kind("child_started")[0].seq;
    assert_refused(&cli(&manifest, &["reset", "par", "--to", &(started - 1).to_string()]), "par", "started child run `par-child-");
    assert_eq!(show_json(&manifest, "par", None), parent);
    let before = show_json(&manifest, "b-1", None);
    let last = before.events.len();

    assert_refused(&cli(&manifest, &["reset", "b-1", "--to", "0"]), "b-1", "entry 0");
    assert_refused(&cli(&manifest, &["reset", "b-1", "--to", "-3"]), "b-1", "entry -3");
    let past = (last + 1).to_string();
    assert_refused(&cli(&manifest, &["reset", "b-1", "--to", &past]), "b-1", &format!("1 to {last}"));
    assert_refused(&cli(&manifest, &["reset", "nope", "--to", "1"]), "nope", "not found");
    assert_refused(&cli(&manifest, &["retry", "b-1"]), "b-1", "completed, not failed");
    assert_refused(&cli(&manifest, &["retry", "nope"]), "nope", "not found");
    assert_refused(&cli(&manifest, &["pause", "b-1"]), "b-1", "is completed");
    assert_refused(&cli(&manifest, &["resume", "b-1"]), "b-1", "is completed");
    assert_refused(&cli(&manifest, &["pause", "nope"]), "nope", "not found");
    let out = cli(&manifest, &["reset", "b-1"]);
    assert_eq!(out.status.code(), Some(2), "--to is required");

    let after = show_json(&manifest, "b-1", None);
    assert_eq!(after, before, "a refused request changed the run");
    assert!(after.resets.is_empty());
});

on_both_stores!(async fn a_run_reset_while_an_engine_executes_it_fences_that_engine_out(store: Store) {
    // A guest keeps a core busy here: one such scenario at a time.
    let _turn = cpu_heavy().await;
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("default", &db.url)]);
    let host = Host::start(&manifest, &[]);
    let input = json!({"order_id": "x-1", "sku": "S", "quantity": 1, "amount_cents": 100, "card": "4242", "spin": 200_000_000_000u64});
    cli_ok(&manifest, &["start", "order-flow", &input.to_string(), "--run-id", "x-1"]);
    let charges = |host: &Host| host.log_text().lines().filter(|l| l.contains("activity started") && l.contains("charge_card")).count();
    let busy = eventually(Duration::from_secs(60), || async {
        let doc = show_json(&manifest, "x-1", None);
        // The log is read after the journal: its charge may have started
        // after that read; then the next round sees it scheduled.
        let scheduled = doc.of_kind("activity_scheduled").iter().any(|e| e.body["name"] == "charge_card");
        (charges(&host) == 1 && scheduled && doc.run.state == "running" && doc.run.lease_owner.is_some()).then_some(doc)
    })
    .await
    .unwrap_or_else(|| panic!("x-1 never got busy in charge_card: {:#?}\n{}", show_json(&manifest, "x-1", None), host.log_text()));
    let charge = busy.of_kind("activity_scheduled").into_iter().find(|e| e.body["name"] == "charge_card").expect("the charge").seq;

    // Reset to before the charge while the engine is in it: that engine
    // loses its lease (it is stopped and writes nothing more), and the run
    // goes on from the reset on the new path (the charge scheduled again).
    let point = (charge - 1).to_string();
    cli_ok(&manifest, &["reset", "x-1", "--to", &point]);
    let again = eventually(Duration::from_secs(60), || async { (charges(&host) == 2).then_some(()) }).await;
    assert!(again.is_some(), "the charge did not start again:\n{}", host.log_text());
    assert!(host.log_text().lines().any(|l| l.contains("lease lost") && l.contains("x-1")), "{}", host.log_text());
    let now = show_json(&manifest, "x-1", None);
    let scheduled: Vec<&str> = now.of_kind("activity_scheduled").iter().filter_map(|e| e.body["name"].as_str()).collect();
    assert_eq!(scheduled, ["reserve_stock", "charge_card"], "{:#?}", now.events);
    assert!(now.run.lease_token > busy.run.lease_token + 1, "{} -> {}", busy.run.lease_token, now.run.lease_token);
    let old: Vec<ShownEvent> = serde_json::from_value(now.resets[0]["superseded"].clone()).expect("entries");
    assert_eq!(old.iter().map(|e| e.seq).collect::<Vec<_>>(), [charge], "only what was committed before the reset is history: {old:#?}");
    assert_eq!(now.resets[0]["previous_state"], "running");

    // Stop it: the new engine takes the termination.
    assert_eq!(cli(&manifest, &["terminate", "x-1"]).status.code(), Some(0));
    assert_eq!(show_json(&manifest, "x-1", None).run.state, "cancelled");
});

on_both_stores!(async fn a_run_paused_while_an_engine_executes_it_suspends_at_its_next_wait(store: Store) {
    // A guest keeps a core busy here: one such scenario at a time.
    let _turn = cpu_heavy().await;
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("default", &db.url)]);
    let host = Host::start(&manifest, &[]);
    let input = json!({"order_id": "w-1", "sku": "S", "quantity": 1, "amount_cents": 100, "card": "4242", "spin": 4_000_000_000u64});
    cli_ok(&manifest, &["start", "order-flow", &input.to_string(), "--run-id", "w-1"]);
    eventually(Duration::from_secs(60), || async {
        let charging = host.log_text().lines().any(|l| l.contains("activity started") && l.contains("charge_card"));
        (charging && show_json(&manifest, "w-1", None).run.state == "running").then_some(())
    })
    .await
    .unwrap_or_else(|| panic!("w-1 never got busy in charge_card:\n{}", host.log_text()));

    // The approval is in the inbox before the run gets to its review; the
    // pause reaches the engine (at its lease renewal) while it charges, so
    // at the review it suspends instead of taking the approval.
    cli_ok(&manifest, &["signal", "w-1", "fraud_review", "\"approved\""]);
    cli_ok(&manifest, &["pause", "w-1"]);
    let paused = eventually(Duration::from_secs(90), || async {
        let doc = show_json(&manifest, "w-1", None);
        (doc.run.state == "suspended" && doc.run.lease_owner.is_none()).then_some(doc)
    })
    .await
    .unwrap_or_else(|| panic!("w-1 did not suspend: {:#?}\n{}", show_json(&manifest, "w-1", None), host.log_text()));
    assert!(host.log_text().contains("run paused: suspended at its wait"), "{}", host.log_text());
    assert!(paused.of_kind("activity_completed").iter().any(|e| e.body["output"]["charge_id"].is_string()), "{paused:#?}");
    assert!(!paused.has("signal_received"), "the paused run took a step: {paused:#?}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(show_json(&manifest, "w-1", None).events.len(), paused.events.len());

    cli_ok(&manifest, &["resume", "w-1"]);
    assert_eq!(awaited(&manifest, "w-1")["status"], "shipped");
});
