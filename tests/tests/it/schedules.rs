//! Schedules (issue 16) against the real binary, on both stores: a cron
//! schedule ticking every second fires each tick exactly once while three
//! `continuum serve` hosts share the database and one is killed (SIGKILL);
//! the `skip` overlap policy; the catch-up window after every host was
//! down; pause, resume and delete; a one-shot schedule; a schedule the
//! manifest declares; bad input refused with one line, nothing written;
//! and all of it over the HTTP API.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::{json, Value};

use crate::bad_modules::assert_one_line_refusal;

/// A billing flow with no cycle: it completes at once.
fn quick_input() -> String {
    json!({"customer": "c", "amount_cents": 1, "cycles": 0, "interval_ms": 1}).to_string()
}

/// A billing flow that sleeps a minute first: it stays unfinished.
fn slow_input() -> String {
    json!({"customer": "c", "amount_cents": 1, "cycles": 1, "interval_ms": 60_000}).to_string()
}

fn manifest(dir: &Path, db: &StoreDb, node: &str, extra: &str) -> PathBuf {
    let mut spec = InstanceSpec::examples("default", &db.url);
    spec.children.push_str("scheduler = { poll_interval_ms = 300 }\n");
    let path = write_manifest(dir, node, &[spec]);
    if !extra.is_empty() {
        let mut text = std::fs::read_to_string(&path).expect("read manifest");
        text.push_str(extra);
        std::fs::write(&path, text).expect("write manifest");
    }
    path
}

fn schedules(manifest: &Path) -> Vec<Value> {
    let out = cli_ok(manifest, &["schedule", "list", "--json"]);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("schedule list --json: {e}: {out}"))
}

fn schedule(manifest: &Path, name: &str) -> Value {
    schedules(manifest).into_iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("no schedule {name}"))
}

/// The run ids of schedule `name`, in tick order.
async fn runs_of(db: &StoreDb, name: &str) -> Vec<String> {
    let mut sql = db.sql().await;
    let pattern = format!("{name}@%");
    sql.texts("SELECT run_id FROM runs WHERE instance = 'default' AND run_id LIKE $1 ORDER BY run_id", &[Arg::Text(&pattern)]).await
}

fn tick_of(run_id: &str) -> DateTime<Utc> {
    let (_, tick) = run_id.split_once('@').expect("NAME@TICK");
    DateTime::parse_from_rfc3339(tick).expect("an RFC 3339 tick").with_timezone(&Utc)
}

fn wait_started(host: &Host) {
    assert!(host.wait_for_log("instance started", Duration::from_secs(60)), "host did not start:\n{}", host.log_text());
}

/// The run ids a host's log says it fired, a line each.
fn fired_in(log: &str) -> Vec<String> {
    strip_ansi(log)
        .lines()
        .filter(|l| l.contains("schedule fired"))
        .filter_map(|l| l.split("run_id=").nth(1).and_then(|rest| rest.split([' ', '}']).next()).map(str::to_string))
        .collect()
}

on_both_stores!(async fn each_tick_fires_once_across_three_hosts_and_a_kill(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifests: Vec<PathBuf> = (1..=3).map(|n| manifest(&dir.0, &db, &format!("node-{n}"), "")).collect();
    let mut hosts: Vec<Host> = manifests.iter().map(|m| Host::start(m, &[])).collect();
    hosts.iter().for_each(wait_started);
    let m = &manifests[0];
    cli_ok(m, &["schedule", "create", "every", "--cron", "* * * * * *", "--workflow", "billing-flow", "--input", &quick_input(), "--overlap", "allow"]);

    tokio::time::sleep(Duration::from_millis(3500)).await;
    hosts[1].kill();
    tokio::time::sleep(Duration::from_millis(4500)).await;
    cli_ok(m, &["schedule", "pause", "every"]);
    // A tick being fired when the pause landed ends first.
    tokio::time::sleep(Duration::from_millis(1000)).await;

    let runs = runs_of(&db, "every").await;
    assert!(runs.len() >= 5, "only {} runs in 8 s: {runs:?}", runs.len());
    // No tick lost: the runs' ticks are every second, without a gap.
    let ticks: Vec<DateTime<Utc>> = runs.iter().map(|r| tick_of(r)).collect();
    for pair in ticks.windows(2) {
        assert_eq!((pair[1] - pair[0]).num_milliseconds(), 1000, "a tick is missing between {} and {}", pair[0], pair[1]);
    }
    // No tick fired twice: each run was started by one host (a run a host
    // created just before it was killed may have no line of its own).
    let mut fired: Vec<String> = Vec::new();
    for h in &hosts {
        fired.extend(fired_in(&h.log_text()));
    }
    let distinct: BTreeSet<&String> = fired.iter().collect();
    assert_eq!(distinct.len(), fired.len(), "a tick fired twice: {fired:?}");
    assert!(fired.iter().all(|id| runs.contains(id)), "fired {fired:?}, runs {runs:?}");
    assert!(fired.len() + 1 >= runs.len(), "runs no host fired: fired {fired:?}, runs {runs:?}");
    let s = schedule(m, "every");
    assert_eq!(s["skipped"], 0, "{s}");
    assert_eq!(s["state"], "paused", "{s}");
    let counted = s["fired"].as_u64().unwrap_or_default() as usize;
    assert!(counted == runs.len() || counted + 1 == runs.len(), "fired {counted}, runs {}", runs.len());
    // And every run completed.
    let done = eventually(Duration::from_secs(30), || async {
        let mut sql = db.sql().await;
        let left = sql.int("SELECT count(*) FROM runs WHERE run_id LIKE 'every@%' AND state <> 'completed'", &[]).await;
        (left == 0).then_some(())
    })
    .await;
    assert!(done.is_some(), "scheduled runs did not all complete");
});

on_both_stores!(async fn overlap_skip_and_the_catch_up_window(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let m = manifest(&dir.0, &db, "node-a", "");
    // Created while no host runs: its ticks are missed until one starts.
    cli_ok(&m, &["schedule", "create", "late", "--cron", "* * * * * *", "--workflow", "billing-flow", "--input", &quick_input(),
        "--catch-up-ms", "1000", "--overlap", "allow"]);
    let first_tick: DateTime<Utc> =
        DateTime::parse_from_rfc3339(schedule(&m, "late")["next_fire_at"].as_str().expect("a next tick")).expect("a time").with_timezone(&Utc);
    tokio::time::sleep(Duration::from_millis(4000)).await;
    let started_at = Utc::now();
    let host = Host::start(&m, &[]);
    wait_started(&host);
    cli_ok(&m, &["schedule", "create", "slow", "--cron", "* * * * * *", "--workflow", "billing-flow", "--input", &slow_input()]);
    tokio::time::sleep(Duration::from_millis(3500)).await;
    cli_ok(&m, &["schedule", "pause", "late"]);
    cli_ok(&m, &["schedule", "pause", "slow"]);
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Catch-up: the ticks of the downtime older than a second were skipped
    // and counted, not fired.
    let late = schedule(&m, "late");
    assert!(late["skipped"].as_u64().unwrap_or_default() >= 2, "{late}");
    let runs = runs_of(&db, "late").await;
    assert!(!runs.is_empty(), "the schedule went on after the downtime");
    assert!(runs.iter().all(|r| tick_of(r) > first_tick), "the first missed tick fired: {runs:?}");
    let oldest = tick_of(&runs[0]);
    assert!(oldest >= started_at - chrono::Duration::milliseconds(1500), "a tick {oldest} older than the window fired (host up at {started_at})");

    // Overlap skip: the first run is still sleeping, so the later ticks
    // were skipped.
    let slow = runs_of(&db, "slow").await;
    assert_eq!(slow.len(), 1, "{slow:?}");
    let s = schedule(&m, "slow");
    assert!(s["skipped"].as_u64().unwrap_or_default() >= 2, "{s}");
    assert_eq!(s["last_run_id"], slow[0].as_str(), "{s}");
    drop(host);
});

on_both_stores!(async fn pause_resume_delete_one_shot_and_the_manifest(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let declared = format!(
        "\n[instances.default.schedules.declared]\nworkflow = \"billing-flow\"\ncron = \"*/2 * * * * *\"\ntime_zone = \"Europe/Paris\"\ninput = {{ customer = \"m\", amount_cents = 1, cycles = 0, interval_ms = 1 }}\n"
    );
    let m = manifest(&dir.0, &db, "node-a", &declared);
    let host = Host::start(&m, &[]);
    wait_started(&host);

    let at = (Utc::now() + chrono::Duration::seconds(2)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    cli_ok(&m, &["schedule", "create", "once", "--at", &at, "--workflow", "billing-flow", "--input", &quick_input()]);
    cli_ok(&m, &["schedule", "create", "held", "--cron", "* * * * * *", "--workflow", "billing-flow", "--input", &quick_input()]);
    cli_ok(&m, &["schedule", "pause", "held"]);
    let listed = cli_ok(&m, &["schedule", "list"]);
    assert!(listed.contains("held") && listed.contains("paused") && listed.contains("declared") && listed.contains("once"), "{listed}");

    let fired = eventually(Duration::from_secs(15), || async {
        let runs = runs_of(&db, "once").await;
        (!runs.is_empty() && runs_of(&db, "declared").await.len() >= 2).then_some(runs)
    })
    .await
    .expect("the one-shot and the declared schedule fire");
    assert_eq!(fired.len(), 1);
    assert_eq!(tick_of(&fired[0]), DateTime::parse_from_rfc3339(&at).unwrap().with_timezone(&Utc));
    let once = schedule(&m, "once");
    assert_eq!((once["state"].as_str(), once["fired"].as_u64(), once["next_fire_at"].is_null()), (Some("done"), Some(1), true), "{once}");
    let declared = schedule(&m, "declared");
    assert_eq!((declared["origin"].as_str(), declared["time_zone"].as_str()), (Some("manifest"), Some("Europe/Paris")), "{declared}");
    assert!(runs_of(&db, "declared").await.iter().all(|r| tick_of(r).timestamp() % 2 == 0));

    // Paused: nothing more fires (a tick may have fired between its
    // creation and the pause); resumed: it fires; deleted: it stops.
    let while_paused = runs_of(&db, "held").await.len();
    assert!(while_paused <= 2, "{while_paused} runs of a schedule paused at once");
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(runs_of(&db, "held").await.len(), while_paused, "a paused schedule fired");
    assert_eq!(schedule(&m, "held")["state"], "paused");
    cli_ok(&m, &["schedule", "resume", "held"]);
    let resumed = eventually(Duration::from_secs(10), || async {
        let n = runs_of(&db, "held").await.len();
        (n >= while_paused + 2).then_some(n)
    })
    .await;
    assert!(resumed.is_some(), "a resumed schedule fires");
    cli_ok(&m, &["schedule", "delete", "held"]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after_delete = runs_of(&db, "held").await.len();
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(runs_of(&db, "held").await.len(), after_delete, "a deleted schedule fired");
    assert!(schedules(&m).iter().all(|s| s["name"] != "held"));
    drop(host);
});

on_both_stores!(async fn bad_schedules_are_refused_with_one_line_and_nothing_written(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let m = manifest(&dir.0, &db, "node-a", "");
    let create = |extra: &[&str]| {
        let mut args = vec!["schedule", "create", "s", "--workflow", "billing-flow"];
        args.extend_from_slice(extra);
        cli(&m, &args)
    };
    assert_one_line_refusal(&create(&["--cron", "61 * * * *"]), "bad cron", &["schedule `s`", "invalid cron expression `61 * * * *`"]);
    assert_one_line_refusal(&create(&["--cron", "* * * * *", "--time-zone", "Mars/Olympus"]), "bad zone", &["unknown time zone `Mars/Olympus`"]);
    assert_one_line_refusal(&create(&["--cron", "0 0 30 2 *"]), "never", &["never matches"]);
    assert_one_line_refusal(&create(&["--at", "2001-01-01T00:00:00Z"]), "past", &["one-shot time 2001-01-01T00:00:00Z is in the past"]);
    assert_one_line_refusal(&create(&["--at", "tomorrow"]), "bad time", &["invalid at `tomorrow`"]);
    assert_one_line_refusal(&create(&["--cron", "* * * * *", "--overlap", "sometimes"]), "bad overlap", &["invalid overlap `sometimes`"]);
    assert_one_line_refusal(&create(&["--cron", "* * * * *", "--input", "{nope"]), "bad input", &["invalid JSON input"]);
    let other = cli(&m, &["schedule", "create", "s", "--workflow", "no-such-flow", "--cron", "* * * * *"]);
    assert_one_line_refusal(&other, "unknown workflow", &["unknown workflow `no-such-flow`"]);
    let bad_name = cli(&m, &["schedule", "create", "a@b", "--workflow", "billing-flow", "--cron", "* * * * *"]);
    assert_one_line_refusal(&bad_name, "bad name", &["schedule `a@b`", "`@`"]);
    for verb in ["pause", "resume", "delete"] {
        assert_one_line_refusal(&cli(&m, &["schedule", verb, "ghost"]), verb, &["schedule `ghost` not found in instance `default`"]);
    }
    assert!(schedules(&m).is_empty(), "a refused schedule was written");

    cli_ok(&m, &["schedule", "create", "s", "--workflow", "billing-flow", "--cron", "0 9 * * 1-5", "--time-zone", "Europe/Paris"]);
    assert_one_line_refusal(&create(&["--cron", "* * * * *"]), "twice", &["schedule `s` already exists"]);
    let s = schedule(&m, "s");
    assert_eq!((s["cron"].as_str(), s["fired"].as_u64()), (Some("0 9 * * 1-5"), Some(0)), "{s}");

    // In the manifest: the key is named.
    let bad = manifest(&dir.0, &db, "node-bad", "\n[instances.default.schedules.x]\nworkflow = \"billing-flow\"\ncron = \"* * *\"\n");
    assert_one_line_refusal(&cli(&bad, &["schedule", "list"]), "manifest cron", &["instances.default.schedules.x.cron"]);
    let bad = manifest(&dir.0, &db, "node-bad", "\n[instances.default.schedules.x]\nworkflow = \"billing-flow\"\ncron = \"* * * * *\"\ntime_zone = \"Nowhere\"\n");
    assert_one_line_refusal(&cli(&bad, &["schedule", "list"]), "manifest zone", &["instances.default.schedules.x.time_zone", "Nowhere"]);
    let bad = manifest(&dir.0, &db, "node-bad", "\n[instances.default.schedules.x]\nworkflow = \"nope\"\ncron = \"* * * * *\"\n");
    assert_one_line_refusal(&cli(&bad, &["schedule", "list"]), "manifest workflow", &["instances.default.schedules.x.workflow", "nope"]);
});

on_both_stores!(async fn schedules_over_the_http_api(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let m = manifest(&dir.0, &db, "node-a", "");
    add_http(&m, "");
    let host = Host::start(&m, &[]);
    let api = Api::new(&host.http_base(Duration::from_secs(60))).checked().await;
    let path = "/v1/instances/default/schedules";

    // Created over HTTP, it fires (the host serving the API fires it too).
    let every = json!({"name": "every", "workflow": "billing-flow", "cron": "* * * * * *",
                       "input": serde_json::from_str::<Value>(&quick_input()).unwrap(), "overlap": "allow"});
    let a = api.post(path, &every).await;
    assert_eq!((a.status, a.body["state"].as_str(), a.body["origin"].as_str()), (201, Some("active"), Some("api")), "{a:?}");
    let fired = eventually(Duration::from_secs(30), || async { (runs_of(&db, "every").await.len() >= 2).then_some(()) }).await;
    assert!(fired.is_some(), "a schedule created over HTTP did not fire");
    let a = api.get(path).await;
    assert_eq!((a.status, a.body["schedules"].as_array().map(Vec::len)), (200, Some(1)), "{a:?}");
    let listed = schedule(&m, "every");
    for field in ["name", "workflow", "input", "cron", "time_zone", "at", "overlap", "catch_up_ms", "state", "origin"] {
        assert_eq!(a.body["schedules"][0][field], listed[field], "{field}: the API and the CLI list the schedule alike");
    }

    // Pause: no tick fires; resume: it fires again.
    let a = api.post(&format!("{path}/every/pause"), &json!({})).await;
    assert_eq!((a.status, a.body["paused"].as_bool(), a.body["state"].as_str()), (200, Some(true), Some("paused")), "{a:?}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let paused_at = runs_of(&db, "every").await.len();
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(runs_of(&db, "every").await.len(), paused_at, "a paused schedule fired");
    let a = api.post(&format!("{path}/every/resume"), &json!({})).await;
    assert_eq!((a.status, a.body["paused"].as_bool()), (200, Some(false)), "{a:?}");
    let resumed = eventually(Duration::from_secs(30), || async { (runs_of(&db, "every").await.len() > paused_at).then_some(()) }).await;
    assert!(resumed.is_some(), "a resumed schedule did not fire");

    // Bad input: a stable code, one line, nothing written.
    let bad: [(Value, u16, &str, &str); 6] = [
        (json!({"name": "x", "workflow": "billing-flow", "cron": "61 * * * *"}), 400, "invalid_schedule", "invalid cron expression"),
        (json!({"name": "x", "workflow": "billing-flow", "at": "tomorrow"}), 400, "invalid_schedule", "invalid at `tomorrow`"),
        (json!({"name": "x", "workflow": "billing-flow", "at": "2001-01-01T00:00:00Z"}), 400, "invalid_schedule", "in the past"),
        (json!({"name": "x", "workflow": "billing-flow", "cron": "* * * * *", "every": 5}), 400, "invalid_json", "every"),
        (json!({"name": "x", "workflow": "no-such-flow", "cron": "* * * * *"}), 404, "unknown_workflow", "no-such-flow"),
        (json!({"name": "every", "workflow": "billing-flow", "cron": "* * * * *"}), 409, "schedule_exists", "already exists"),
    ];
    for (body, status, code, needle) in bad {
        let a = api.post(path, &body).await;
        assert_eq!((a.status, a.code()), (status, code), "{body}: {a:?}");
        assert!(a.message().contains(needle) && !a.message().contains('\n'), "{body}: {a:?}");
    }
    for (method, p) in [("POST", format!("{path}/ghost/pause")), ("POST", format!("{path}/ghost/resume")), ("DELETE", format!("{path}/ghost"))] {
        let a = api.raw(method, &p, None).await;
        assert_eq!((a.status, a.code()), (404, "unknown_schedule"), "{method} {p}: {a:?}");
    }
    assert_eq!(schedules(&m).len(), 1, "a refused schedule was written");

    // Delete: gone, and its runs stay.
    let runs = runs_of(&db, "every").await.len();
    let a = api.raw("DELETE", &format!("{path}/every"), None).await;
    assert_eq!((a.status, a.body["deleted"].as_bool()), (200, Some(true)), "{a:?}");
    assert_eq!(api.get(path).await.body, json!({"schedules": []}));
    assert!(runs_of(&db, "every").await.len() >= runs, "deleting a schedule removed its runs");
    drop(host);
});
