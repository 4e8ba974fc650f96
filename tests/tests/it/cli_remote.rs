//! The CLI over HTTP (issue 15): every verb with `--server URL` goes
//! through a real `continuum serve`'s API instead of the database, on
//! Postgres and on SQLite, with the output and exit codes of the direct
//! path (the same run shown both ways is byte for byte the same); tokens
//! from `CONTINUUM_TOKEN` reach their own instance only; a server that is
//! down is one clear line and a non-zero exit. `start --fail-if-exists`,
//! `signal --key` and `terminate` behave the same on both paths.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::Value;

use super::http_api::{order, START};

/// The exit code, stdout and stderr of a verb.
fn outcome(out: &Output) -> (Option<i32>, String, String) {
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A verb through the server at `base`, with `token` in `CONTINUUM_TOKEN`.
fn remote(manifest: &Path, base: &str, token: Option<&str>, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["--server", base];
    all.extend_from_slice(args);
    let env: Vec<(&str, &str)> = token.map(|t| ("CONTINUUM_TOKEN", t)).into_iter().collect();
    outcome(&cli_env(manifest, &all, &env))
}

/// A verb against the database.
fn direct(manifest: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    outcome(&cli(manifest, args))
}

/// Asserts one error line on stderr and returns it.
fn one_error_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {stderr:?}");
    assert!(lines[0].starts_with("error: "), "{stderr:?}");
    lines[0]
}

async fn wait_state(manifest: &Path, run: &str, state: &str) {
    let found = eventually(Duration::from_secs(60), || async {
        (show_json(manifest, run, None).run.state == state).then_some(())
    })
    .await;
    assert!(found.is_some(), "run {run} never reached {state}: {:#?}", show_json(manifest, run, None));
}

on_both_stores!(async fn every_verb_works_over_http_as_it_does_on_the_database(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("default", &db.url)]);
    add_http(&manifest, "");
    let mut host = Host::start(&manifest, &[]);
    let base = host.http_base(START);
    let r = |args: &[&str]| remote(&manifest, &base, None, args);
    let d = |args: &[&str]| direct(&manifest, args);

    // start, then runs with filters: the same lines both ways.
    let o1 = order("o-1").to_string();
    assert_eq!(r(&["start", "order-flow", o1.as_str(), "--run-id", "o-1"]), (Some(0), "o-1\n".into(), String::new()));
    wait_state(&manifest, "o-1", "suspended").await;
    for args in [&["runs"][..], &["runs", "--state", "suspended"], &["runs", "--workflow", "billing-flow"], &["runs", "--limit", "0"]] {
        assert_eq!(r(args), d(args), "{args:?}");
    }
    let (code, listed, _) = r(&["runs", "--state", "suspended"]);
    assert!(code == Some(0) && listed.starts_with("o-1  suspended ") && listed.contains("order-flow"), "{listed}");
    assert_eq!(r(&["runs", "--workflow", "billing-flow"]).1, "");
    assert_eq!(r(&["instances"]), (Some(0), "default\n".into(), String::new()));
    assert_eq!(r(&["instances"]), d(&["instances"]));

    // signal to completion; await prints the output; show is the same
    // text and the same JSON, byte for byte.
    let signalled = r(&["signal", "o-1", "fraud_review", "\"approved\""]);
    assert_eq!(signalled, (Some(0), "signal `fraud_review` sent to run o-1\n".into(), String::new()));
    let (code, out, err) = r(&["await", "o-1", "--timeout", "60"]);
    assert_eq!(code, Some(0), "{err}");
    let output: Value = serde_json::from_str(&out).expect("await prints the output as JSON");
    assert_eq!(output["status"], "shipped", "{out}");
    assert_eq!(r(&["await", "o-1"]), d(&["await", "o-1"]));
    let (code, json, _) = r(&["show", "o-1", "--json"]);
    assert_eq!(code, Some(0));
    assert_eq!(json, d(&["show", "o-1", "--json"]).1, "show --json is the same over HTTP");
    assert!(json.contains("\"signal_received\""), "{json}");
    assert_eq!(r(&["show", "o-1"]), d(&["show", "o-1"]));
    assert_eq!(r(&["runs", "--limit", "5"]), d(&["runs", "--limit", "5"]));

    // cancel, and await of a cancelled run: exit 3 both ways.
    let o2 = order("o-2").to_string();
    assert_eq!(r(&["start", "order-flow", o2.as_str(), "--run-id", "o-2"]).0, Some(0));
    // The workflow cleans up first (order-flow's Saga): on a loaded host
    // that may take longer than the cancel waits, and the request stands.
    let (code, said, err) = r(&["cancel", "o-2"]);
    let requested = "run o-2: cancellation requested; the workflow is told and cleans up (the request stands)\n";
    assert!(code == Some(0) && (said == "run o-2 cancelled\n" || said == requested), "{said} {err}");
    wait_state(&manifest, "o-2", "cancelled").await;
    let (code, _, err) = r(&["await", "o-2", "--timeout", "30"]);
    assert_eq!((code, err.as_str()), (Some(3), "run o-2 ended cancelled\n"));
    assert_eq!(r(&["await", "o-2"]), d(&["await", "o-2"]));
    assert_eq!(r(&["cancel", "o-2"]), (Some(0), "run o-2 had already finished: cancelled\n".into(), String::new()));
    assert_eq!(r(&["cancel", "o-2"]), d(&["cancel", "o-2"]));

    // An await that times out: exit 4 and the direct path's message.
    let o3 = order("o-3").to_string();
    assert_eq!(r(&["start", "order-flow", o3.as_str(), "--run-id", "o-3"]).0, Some(0));
    let (code, out, err) = r(&["await", "o-3", "--timeout", "1"]);
    assert_eq!((code, out.as_str()), (Some(4), ""), "{err}");
    assert_eq!(one_error_line(&err), "error: run `o-3` in instance `default` did not finish within 1s");
    assert_eq!(d(&["await", "o-3", "--timeout", "1"]).2, err);

    // Errors: the direct path's exit codes, one line each.
    let cases: Vec<Vec<&str>> = vec![
        vec!["show", "nope"],
        vec!["await", "nope", "--timeout", "1"],
        vec!["signal", "nope", "fraud_review"],
        vec!["cancel", "nope"],
        vec!["signal", "o-1", "fraud_review", "\"late\""],
        vec!["start", "order-flow", "{not json"],
        vec!["start", "no-such-workflow"],
        vec!["start", "order-flow", o1.as_str(), "--run-id", "o-1", "--fail-if-exists"],
        vec!["start", "order-flow", o2.as_str(), "--run-id", "o-1"],
        vec!["start", "order-flow", "{}", "--run-id", "a b"],
        vec!["runs", "--instance", "nope"],
        vec!["runs", "--state", "bogus"],
        vec!["await", "o-1", "--timeout", "-1"],
    ];
    for args in &cases {
        let (code, out, err) = r(args);
        let (dcode, dout, derr) = d(args);
        assert_eq!((code, out.as_str()), (dcode, dout.as_str()), "{args:?}: {err} / direct: {derr}");
        assert_eq!(code, Some(2), "{args:?}: {err}");
        one_error_line(&err);
        one_error_line(&derr);
    }
    let (_, _, err) = r(&["show", "nope"]);
    assert_eq!(err, d(&["show", "nope"]).2, "an unknown run is the same message");

    // deploy (the current component again) and the workflows it lists.
    let flow = component("order_flow");
    let (code, out, err) = r(&["deploy", "order-flow", flow.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("deployed order-flow version ") && out.ends_with(" (0 run(s) migrated)\n"), "{out}");
    assert_eq!(r(&["workflows"]), d(&["workflows"]));
    assert!(r(&["workflows"]).1.contains("  (current)"));
    let (code, _, err) = r(&["deploy", "order-flow", "/no/such/file.wasm"]);
    assert_eq!(code, Some(2));
    assert!(one_error_line(&err).contains("/no/such/file.wasm"), "{err}");
    let not_wasm = dir.0.join("not.wasm");
    std::fs::write(&not_wasm, b"not wasm").unwrap();
    let (code, _, err) = r(&["deploy", "order-flow", not_wasm.to_str().unwrap()]);
    assert_eq!((code, d(&["deploy", "order-flow", not_wasm.to_str().unwrap()]).0), (Some(2), Some(2)), "{err}");

    // Verbs that run in this process refuse a server.
    for verb in ["serve", "demo"] {
        let (code, _, err) = r(&[verb]);
        assert_eq!(code, Some(2), "{verb}");
        assert!(one_error_line(&err).contains(&format!("`continuum {verb}` runs in this process")), "{err}");
    }
    // Schedules, through the server as against the database.
    let (code, out, err) = r(&["schedule", "create", "nightly", "--workflow", "order-flow", "--cron", "0 2 * * *", "--time-zone", "Europe/Paris"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("schedule nightly created; next tick 20"), "{out}");
    assert_eq!(r(&["schedule", "list"]), d(&["schedule", "list"]));
    assert_eq!(r(&["schedule", "list", "--json"]), d(&["schedule", "list", "--json"]));
    assert_eq!(r(&["schedule", "pause", "nightly"]), (Some(0), "schedule nightly paused\n".into(), String::new()));
    assert!(d(&["schedule", "list"]).1.contains("paused"), "paused through the server: {:?}", d(&["schedule", "list"]));
    let (code, out, _) = r(&["schedule", "resume", "nightly"]);
    assert!(code == Some(0) && out.starts_with("schedule nightly resumed; next tick 20"), "{out}");
    for bad in [
        &["schedule", "create", "nightly", "--workflow", "order-flow", "--cron", "0 2 * * *"][..],
        &["schedule", "create", "x", "--workflow", "order-flow", "--cron", "61 * * * *"],
        &["schedule", "create", "x", "--workflow", "order-flow", "--at", "tomorrow"],
        &["schedule", "create", "x", "--workflow", "no-such-flow", "--cron", "* * * * *"],
        &["schedule", "pause", "ghost"],
    ] {
        let (code, _, err) = r(bad);
        assert_eq!((code, one_error_line(&err)), (Some(2), one_error_line(&d(bad).2)), "{bad:?}: {err}");
    }
    assert_eq!(r(&["schedule", "delete", "nightly"]), (Some(0), "schedule nightly deleted\n".into(), String::new()));
    assert_eq!(d(&["schedule", "list"]), (Some(0), String::new(), String::new()));
    let env_server = cli_env(&manifest, &["instances"], &[("CONTINUUM_SERVER", base.as_str())]);
    assert_eq!(outcome(&env_server), (Some(0), "default\n".into(), String::new()), "CONTINUUM_SERVER is --server");

    // A bad URL; then the server down: one line, exit 1, nothing printed.
    let (code, _, err) = remote(&manifest, "localhost:1", None, &["runs"]);
    assert_eq!(code, Some(2));
    assert!(one_error_line(&err).contains("invalid --server `localhost:1`"), "{err}");
    host.kill();
    for args in [&["runs"][..], &["show", "o-1"], &["start", "order-flow"], &["await", "o-1"]] {
        let (code, out, err) = r(args);
        assert_eq!((code, out.as_str()), (Some(1), ""), "{args:?}: {err}");
        let line = one_error_line(&err);
        assert!(line.starts_with(&format!("error: cannot reach server {base}: ")), "{line}");
        assert!(line.to_lowercase().contains("refused"), "{line}");
    }
});

on_both_stores!(async fn deploy_and_replay_over_http_check_the_runs_in_flight(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let spec = InstanceSpec {
        workflows: vec![("drift".into(), component("drift_v1"))],
        activities: vec![component("bench_activities")],
        ..InstanceSpec::examples("default", &db.url)
    };
    let manifest = write_manifest(&dir.0, "node-a", &[spec]);
    add_http(&manifest, "");
    let host = Host::start(&manifest, &[]);
    let base = host.http_base(START);
    let r = |args: &[&str]| remote(&manifest, &base, None, args);
    let d = |args: &[&str]| direct(&manifest, args);
    let (code, old, _) = r(&["start", "drift", "{}", "--run-id", "old"]);
    assert_eq!((code, old.as_str()), (Some(0), "old\n"));
    wait_state(&manifest, "old", "suspended").await;
    let (v2, v3) = (component("drift_v2"), component("drift_v3"));
    let (v2, v3) = (v2.to_str().unwrap(), v3.to_str().unwrap());

    // replay: the same verdicts and exit codes both ways.
    for args in [
        &["replay", "--workflow", "drift", "--module", v2][..],
        &["replay", "--module", v2, "old"],
        &["replay", "--module", v3, "old"],
        &["replay", "--workflow", "drift", "--module", v3, "nope"],
    ] {
        assert_eq!(r(args), d(args), "{args:?}");
    }
    let (code, out, _) = r(&["replay", "--module", v2, "old"]);
    assert_eq!(code, Some(3));
    assert!(out.contains("run old: incompatible") && out.ends_with("1 run(s) replayed, some incompatible\n"), "{out}");

    // deploy --check refuses v2 (exit 3, the runs named), takes v3 and
    // migrates the run.
    let (code, out, err) = r(&["deploy", "drift", v2, "--check", "--migrate"]);
    assert_eq!((code, out.as_str()), (Some(3), ""), "{err}");
    assert!(one_error_line(&err).contains("refused") && err.contains("old"), "{err}");
    let (code, out, err) = r(&["deploy", "drift", v3, "--check", "--migrate", "old"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("run old: compatible") && out.contains("(1 run(s) migrated)"), "{out}");
    let (_, listed, _) = r(&["workflows"]);
    assert_eq!(listed.lines().count(), 3, "drift and its two versions: {listed}");
    assert_eq!(r(&["workflows"]), d(&["workflows"]));
    assert_eq!(r(&["signal", "old", "go", "\"late\""]).0, Some(0));
    let (code, out, _) = r(&["await", "old", "--timeout", "60"]);
    let out: Value = serde_json::from_str(&out).unwrap_or_default();
    assert_eq!((code, out["version"].as_i64()), (Some(0), Some(3)), "{out}");
});

on_both_stores!(async fn a_token_from_the_environment_reaches_its_own_instance_only(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest =
        write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("a", &db.url), InstanceSpec::examples("b", &db.url)]);
    add_http(&manifest, "admin_token = \"tok-admin\"\n[http.tokens]\na = \"tok-a\"\nb = \"tok-b\"");
    let host = Host::start(&manifest, &[]);
    let base = host.http_base(START);
    let r = |token: Option<&str>, args: &[&str]| remote(&manifest, &base, token, args);

    let o = order("o").to_string();
    assert_eq!(r(Some("tok-a"), &["start", "order-flow", o.as_str(), "--instance", "a", "--run-id", "r"]).0, Some(0));
    assert_eq!(r(Some("tok-b"), &["start", "order-flow", o.as_str(), "--instance", "b", "--run-id", "r"]).0, Some(0));
    assert_eq!(r(Some("tok-a"), &["instances"]).1, "a\n");
    assert_eq!(r(Some("tok-admin"), &["instances"]).1, "a\nb\n");

    // a's token on b: every verb refused, exit 2, one line naming b.
    let v = component("order_flow");
    let v = v.to_str().unwrap();
    let verbs: Vec<Vec<&str>> = vec![
        vec!["runs"],
        vec!["show", "r"],
        vec!["show", "r", "--json"],
        vec!["await", "r", "--timeout", "1"],
        vec!["signal", "r", "fraud_review", "\"approved\""],
        vec!["cancel", "r"],
        vec!["terminate", "r"],
        vec!["start", "order-flow", "{}"],
        vec!["workflows"],
        vec!["deploy", "order-flow", v],
        vec!["replay", "--workflow", "order-flow", "--module", v],
    ];
    for verb in &verbs {
        let mut args = verb.clone();
        args.extend(["--instance", "b"]);
        let (code, out, err) = r(Some("tok-a"), &args);
        assert_eq!((code, out.as_str()), (Some(2), ""), "{args:?}: {err}");
        assert_eq!(one_error_line(&err), "error: this token does not give access to instance `b`", "{args:?}");
        // No token: the message says where the token goes.
        let (code, _, err) = r(None, &args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(one_error_line(&err).contains("set CONTINUUM_TOKEN"), "{err}");
    }
    let (code, _, err) = r(Some("tok-wrong"), &["runs", "--instance", "a"]);
    assert_eq!(code, Some(2));
    assert!(one_error_line(&err).contains("unknown token") && err.contains("refused the token in CONTINUUM_TOKEN"), "{err}");

    // b's run is as it was; a's own token still works on a.
    let (code, shown, _) = r(Some("tok-b"), &["show", "r", "--instance", "b", "--json"]);
    let shown: Value = serde_json::from_str(&shown).unwrap_or_default();
    assert_eq!(code, Some(0));
    assert!(shown["run"]["state"] != "cancelled" && shown["run"]["cancel_requested_at"].is_null(), "{shown}");
    let said = r(Some("tok-a"), &["cancel", "r", "--instance", "a"]).1;
    assert!(said == "run r cancelled\n" || said.starts_with("run r: cancellation requested"), "{said}");
});

/// `start --fail-if-exists`, `signal --key` and `terminate`, through `run`
/// (one path to the runs); run ids start with `p`, one prefix per path.
async fn idempotence_and_terminate(manifest: &Path, p: &str, run: &dyn Fn(&[&str]) -> (Option<i32>, String, String)) {
    let id = format!("{p}-1");
    let input = order(&id).to_string();
    let other = order(&format!("{p}-other")).to_string();
    let start = |input: &str, extra: &[&str]| {
        let mut args = vec!["start", "order-flow", input, "--run-id", id.as_str()];
        args.extend_from_slice(extra);
        run(&args)
    };
    assert_eq!(start(&input, &[]), (Some(0), format!("{id}\n"), String::new()), "{p}");
    // The same start again: the run, a note on stderr, exit 0.
    let note = format!("continuum: run `{id}` exists with the same workflow and input: not started again\n");
    assert_eq!(start(&input, &[]), (Some(0), format!("{id}\n"), note), "{p}");
    // Refused: asked to, or another input (exit 2, one line each).
    let (code, out, err) = start(&input, &["--fail-if-exists"]);
    assert_eq!((code, out.as_str()), (Some(2), ""), "{p}: {err}");
    assert!(one_error_line(&err).contains(&format!("run `{id}` already exists in instance `default`")), "{p}: {err}");
    let (code, out, err) = start(&other, &[]);
    assert_eq!((code, out.as_str()), (Some(2), ""), "{p}: {err}");
    assert!(one_error_line(&err).contains("/order_id"), "{p}: {err}");
    let (code, _, err) = run(&["start", "order-flow", input.as_str(), "--fail-if-exists"]);
    assert_eq!(code, Some(2), "{p}: --fail-if-exists needs --run-id: {err}");

    // The review, sent three times with one key, reaches the run once.
    let sent = format!("signal `fraud_review` sent to run {id}\n");
    let again = format!("signal `fraud_review` was sent to run {id} before with key `k-1`: not sent again\n");
    let signal = |payload: &str| run(&["signal", id.as_str(), "fraud_review", payload, "--key", "k-1"]);
    assert_eq!(signal("\"approved\""), (Some(0), sent, String::new()), "{p}");
    assert_eq!(signal("\"approved\""), (Some(0), again.clone(), String::new()), "{p}");
    assert_eq!(signal("\"approved\""), (Some(0), again, String::new()), "{p}");
    let (code, out, err) = signal("\"rejected\"");
    assert_eq!((code, out.as_str()), (Some(2), ""), "{p}: {err}");
    assert!(one_error_line(&err).contains("idempotency key `k-1`"), "{p}: {err}");
    let (code, out, err) = run(&["await", id.as_str(), "--timeout", "60"]);
    assert_eq!(code, Some(0), "{p}: {err}");
    let output: Value = serde_json::from_str(&out).expect("await prints the output as JSON");
    assert_eq!(output["status"], "shipped", "{p}: {out}");
    let doc = show_json(manifest, &id, None);
    assert_eq!(doc.kinds().iter().filter(|k| **k == "signal_received").count(), 1, "{p}: {:?}", doc.kinds());

    // terminate: a parked run ends cancelled at once (error `terminated`);
    // again, it had finished; an unknown run is exit 2.
    let parked = format!("{p}-2");
    let input = order(&parked).to_string();
    assert_eq!(run(&["start", "order-flow", input.as_str(), "--run-id", parked.as_str()]).0, Some(0), "{p}");
    wait_state(manifest, &parked, "suspended").await;
    assert_eq!(run(&["terminate", parked.as_str()]), (Some(0), format!("run {parked} terminated\n"), String::new()), "{p}");
    let doc = show_json(manifest, &parked, None);
    assert_eq!((doc.run.state.as_str(), doc.run.error_code()), ("cancelled", Some("terminated")), "{p}: {:#?}", doc.run);
    let (code, _, err) = run(&["await", parked.as_str(), "--timeout", "10"]);
    assert_eq!((code, err), (Some(3), format!("run {parked} ended cancelled\n")), "{p}");
    let done = format!("run {parked} had already finished: cancelled\n");
    assert_eq!(run(&["terminate", parked.as_str()]), (Some(0), done, String::new()), "{p}");
    let (code, out, err) = run(&["terminate", "nope"]);
    assert_eq!((code, out.as_str()), (Some(2), ""), "{p}: {err}");
    one_error_line(&err);
}

on_both_stores!(async fn idempotent_starts_keyed_signals_and_terminate_work_on_both_paths(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("default", &db.url)]);
    add_http(&manifest, "");
    let host = Host::start(&manifest, &[]);
    let base = host.http_base(START);
    idempotence_and_terminate(&manifest, "d", &|args| direct(&manifest, args)).await;
    idempotence_and_terminate(&manifest, "r", &|args| remote(&manifest, &base, None, args)).await;
    // The same refusals say the same thing both ways.
    for args in [
        &["start", "order-flow", "{}", "--run-id", "d-1", "--fail-if-exists"][..],
        &["signal", "d-1", "fraud_review", "\"rejected\"", "--key", "k-1"],
        &["terminate", "nope"],
    ] {
        assert_eq!(remote(&manifest, &base, None, args), direct(&manifest, args), "{args:?}");
    }
    let mut sql = db.sql().await;
    assert_eq!(sql.int("SELECT count(*) FROM signals", &[]).await, 2, "one keyed signal per path");
});
