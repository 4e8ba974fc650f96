//! The conformance suite (`docs/conformance.md`): every guest language runs
//! the same cases, with exactly the same outputs and journal facts, through
//! the real `continuum` binary, on Postgres and on SQLite.
//!
//! Per store, one host serves every language's conformance workflow (and
//! the shared `conformance_activities`); every case of every language runs
//! at once. Then each language's `clock_random` run is started, the host is
//! killed with SIGKILL during its sleep, and a new host finishes it by
//! replay; meanwhile each language's `drift` run, parked in v1, is moved to
//! v2 with `deploy --migrate` and must end `drifted`.
//!
//! `CONTINUUM_CONFORMANCE_LANGUAGES=rust,python` restricts the languages
//! (while a language is being written); by default all of [`LANGUAGES`]
//! run, and a language whose components are missing fails the suite.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::{json, Value};

/// Every guest language: its components are `<language>_conformance` and
/// `<language>_conformance_v2`.
const LANGUAGES: [&str; 4] = ["rust", "python", "js", "c"];

/// How long `clock_random` sleeps: the host is killed during the sleep, so
/// every language's run must have parked on it before the first wakes.
const CLOCK_SLEEP_MS: u64 = 4_000;
/// The short timers: `timer`, and the signal cases that time out.
const SHORT_MS: u64 = 300;
/// The signal cases that get their signal wait this long at most.
const LONG_MS: u64 = 60_000;
/// The schedule-to-start timeout of `unserved`'s call (the host fails it
/// on its recovery tick after the deadline; [`RUN_DEADLINE`] leaves slack).
const UNSERVED_MS: u64 = 500;
/// How long one run may take to finish (or park) before the suite gives up.
const RUN_DEADLINE: Duration = Duration::from_secs(90);

/// A language under test: its workflow name and its two components.
struct Language {
    name: &'static str,
    workflow: String,
    v1: PathBuf,
    v2: PathBuf,
}

/// The languages to run: `CONTINUUM_CONFORMANCE_LANGUAGES` (comma-separated)
/// or all of them.
fn selected() -> Vec<&'static str> {
    let Ok(list) = std::env::var("CONTINUUM_CONFORMANCE_LANGUAGES") else { return LANGUAGES.to_vec() };
    list.split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            *LANGUAGES
                .iter()
                .find(|known| **known == l)
                .unwrap_or_else(|| panic!("CONTINUUM_CONFORMANCE_LANGUAGES names `{l}`; the languages are {LANGUAGES:?}"))
        })
        .collect()
}

/// The selected languages whose components exist, and a failure for each
/// one whose components are missing.
fn languages(failures: &Failures) -> Vec<Language> {
    let dir = components();
    let mut found = Vec::new();
    for name in selected() {
        let v1 = dir.join(format!("{name}_conformance.wasm"));
        let v2 = dir.join(format!("{name}_conformance_v2.wasm"));
        let missing: Vec<String> = [&v1, &v2].iter().filter(|p| !p.exists()).map(|p| p.display().to_string()).collect();
        if missing.is_empty() {
            found.push(Language { name, workflow: format!("{name}-conformance"), v1, v2 });
        } else {
            failures.add(name, "components", format!("missing {}", missing.join(" and ")));
        }
    }
    found
}

/// The failures of the suite, each naming its language and case.
#[derive(Default)]
struct Failures(Mutex<Vec<String>>);

impl Failures {
    fn add(&self, language: &str, case: &str, message: impl Into<String>) {
        let line = format!("{language} / {case}: {}", message.into());
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(line);
    }

    /// Records `check`'s error, if any.
    fn check(&self, language: &str, case: &str, check: Result<(), String>) {
        if let Err(e) = check {
            self.add(language, case, e);
        }
    }

    fn assert_none(self, store: Store) {
        let failures = self.0.into_inner().unwrap_or_else(|e| e.into_inner());
        assert!(failures.is_empty(), "conformance on {store:?} failed:\n  {}", failures.join("\n  "));
    }
}

/// A case run that completes with an output: its name as reported, its
/// input, the signal sent once it waits (name, payload), and its output.
struct Completing {
    label: &'static str,
    input: Value,
    signal: Option<(&'static str, Value)>,
    output: Value,
}

/// The cases that complete on the first host, for `language`.
fn completing_cases(language: &str) -> Vec<Completing> {
    let payload = json!({ "from": language, "n": 7 });
    let case = |label, input, signal, output| Completing { label, input, signal, output };
    vec![
        case(
            "activity_retry",
            json!({ "case": "activity_retry" }),
            None,
            json!({ "flaky": { "attempt": 3 }, "failure": { "kind": "activity_failed", "code": "declined", "attempts": 1 } }),
        ),
        case("timer", json!({ "case": "timer", "ms": SHORT_MS }), None, json!({ "slept_at_least": true })),
        case(
            "signal_timeout (signal sent)",
            json!({ "case": "signal_timeout", "timeout_ms": LONG_MS }),
            Some(("go", payload.clone())),
            json!({ "signal": payload }),
        ),
        case(
            "signal_timeout (timed out)",
            json!({ "case": "signal_timeout", "timeout_ms": SHORT_MS }),
            None,
            json!({ "timed_out": true }),
        ),
        case(
            "signal_race (signal wins)",
            json!({ "case": "signal_race", "timer_ms": LONG_MS }),
            Some(("race", payload.clone())),
            json!({ "winner": "signal", "payload": payload }),
        ),
        case("signal_race (timer wins)", json!({ "case": "signal_race", "timer_ms": SHORT_MS }), None, json!({ "winner": "timer" })),
        case(
            "fan_out",
            json!({ "case": "fan_out", "n": 10 }),
            None,
            json!({ "doubles": (0..10).map(|i| 2 * i).collect::<Vec<u64>>() }),
        ),
        case("patch", json!({ "case": "patch" }), None, json!({ "patched": true })),
        case(
            "unserved",
            json!({ "case": "unserved", "ms": UNSERVED_MS }),
            None,
            json!({ "failure": { "kind": "unknown_activity", "code": null, "attempts": 0 } }),
        ),
    ]
    .into_iter()
    .chain(child_cases(language))
    .collect()
}

/// `continuum show RUN --json`, read; an error instead of a panic.
fn show(manifest: &Path, run: &str) -> Result<Shown, String> {
    let out = cli(manifest, &["show", run, "--json"]);
    if !out.status.success() {
        return Err(format!("`continuum show {run}` failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("`continuum show {run} --json` printed what `Shown` cannot read: {e}"))
}

/// Starts a run of `workflow`; returns its id.
fn start(manifest: &Path, workflow: &str, input: &Value) -> Result<String, String> {
    let out = cli(manifest, &["start", workflow, &input.to_string()]);
    if !out.status.success() {
        return Err(format!("`continuum start {workflow} {input}` failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Polls the run until `done` holds for it.
fn wait_until(manifest: &Path, run: &str, what: &str, done: impl Fn(&Shown) -> bool) -> Result<Shown, String> {
    let started = Instant::now();
    loop {
        let shown = show(manifest, run)?;
        if done(&shown) {
            return Ok(shown);
        }
        if started.elapsed() > RUN_DEADLINE {
            return Err(format!("run {run} never {what} in {RUN_DEADLINE:?}: state {}, journal {:?}", shown.run.state, shown.kinds()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until the run has ended (completed, failed, drifted, ...).
fn finished(manifest: &Path, run: &str) -> Result<Shown, String> {
    let out = cli(manifest, &["await", run, "--timeout", &RUN_DEADLINE.as_secs().to_string()]);
    if out.status.code() != Some(0) && out.status.code() != Some(3) {
        return Err(format!("`continuum await {run}` failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim()));
    }
    show(manifest, run)
}

/// The run completed with exactly `expected`.
fn completed_with(shown: &Shown, expected: &Value) -> Result<(), String> {
    if shown.run.state != "completed" {
        return Err(format!("ended {} with {:?}, expected the output {expected}", shown.run.state, shown.run.error));
    }
    match &shown.run.output {
        Some(output) if output == expected => Ok(()),
        other => Err(format!("output {other:?}, expected exactly {expected}")),
    }
}

/// The journal entry that ends the activity call named `name`.
fn outcome_of<'a>(shown: &'a Shown, name: &str) -> Result<&'a ShownEvent, String> {
    let op = shown
        .of_kind("activity_scheduled")
        .into_iter()
        .find(|e| e.body["name"] == name)
        .and_then(ShownEvent::op)
        .ok_or_else(|| format!("the journal schedules no `{name}`: {:?}", shown.kinds()))?;
    shown
        .events
        .iter()
        .find(|e| e.op() == Some(op) && matches!(e.kind(), "activity_completed" | "activity_failed"))
        .ok_or_else(|| format!("the journal has no outcome of `{name}`"))
}

/// The journal facts of a completed case, as `docs/conformance.md` lists them.
fn journal_facts(label: &str, shown: &Shown) -> Result<(), String> {
    match label {
        "activity_retry" => {
            let flaky = outcome_of(shown, "conf_flaky")?;
            if flaky.kind() != "activity_completed" || flaky.body["attempts"] != 3 {
                return Err(format!("conf_flaky should complete after 3 attempts: {}", flaky.body));
            }
            let declined = outcome_of(shown, "conf_decline")?;
            let failure = &declined.body["failure"];
            if declined.kind() != "activity_failed" || failure["attempts"] != 1 || failure["code"] != "declined" {
                return Err(format!("conf_decline should fail once, with code `declined`: {}", declined.body));
            }
            Ok(())
        }
        "unserved" => {
            let scheduled = shown.of_kind("activity_scheduled").into_iter().find(|e| e.body["name"] == "conf_unserved");
            let timeout = scheduled.map(|e| e.body["options"]["schedule_to_start_timeout_ms"].clone());
            if timeout != Some(json!(UNSERVED_MS)) {
                return Err(format!("conf_unserved should be scheduled with the schedule-to-start timeout {UNSERVED_MS}: {timeout:?}"));
            }
            let failed = outcome_of(shown, "conf_unserved")?;
            if failed.kind() != "activity_failed" || failed.body["failure"]["attempts"] != 0 {
                return Err(format!("conf_unserved should fail before any attempt: {}", failed.body));
            }
            Ok(())
        }
        "fan_out" => {
            let scheduled = shown.of_kind("activity_scheduled");
            let first_done = shown.events.iter().find(|e| e.kind() == "activity_completed").map(|e| e.seq);
            let last_scheduled = scheduled.last().map(|e| e.seq);
            match (scheduled.len(), last_scheduled, first_done) {
                (10, Some(last), Some(first)) if last < first => Ok(()),
                _ => Err(format!("all 10 calls must be scheduled before the first completes: {:?}", shown.kinds())),
            }
        }
        "patch" => {
            let marked = shown.of_kind("patch_marker").iter().any(|e| e.body["name"] == "conformance-patch");
            if marked { Ok(()) } else { Err(format!("no patch marker `conformance-patch` in the journal: {:?}", shown.kinds())) }
        }
        _ => Ok(()),
    }
}

/// Runs one completing case: start, signal once it waits, await, check.
fn run_completing(manifest: &Path, language: &Language, case: &Completing) -> Result<(), String> {
    let run = start(manifest, &language.workflow, &case.input)?;
    if let Some((name, payload)) = &case.signal {
        wait_until(manifest, &run, "asked for its signal", |s| s.has("signal_requested"))?;
        let out = cli(manifest, &["signal", &run, name, &payload.to_string()]);
        if !out.status.success() {
            return Err(format!("`continuum signal` failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
    }
    let shown = finished(manifest, &run)?;
    completed_with(&shown, &case.output)?;
    journal_facts(case.label, &shown)?;
    child_facts(manifest, case.label, &shown)
}

/// Runs in the chain of `continue` (its `n`).
const CHAIN: u64 = 3;

/// `continue`: `await` on the first run id returns the chain's final
/// output; the first run ended `continued`, each run of the chain links to
/// the next and journaled its own `conf_echo` call (with its position),
/// and the last completed.
fn run_continue(manifest: &Path, language: &Language) -> Result<(), String> {
    let first = start(manifest, &language.workflow, &json!({ "case": "continue", "n": CHAIN }))?;
    let out = cli(manifest, &["await", &first, "--timeout", &RUN_DEADLINE.as_secs().to_string()]);
    let expected = json!({ "continued": CHAIN, "double": 2 * (CHAIN - 1) });
    let awaited: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!("`continuum await {first}` printed no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr).trim())
    })?;
    if !out.status.success() || awaited != expected {
        return Err(format!("`continuum await {first}` on the chain's first run gave {awaited} ({}), expected {expected}", out.status));
    }
    let mut run = first;
    for i in 0..CHAIN {
        let shown = show(manifest, &run)?;
        let echo = outcome_of(&shown, "conf_echo")?;
        if echo.kind() != "activity_completed" || echo.body["output"]["double"] != json!(2 * i) {
            return Err(format!("run {i} of the chain ({run}) should echo {i}: {}", echo.body));
        }
        match (&shown.run.continued_to, i + 1 < CHAIN) {
            (Some(next), true) if shown.run.state == "continued" => run = next.clone(),
            (None, false) => return completed_with(&shown, &expected),
            (next, _) => return Err(format!("run {i} of {CHAIN} ({run}) ended {} continued to {next:?}", shown.run.state)),
        }
    }
    Err(format!("the chain is longer than {CHAIN} runs"))
}

/// `saga_cancel`: cancelled while it waits for `go`, the run runs its two
/// compensations (`conf_echo` 102, then 101) after the delivered
/// cancellation, and ends cancelled.
fn run_saga_cancel(manifest: &Path, language: &Language) -> Result<(), String> {
    let run = start(manifest, &language.workflow, &json!({ "case": "saga_cancel" }))?;
    wait_until(manifest, &run, "asked for its signal", |s| s.has("signal_requested"))?;
    let out = cli(manifest, &["cancel", &run]);
    if !out.status.success() {
        return Err(format!("`continuum cancel` failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    let shown = finished(manifest, &run)?;
    if (shown.run.state.as_str(), shown.run.error_code()) != ("cancelled", Some("cancelled")) {
        return Err(format!("should end cancelled (cancelled), ended {} with {:?}", shown.run.state, shown.run.error));
    }
    let delivered = shown.events.iter().find(|e| e.kind() == "cancel_delivered").map(|e| e.seq);
    let Some(delivered) = delivered else { return Err(format!("no cancel_delivered in the journal: {:?}", shown.kinds())) };
    let undone: Vec<Value> = shown
        .of_kind("activity_scheduled")
        .iter()
        .filter(|e| e.seq > delivered)
        .map(|e| e.body["input"]["i"].clone())
        .collect();
    if undone != [json!(102), json!(101)] {
        return Err(format!("the compensations after the cancellation should be conf_echo 102 then 101, were {undone:?}: {:?}", shown.kinds()));
    }
    if shown.of_kind("activity_completed").len() != 4 {
        return Err(format!("the two steps and the two compensations should complete: {:?}", shown.kinds()));
    }
    Ok(())
}

/// `query`: parked on its signal, the run answers `state` (`waiting`) and
/// `echo` (its arguments) and names its queries for an unknown one, with
/// its record and journal unchanged; once `go` came it completes and
/// answers `state` with `done`.
fn run_query(manifest: &Path, language: &Language) -> Result<(), String> {
    let run = start(manifest, &language.workflow, &json!({ "case": "query" }))?;
    let parked = wait_until(manifest, &run, "parked on its signal", |s| s.run.state == "suspended" && s.has("signal_requested"))?;
    let ask = |args: &[&str]| -> Result<Value, String> {
        let mut all = vec!["query", run.as_str()];
        all.extend(args);
        let out = cli(manifest, &all);
        if !out.status.success() {
            return Err(format!("`continuum {all:?}` failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| format!("`continuum {all:?}` printed no JSON: {e}"))
    };
    let expect = |got: Value, want: Value| if got == want { Ok(()) } else { Err(format!("a query answered {got}, expected {want}")) };
    expect(ask(&["state"])?, json!({ "step": "waiting" }))?;
    expect(ask(&["echo", r#"[1, "x", {"y": null}]"#])?, json!([1, "x", { "y": null }]))?;
    let out = cli(manifest, &["query", &run, "nope"]);
    let err = String::from_utf8_lossy(&out.stderr);
    if out.status.code() != Some(2) || !err.contains("has no query `nope`") || !err.contains("state, echo") {
        return Err(format!("an unknown query should be exit 2 naming `state` and `echo`: {} {err}", out.status));
    }
    let after = show(manifest, &run)?;
    if after.events != parked.events || after.run != parked.run {
        return Err(format!("the queries changed the run: {:?} -> {:?}", parked.kinds(), after.kinds()));
    }
    let out = cli(manifest, &["signal", &run, "go", "null"]);
    if !out.status.success() {
        return Err(format!("`continuum signal` failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    completed_with(&finished(manifest, &run)?, &json!({ "step": "done" }))?;
    expect(ask(&["state"])?, json!({ "step": "done" }))
}

/// An unknown case fails the run with the code `unknown_case`.
fn run_unknown(manifest: &Path, language: &Language) -> Result<(), String> {
    let run = start(manifest, &language.workflow, &json!({ "case": "no_such_case" }))?;
    let shown = finished(manifest, &run)?;
    match (shown.run.state.as_str(), shown.run.error_code()) {
        ("failed", Some("unknown_case")) => Ok(()),
        (state, code) => Err(format!("should fail with the code `unknown_case`, ended {state} with code {code:?}")),
    }
}

/// The values a host logged for `run` (`conformance values {...}`).
fn logged_values(log: &str, run: &str) -> Vec<Value> {
    const MARK: &str = "conformance values ";
    log.lines()
        .filter(|l| l.contains(run))
        .filter_map(|l| l.find(MARK).map(|i| &l[i + MARK.len()..]))
        .filter_map(|rest| serde_json::Deserializer::from_str(rest).into_iter::<Value>().next()?.ok())
        .collect()
}

/// After the replay on the second host: the output is what the first host
/// logged, the line was not logged again, and both clocks are journaled
/// reads.
fn check_clock_random(shown: &Shown, first_log: &str, second_log: &str) -> Result<(), String> {
    let run = &shown.run.key.run_id;
    let logged = logged_values(first_log, run);
    let [values] = logged.as_slice() else {
        return Err(format!("the first host should log `conformance values` once for the run, logged {logged:?}"));
    };
    completed_with(shown, values)?;
    let again = logged_values(second_log, run);
    if !again.is_empty() {
        return Err(format!("the second host logged the values again on replay: {again:?}"));
    }
    let reads: Vec<u64> = shown.of_kind("clock_read").iter().filter_map(|e| e.body["value_ms"].as_u64()).collect();
    for field in ["now", "native_now_ms"] {
        let value = values[field].as_u64().ok_or_else(|| format!("`{field}` is not an unsigned integer: {values}"))?;
        if !reads.contains(&value) {
            return Err(format!("`{field}` {value} is not a journaled clock read {reads:?}"));
        }
    }
    let random_ok = values["random"].as_str().is_some_and(|r| r.parse::<u64>().is_ok());
    let native_ok = values["native_random"].as_u64().is_some_and(|r| r < 1 << 32);
    let uuid_ok = values["uuid"].as_str().is_some_and(|u| uuid::Uuid::parse_str(u).is_ok());
    if !(random_ok && native_ok && uuid_ok) {
        return Err(format!("`random` must be a decimal u64 string, `native_random` in 0..2^32, `uuid` a UUID: {values}"));
    }
    Ok(())
}

/// Moves the parked drift run to v2 and wakes it: it must end `drifted`,
/// naming the signal v1 recorded and the call v2 makes instead.
fn check_drift(manifest: &Path, language: &Language, run: &str) -> Result<(), String> {
    let v2 = language.v2.to_string_lossy();
    let out = cli(manifest, &["deploy", &language.workflow, &v2, "--migrate", run]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || !stdout.contains("1 run(s) migrated") {
        return Err(format!("deploying v2 with --migrate: {stdout} {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    let out = cli(manifest, &["signal", run, "go", "null"]);
    if !out.status.success() {
        return Err(format!("`continuum signal` failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    let shown = finished(manifest, run)?;
    let message = shown.run.error_message();
    if shown.run.state != "drifted" || shown.run.error_code() != Some("replay_drift") {
        return Err(format!("should end drifted (replay_drift), ended {} with {:?}", shown.run.state, shown.run.error));
    }
    if !(message.contains("receive-signal `go`") && message.contains("call-activity `conf_echo`")) {
        return Err(format!("the drift should name the mismatch (receive-signal `go` vs call-activity `conf_echo`): {message}"));
    }
    Ok(())
}

on_both_stores!(async fn every_language_passes_every_conformance_case(store: Store) {
    let _turn = cpu_heavy().await;
    let began = Instant::now();
    let failures = Failures::default();
    let languages = languages(&failures);
    let db = store.create().await;
    let dir = TempDir::new();
    let spec = InstanceSpec {
        workflows: languages.iter().map(|l| (l.workflow.clone(), l.v1.clone())).collect(),
        activities: vec![component("conformance_activities")],
        ..InstanceSpec::examples("default", &db.url)
    };
    let manifest = write_manifest(&dir.0, "node-a", &[spec]);
    let mut first = Host::start(&manifest, &[]);

    // Every completing case of every language at once; the drift runs park
    // on their signal meanwhile.
    let drift_runs: Vec<Option<String>> = std::thread::scope(|s| {
        let workers: Vec<_> = languages
            .iter()
            .map(|language| {
                let (manifest, failures) = (&manifest, &failures);
                s.spawn(move || {
                    let drift = start(manifest, &language.workflow, &json!({ "case": "drift" }));
                    std::thread::scope(|s| {
                        for case in completing_cases(language.name) {
                            s.spawn(move || failures.check(language.name, case.label, run_completing(manifest, language, &case)));
                        }
                        s.spawn(|| failures.check(language.name, "unknown case", run_unknown(manifest, language)));
                        s.spawn(|| failures.check(language.name, "query", run_query(manifest, language)));
                        s.spawn(|| failures.check(language.name, "saga_cancel", run_saga_cancel(manifest, language)));
                        s.spawn(|| failures.check(language.name, "continue", run_continue(manifest, language)));
                        s.spawn(|| failures.check(language.name, "child_cancel", run_child_cancel(manifest, language)));
                    });
                    drift.map_err(|e| failures.add(language.name, "drift", e)).ok()
                })
            })
            .collect();
        workers
            .into_iter()
            .zip(&languages)
            .map(|(w, l)| w.join().unwrap_or_else(|_| {
                failures.add(l.name, "harness", "a case's thread panicked (see its message above)");
                None
            }))
            .collect()
    });
    eprintln!("conformance on {store:?}: the completing cases took {:?}", began.elapsed());

    // clock_random: every language's run parks on its sleep, then the host
    // dies with SIGKILL.
    let clock_runs: Vec<Option<String>> = languages
        .iter()
        .map(|l| {
            let run = start(&manifest, &l.workflow, &json!({ "case": "clock_random", "sleep_ms": CLOCK_SLEEP_MS }));
            run.map_err(|e| failures.add(l.name, "clock_random", e)).ok()
        })
        .collect();
    for (language, run) in languages.iter().zip(&clock_runs) {
        let Some(run) = run else { continue };
        let parked = wait_until(&manifest, run, "parked on its sleep", |s| s.run.state == "suspended" && s.has("timer_started"));
        failures.check(language.name, "clock_random", parked.map(|_| ()));
    }
    first.kill();
    for (language, run) in languages.iter().zip(&clock_runs) {
        let Some(run) = run else { continue };
        let state = show(&manifest, run).map(|s| s.run.state);
        if state.as_deref() != Ok("suspended") {
            failures.add(language.name, "clock_random", format!("the run was not asleep when the host was killed: {state:?} (raise CLOCK_SLEEP_MS)"));
        }
    }
    let first_log = first.log_text();
    let second = Host::start(&manifest, &[]);

    // The new host replays the clock_random runs; the drift runs move to v2.
    std::thread::scope(|s| {
        for (language, (clock, drift)) in languages.iter().zip(clock_runs.iter().zip(&drift_runs)) {
            let (manifest, failures, first_log, second) = (&manifest, &failures, &first_log, &second);
            if let Some(run) = clock {
                s.spawn(move || {
                    let checked = finished(manifest, run).and_then(|shown| check_clock_random(&shown, first_log, &second.log_text()));
                    failures.check(language.name, "clock_random", checked);
                });
            }
            if let Some(run) = drift {
                s.spawn(move || {
                    let parked = wait_until(manifest, run, "parked on its signal", |s| s.run.state == "suspended" && s.has("signal_requested"));
                    failures.check(language.name, "drift", parked.and_then(|_| check_drift(manifest, language, run)));
                });
            }
        }
    });
    eprintln!("conformance on {store:?}: {} language(s) in {:?}", languages.len(), began.elapsed());
    failures.assert_none(store);
});

// ---------------------------------------------------------------------------
// Child workflows: each case starts children of the language's own
// conformance workflow (its name is the input's `workflow`).

/// The child-workflow cases that complete, for `language`.
fn child_cases(language: &str) -> Vec<Completing> {
    let workflow = format!("{language}-conformance");
    let case = |label, input, output| Completing { label, input, signal: None, output };
    let run_id = format!("conf-child-{language}");
    vec![
        case(
            "child",
            json!({ "case": "child", "workflow": workflow, "run_id": run_id }),
            json!({ "child": { "patched": true }, "child_run_id": run_id }),
        ),
        case(
            "child_join",
            json!({ "case": "child_join", "workflow": workflow, "n": 3 }),
            json!({ "results": [{ "doubles": [] }, { "doubles": [0] }, { "doubles": [0, 2] }] }),
        ),
        case(
            "child_race (child wins)",
            json!({ "case": "child_race", "workflow": workflow, "child_ms": 10, "timer_ms": LONG_MS }),
            json!({ "winner": "child", "child": { "slept_at_least": true } }),
        ),
        case(
            "child_race (timer wins)",
            json!({ "case": "child_race", "workflow": workflow, "child_ms": LONG_MS, "timer_ms": SHORT_MS }),
            json!({ "winner": "timer" }),
        ),
        case(
            "child_errors",
            json!({ "case": "child_errors", "workflow": workflow }),
            json!({
                "unknown": { "kind": "unknown_workflow", "code": "unknown_workflow", "names_it": true },
                "failed": { "kind": "failed", "code": "unknown_case" },
            }),
        ),
    ]
}

/// The run ids of a run's children, in the order `show` lists them.
fn child_run_ids(shown: &Shown) -> Vec<String> {
    shown.children.iter().filter_map(|c| c["key"]["run_id"].as_str().map(str::to_string)).collect()
}

/// The journal and child-run facts of a completed child case.
fn child_facts(manifest: &Path, label: &str, shown: &Shown) -> Result<(), String> {
    let parent = shown.run.key.run_id.as_str();
    let children = child_run_ids(shown);
    let started = shown.of_kind("child_started").len();
    match label {
        "child" => {
            let [child] = children.as_slice() else { return Err(format!("one child run expected: {children:?}")) };
            let doc = show(manifest, child)?;
            if doc.run.parent_run_id.as_deref() != Some(parent) || doc.run.state != "completed" {
                return Err(format!("child {child} should be a completed child of {parent}: {:?}, {}", doc.run.parent_run_id, doc.run.state));
            }
            let ids: Vec<&Value> = shown.of_kind("child_started").iter().map(|e| &e.body["run_id"]).collect();
            if ids != [&json!(child)] || shown.of_kind("child_completed").len() != 1 {
                return Err(format!("one child_started (run id {child}) and one child_completed expected: {:?}", shown.kinds()));
            }
            Ok(())
        }
        "child_join" => {
            let first_done = shown.events.iter().find(|e| e.kind() == "child_completed").map(|e| e.seq);
            let last_started = shown.of_kind("child_started").last().map(|e| e.seq);
            match (started, children.len(), last_started, first_done) {
                (3, 3, Some(last), Some(first)) if last < first => Ok(()),
                _ => Err(format!("3 children must all start before the first completes: {:?}, children {children:?}", shown.kinds())),
            }
        }
        "child_race (timer wins)" => {
            let [child] = children.as_slice() else { return Err(format!("one child run expected: {children:?}")) };
            // The parent ended first: the child is cancelled (the default policy).
            let doc = wait_until(manifest, child, "ended", |s| matches!(s.run.state.as_str(), "completed" | "failed" | "cancelled" | "drifted"))?;
            match (doc.run.state.as_str(), doc.run.error_code()) {
                ("cancelled", Some("cancelled")) => Ok(()),
                (state, code) => Err(format!("the abandoned race's child should end cancelled, ended {state} ({code:?})")),
            }
        }
        "child_errors" => {
            // The unknown workflow's start creates no run; the failing child's does.
            if started != 2 || children.len() != 1 || shown.of_kind("child_failed").len() != 2 {
                return Err(format!("2 starts, 1 child run, 2 failures expected: {:?}, children {children:?}", shown.kinds()));
            }
            let doc = show(manifest, &children[0])?;
            match (doc.run.state.as_str(), doc.run.error_code()) {
                ("failed", Some("unknown_case")) => Ok(()),
                (state, code) => Err(format!("the failing child ended {state} ({code:?})")),
            }
        }
        _ => Ok(()),
    }
}

/// `child_cancel`: the parent waits on a child running `saga_cancel`; the
/// harness cancels the parent once the child waits for its signal: the
/// parent ends cancelled, and the cancellation reaches the child (the
/// default policy), which runs its compensations (`conf_echo` 102, then
/// 101) and ends cancelled.
fn run_child_cancel(manifest: &Path, language: &Language) -> Result<(), String> {
    let parent = start(manifest, &language.workflow, &json!({ "case": "child_cancel", "workflow": language.workflow }))?;
    let child = format!("{parent}-child-0");
    let started = Instant::now();
    while show(manifest, &child).map(|s| s.has("signal_requested")) != Ok(true) {
        if started.elapsed() > RUN_DEADLINE {
            return Err(format!("child {child} never asked for its signal"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = cli(manifest, &["cancel", &parent]);
    if !out.status.success() {
        return Err(format!("`continuum cancel` failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    let shown = finished(manifest, &parent)?;
    if (shown.run.state.as_str(), shown.run.error_code()) != ("cancelled", Some("cancelled")) {
        return Err(format!("the parent should end cancelled (cancelled), ended {} with {:?}", shown.run.state, shown.run.error));
    }
    let doc = finished(manifest, &child)?;
    if (doc.run.state.as_str(), doc.run.error_code()) != ("cancelled", Some("cancelled")) {
        return Err(format!("the child should end cancelled (cancelled), ended {} with {:?}", doc.run.state, doc.run.error));
    }
    let delivered = doc.events.iter().find(|e| e.kind() == "cancel_delivered").map(|e| e.seq);
    let Some(delivered) = delivered else { return Err(format!("no cancel_delivered in the child's journal: {:?}", doc.kinds())) };
    let undone: Vec<Value> =
        doc.of_kind("activity_scheduled").iter().filter(|e| e.seq > delivered).map(|e| e.body["input"]["i"].clone()).collect();
    if undone != [json!(102), json!(101)] {
        return Err(format!("the child's compensations should be conf_echo 102 then 101, were {undone:?}"));
    }
    Ok(())
}
