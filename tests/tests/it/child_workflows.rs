//! Child workflows (issue 14), on the real binary on Postgres and on
//! SQLite: a parent (`parent-flow`) starts children (`child-flow`,
//! `order-flow`) and gets their output or their typed failure; a child of
//! an unknown workflow, or in another instance, fails at once; a child
//! raced against a timer; a join of several; cancelling a parent reaches
//! its children by their parent-close policy (cancel, terminate, abandon);
//! `continuum show` lists a run's children and names a child's parent;
//! a host killed with SIGKILL while a parent waits on its child leaves
//! both to the next host, every journal entry and activity once; and a
//! cancellation cascading down a tree of three levels crosses hosts: set up
//! on one host, cascaded on a second that runs no activities and is killed
//! while the grandchildren wait for their clean-up activities, finished on
//! a third, every run cancelled and every journal entry and activity once.

use std::path::Path;
use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::{json, Value};

fn spec(db: &StoreDb) -> InstanceSpec {
    let mut spec = InstanceSpec::examples("default", &db.url);
    spec.workflows.push(("parent-flow".into(), component("parent_flow")));
    spec.workflows.push(("child-flow".into(), component("child_flow")));
    spec
}

fn order(id: &str) -> Value {
    json!({"order_id": id, "sku": "BOOK-42", "quantity": 1, "amount_cents": 4200, "card": "4242-4242-4242-4242"})
}

/// Starts `parent-flow` with `input`; its run id.
fn start_parent(manifest: &Path, input: &Value) -> String {
    cli_ok(manifest, &["start", "parent-flow", &input.to_string()])
}

/// Waits until the run is final; its `show`.
async fn finished(manifest: &Path, run: &str) -> Shown {
    eventually(Duration::from_secs(60), || async {
        let doc = show_json(manifest, run, None);
        matches!(doc.run.state.as_str(), "completed" | "failed" | "cancelled" | "drifted").then_some(doc)
    })
    .await
    .unwrap_or_else(|| panic!("run {run} did not end: {:#?}", show_json(manifest, run, None)))
}

/// `show` of a run that may not exist yet (a child its parent has not
/// committed).
fn try_show(manifest: &Path, run: &str) -> Option<Shown> {
    let out = cli(manifest, &["show", run, "--json"]);
    out.status.success().then(|| serde_json::from_slice(&out.stdout).ok()).flatten()
}

/// Waits until the order-flow run waits for its fraud review.
async fn waiting_for_review(manifest: &Path, run: &str) {
    eventually(Duration::from_secs(60), || async {
        let doc = try_show(manifest, run)?;
        (doc.run.state == "suspended" && doc.kinds().contains(&"signal_requested")).then_some(())
    })
    .await
    .unwrap_or_else(|| panic!("run {run} never waited for its review: {:#?}", show_json(manifest, run, None)));
}

/// The child run ids of a parent, by operation.
fn child_ids(doc: &Shown) -> Vec<String> {
    doc.children.iter().map(|c| c["key"]["run_id"].as_str().unwrap_or("").to_string()).collect()
}

on_both_stores!(async fn a_parent_gets_its_childs_output(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db)]);
    let _host = Host::start(&manifest, &[]);
    let parent = start_parent(&manifest, &json!({"mode": "one", "input": {"value": 21}}));
    let doc = finished(&manifest, &parent).await;
    assert_eq!(doc.run.state, "completed", "{:#?}", doc.run);
    let output = doc.run.output.clone().unwrap_or_default();
    let child = format!("{parent}-child-0");
    assert_eq!(output["child"]["doubled"], 42, "{output}");
    assert_eq!(output["child_run_id"], child.as_str(), "{output}");
    assert_eq!(doc.kinds(), ["run_started", "child_started", "child_completed", "run_completed"], "{:#?}", doc.events);
    assert_exactly_once(&doc.events);
    assert_eq!(child_ids(&doc), [child.clone()]);

    let shown = show_json(&manifest, &child, None);
    assert_eq!((shown.run.state.as_str(), shown.run.parent_run_id.as_deref()), ("completed", Some(parent.as_str())));
    assert_exactly_once(&shown.events);
    // Its journal replays exactly on its module.
    let module = component("parent_flow");
    let replay = cli_ok(&manifest, &["replay", "--module", module.to_str().unwrap_or_default(), &parent]);
    assert!(replay.contains(&format!("run {parent}: compatible")), "{replay}");
});

on_both_stores!(async fn a_childs_failure_reaches_the_parent_typed(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db)]);
    let _host = Host::start(&manifest, &[]);
    let typed = start_parent(&manifest, &json!({"mode": "one", "input": {"fail": "out_of_stock"}}));
    let failing = start_parent(&manifest, &json!({"mode": "hold", "input": {"fail": "out_of_stock"}}));

    let doc = finished(&manifest, &typed).await;
    let output = doc.run.output.clone().unwrap_or_default();
    assert_eq!(output["error"]["kind"], "failed", "{output}");
    assert_eq!(output["error"]["code"], "out_of_stock", "{output}");
    assert!(output["error"]["message"].as_str().unwrap_or("").contains("out_of_stock"), "{output}");
    let failed = doc.of_kind("child_failed");
    assert_eq!(failed.len(), 1, "{:#?}", doc.events);
    assert_eq!(failed[0].body["failure"]["kind"], "failed");

    // `?` on the child's error fails the parent with the child's code.
    let doc = finished(&manifest, &failing).await;
    assert_eq!((doc.run.state.as_str(), doc.run.error_code()), ("failed", Some("out_of_stock")), "{:#?}", doc.run);
    assert_exactly_once(&doc.events);
});

on_both_stores!(async fn a_child_of_an_unknown_workflow_or_another_instance_fails_at_once(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db)]);
    let _host = Host::start(&manifest, &[]);
    let unknown = start_parent(&manifest, &json!({"mode": "one", "workflow": "no-such-flow"}));
    let elsewhere = start_parent(&manifest, &json!({"mode": "one", "instance": "billing"}));
    let started = std::time::Instant::now();

    let doc = finished(&manifest, &unknown).await;
    let output = doc.run.output.clone().unwrap_or_default();
    assert_eq!((output["error"]["kind"].as_str(), output["error"]["code"].as_str()), (Some("unknown_workflow"), Some("unknown_workflow")), "{output}");
    assert!(output["error"]["message"].as_str().unwrap_or("").contains("no-such-flow"), "{output}");
    assert!(doc.children.is_empty(), "no child run was created: {:#?}", doc.children);
    assert_eq!(doc.kinds(), ["run_started", "child_started", "child_failed", "run_completed"]);

    let doc = finished(&manifest, &elsewhere).await;
    let output = doc.run.output.clone().unwrap_or_default();
    assert_eq!(output["error"]["kind"], "refused", "{output}");
    assert!(output["error"]["message"].as_str().unwrap_or("").contains("billing"), "{output}");
    assert!(doc.children.is_empty(), "{:#?}", doc.children);
    assert!(started.elapsed() < Duration::from_secs(30), "the parents waited: {:?}", started.elapsed());
});

on_both_stores!(async fn a_child_raced_against_a_timer(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db)]);
    let _host = Host::start(&manifest, &[]);
    let slow = start_parent(&manifest, &json!({"mode": "race", "input": {"value": 1, "sleep_ms": 60_000}, "timer_ms": 300}));
    let fast = start_parent(&manifest, &json!({"mode": "race", "input": {"value": 2}, "timer_ms": 60_000}));

    let doc = finished(&manifest, &slow).await;
    let output = doc.run.output.clone().unwrap_or_default();
    assert_eq!(output["winner"], "timer", "{output}");
    assert_exactly_once(&doc.events);
    // The parent ended first: its child is cancelled (the default policy).
    let child = output["child_run_id"].as_str().unwrap_or_default().to_string();
    let shown = finished(&manifest, &child).await;
    assert_eq!((shown.run.state.as_str(), shown.run.error_code()), ("cancelled", Some("cancelled")), "{:#?}", shown.run);

    let doc = finished(&manifest, &fast).await;
    let output = doc.run.output.clone().unwrap_or_default();
    assert_eq!((output["winner"].as_str(), output["child"]["doubled"].as_i64()), (Some("child"), Some(4)), "{output}");
    assert_exactly_once(&doc.events);
});

on_both_stores!(async fn a_parent_joins_many_children(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db)]);
    let _host = Host::start(&manifest, &[]);
    let parent = start_parent(&manifest, &json!({"mode": "join", "n": 5}));
    let doc = finished(&manifest, &parent).await;
    assert_eq!(doc.run.state, "completed", "{:#?}", doc.run);
    let output = doc.run.output.clone().unwrap_or_default();
    let doubled: Vec<i64> = output["results"].as_array().map(|a| a.iter().filter_map(|r| r["doubled"].as_i64()).collect()).unwrap_or_default();
    assert_eq!(doubled, [0, 2, 4, 6, 8], "{output}");
    assert_eq!(doc.of_kind("child_started").len(), 5);
    assert_eq!(doc.of_kind("child_completed").len(), 5);
    assert_exactly_once(&doc.events);
    assert_eq!(child_ids(&doc).len(), 5, "{:#?}", doc.children);
    for child in child_ids(&doc) {
        let shown = show_json(&manifest, &child, None);
        assert_eq!((shown.run.state.as_str(), shown.run.parent_run_id.as_deref()), ("completed", Some(parent.as_str())));
    }
});

on_both_stores!(async fn cancelling_a_parent_reaches_its_children_by_their_policy(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db)]);
    let _host = Host::start(&manifest, &[]);
    let mut parents = Vec::new();
    for policy in ["cancel", "terminate", "abandon"] {
        let input = json!({"mode": "hold", "workflow": "order-flow", "input": order(&format!("o-{policy}")), "policy": policy});
        let parent = start_parent(&manifest, &input);
        let child = format!("{parent}-child-0");
        waiting_for_review(&manifest, &child).await;
        parents.push((policy, parent, child));
    }
    for (_, parent, _) in &parents {
        let said = cli_ok(&manifest, &["cancel", parent]);
        assert!(said.contains("cancelled") || said.contains("requested"), "{said}");
        let doc = finished(&manifest, parent).await;
        assert_eq!(doc.run.state, "cancelled", "{:#?}", doc.run);
        assert_exactly_once(&doc.events);
    }
    let (_, _, cancelled) = &parents[0];
    let doc = finished(&manifest, cancelled).await;
    assert_eq!((doc.run.state.as_str(), doc.run.error_code()), ("cancelled", Some("cancelled")), "{:#?}", doc.run);
    // Delivered to order-flow, whose saga refunded and released.
    assert!(doc.kinds().contains(&"cancel_delivered"), "{:?}", doc.kinds());
    let names: Vec<&str> = doc.of_kind("activity_scheduled").iter().filter_map(|e| e.body["name"].as_str()).collect();
    assert_eq!(names, ["reserve_stock", "charge_card", "refund_payment", "release_stock"]);
    assert_exactly_once(&doc.events);

    let (_, _, terminated) = &parents[1];
    let doc = finished(&manifest, terminated).await;
    assert_eq!((doc.run.state.as_str(), doc.run.error_code()), ("cancelled", Some("terminated")), "{:#?}", doc.run);
    assert!(!doc.kinds().contains(&"cancel_delivered"), "terminated with no clean-up: {:?}", doc.kinds());

    let (_, _, abandoned) = &parents[2];
    tokio::time::sleep(Duration::from_millis(500)).await;
    let doc = show_json(&manifest, abandoned, None);
    assert_eq!(doc.run.state, "suspended", "the abandoned child runs on: {:#?}", doc.run);
    cli_ok(&manifest, &["signal", abandoned, "fraud_review", "\"approved\""]);
    let doc = finished(&manifest, abandoned).await;
    assert_eq!(doc.run.state, "completed", "{:#?}", doc.run);
});

on_both_stores!(async fn show_lists_a_runs_children_and_names_a_childs_parent(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db)]);
    let _host = Host::start(&manifest, &[]);
    let parent = start_parent(&manifest, &json!({"mode": "join", "n": 2, "policy": "abandon"}));
    finished(&manifest, &parent).await;
    let text = cli_ok(&manifest, &["show", &parent]);
    assert!(text.contains("children"), "{text}");
    for op in 0..2 {
        let child = format!("{parent}-child-{op}");
        assert!(text.lines().any(|l| l.contains(&child) && l.contains("child-flow") && l.contains("completed") && l.contains("abandon")), "{text}");
        let shown = cli_ok(&manifest, &["show", &child]);
        assert!(shown.lines().any(|l| l.trim_start().starts_with("parent") && l.contains(&parent)), "{shown}");
    }
    assert!(text.contains("child_started") && text.contains("child_completed"), "{text}");
});

on_both_stores!(async fn a_host_killed_while_a_parent_waits_on_its_child(store: Store) {
    let _turn = cpu_heavy().await;
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db)]);
    let mut first = Host::start(&manifest, &[]);
    let parent = start_parent(&manifest, &json!({"mode": "hold", "workflow": "order-flow", "input": order("o-crash")}));
    let child = format!("{parent}-child-0");
    waiting_for_review(&manifest, &child).await;
    eventually(Duration::from_secs(30), || async {
        (show_json(&manifest, &parent, None).run.state == "suspended").then_some(())
    })
    .await
    .expect("the parent never suspended on its child");
    first.kill();

    let second = Host::start(&manifest, &[]);
    cli_ok(&manifest, &["signal", &child, "fraud_review", "\"approved\""]);
    let doc = finished(&manifest, &parent).await;
    assert_eq!(doc.run.state, "completed", "{:#?}", doc.run);
    let output = doc.run.output.clone().unwrap_or_default();
    assert_eq!(output["child"]["status"], "shipped", "{output}");
    assert_eq!(doc.kinds(), ["run_started", "child_started", "child_completed", "run_completed"], "{:#?}", doc.events);
    assert_exactly_once(&doc.events);
    assert_eq!(child_ids(&doc), [child.clone()], "one child, started once");
    let shown = show_json(&manifest, &child, None);
    assert_exactly_once(&shown.events);
    // Every activity ran once, across both hosts.
    let logs = format!("{}\n{}", first.log_text(), second.log_text());
    for activity in ["reserve_stock", "charge_card", "ship_order"] {
        let n = logs.lines().filter(|l| l.contains("activity started") && l.contains(activity)).count();
        assert_eq!(n, 1, "{activity} started {n} times:\n{logs}");
    }
});

/// The example instance on a host that runs workflows but no activity:
/// the activity calls of its runs wait, as durable tasks, for a host that
/// serves them.
fn workflows_only(db: &StoreDb) -> InstanceSpec {
    let base = spec(db);
    InstanceSpec { children: format!("{}activity_supervisor = false\nactivity_dispatcher = false\n", base.children), ..base }
}

/// Waits until `run` has ended; its `show`, which may not exist yet.
async fn ended(manifest: &Path, run: &str) -> Shown {
    eventually(Duration::from_secs(90), || async {
        let doc = try_show(manifest, run)?;
        matches!(doc.run.state.as_str(), "completed" | "failed" | "cancelled" | "drifted").then_some(doc)
    })
    .await
    .unwrap_or_else(|| panic!("run {run} did not end: {:#?}", try_show(manifest, run)))
}

on_both_stores!(async fn a_cancellation_cascade_crosses_two_hosts_and_a_crash(store: Store) {
    // A tree of three levels: the root (`parent-flow`, join) has two
    // children (`parent-flow`, hold), each holding an `order-flow`
    // grandchild, which a cancellation makes refund and release (its
    // saga's clean-up activities).
    let _turn = cpu_heavy().await;
    let db = store.create().await;
    let dir = TempDir::new();
    let full = write_manifest(&dir.0, "node-a", &[spec(&db)]);
    let mut setup = Host::start(&full, &[]);
    let orders = ["o-cascade-1", "o-cascade-2"];
    let inputs: Vec<Value> = orders.iter().map(|o| json!({"mode": "hold", "workflow": "order-flow", "input": order(o)})).collect();
    let root = start_parent(&full, &json!({"mode": "join", "workflow": "parent-flow", "inputs": inputs}));
    let children: Vec<String> = (0..2).map(|op| format!("{root}-child-{op}")).collect();
    let grandchildren: Vec<String> = children.iter().map(|c| format!("{c}-child-0")).collect();
    for g in &grandchildren {
        waiting_for_review(&full, g).await;
    }
    for run in std::iter::once(&root).chain(&children) {
        eventually(Duration::from_secs(30), || async { (show_json(&full, run, None).run.state == "suspended").then_some(()) })
            .await
            .unwrap_or_else(|| panic!("{run} never parked on its children"));
    }
    // The tree is parked; its first host dies.
    setup.kill();

    // Host B runs workflows only: the cascade runs on it, and the
    // grandchildren's clean-up activities wait for a host that serves them.
    let workflows = write_manifest(&dir.0, "node-b", &[workflows_only(&db)]);
    let mut second = Host::start(&workflows, &[]);
    let said = cli_ok(&workflows, &["cancel", &root]);
    assert!(said.contains("cancelled") || said.contains("requested"), "{said}");
    for run in std::iter::once(&root).chain(&children) {
        let doc = ended(&workflows, run).await;
        assert_eq!((doc.run.state.as_str(), doc.run.error_code()), ("cancelled", Some("cancelled")), "{run}: {:#?}", doc.run);
    }
    // Each grandchild got its cancellation and scheduled its first
    // compensation, which no live host serves.
    for g in &grandchildren {
        eventually(Duration::from_secs(60), || async {
            let doc = show_json(&workflows, g, None);
            let cleaning = doc.has("cancel_delivered")
                && doc.of_kind("activity_scheduled").iter().any(|e| e.body["name"] == "refund_payment");
            cleaning.then_some(())
        })
        .await
        .unwrap_or_else(|| panic!("{g} never started its clean-up: {:#?}", show_json(&workflows, g, None)));
        let doc = show_json(&workflows, g, None);
        assert_ne!(doc.run.state, "cancelled", "{g} ended before the crash: {:#?}", doc.run);
    }
    // The host holding the cascade dies in the middle of it.
    second.kill();

    // A new host serving everything finishes the grandchildren's clean-up.
    let last = write_manifest(&dir.0, "node-c", &[spec(&db)]);
    let third = Host::start(&last, &[]);
    for g in &grandchildren {
        let doc = ended(&last, g).await;
        assert_eq!((doc.run.state.as_str(), doc.run.error_code()), ("cancelled", Some("cancelled")), "{g}: {:#?}", doc.run);
        let names: Vec<&str> = doc.of_kind("activity_scheduled").iter().filter_map(|e| e.body["name"].as_str()).collect();
        assert_eq!(names, ["reserve_stock", "charge_card", "refund_payment", "release_stock"], "{g}");
        assert_eq!(doc.of_kind("activity_completed").len(), 4, "{g}: {:?}", doc.kinds());
        assert_eq!(doc.of_kind("cancel_delivered").len(), 1, "{g}");
        assert_eq!(doc.run.parent_run_id.as_deref(), Some(children[grandchildren.iter().position(|x| x == g).unwrap_or(0)].as_str()));
        assert_exactly_once(&doc.events);
    }
    for run in std::iter::once(&root).chain(&children) {
        let doc = show_json(&last, run, None);
        assert_eq!(doc.run.state, "cancelled", "{run}");
        assert_exactly_once(&doc.events);
        assert_eq!(doc.of_kind("child_started").len(), doc.children.len(), "{run}: one run per start");
    }
    // Every activity ran once across the three hosts: the steps on the
    // first, the clean-up on the last, nothing on the workflows-only one.
    let logs = [setup.log_text(), second.log_text(), third.log_text()];
    let started = |log: &str, activity: &str| {
        log.lines().filter(|l| l.contains("activity started") && l.contains(&format!("\"{activity}\""))).count()
    };
    for (activity, host) in [("reserve_stock", 0), ("charge_card", 0), ("refund_payment", 2), ("release_stock", 2)] {
        let counts: Vec<usize> = logs.iter().map(|l| started(l.as_str(), activity)).collect();
        let mut expected = vec![0; 3];
        expected[host] = orders.len();
        assert_eq!(counts, expected, "{activity} started per host (first, workflows-only, last):\n{}", logs.join("\n----\n"));
    }
});
