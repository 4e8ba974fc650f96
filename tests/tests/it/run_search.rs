//! Run search (issue 16), on the real binary on Postgres and on SQLite:
//! `tagged-flow` runs set attributes (`set-attribute`, journaled, shown by
//! `show`; set again, the new value replaces the old one, and the replay
//! after a suspension sets nothing twice; a bad key fails the run naming
//! it); `continuum runs` filters by state, workflow, creation time, parent
//! and attributes (AND), alone and together, pages through a listing with
//! its cursor (every run once, none missed, in text and in `--json`), and
//! refuses bad input with one line and a non-zero exit, directly and over
//! `--server` alike (the same output both ways).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::{json, Value};

use super::http_api::START;

fn spec(db: &StoreDb) -> InstanceSpec {
    let mut spec = InstanceSpec::examples("default", &db.url);
    spec.workflows.push(("tagged-flow".into(), component("tagged_flow")));
    spec.workflows.push(("parent-flow".into(), component("parent_flow")));
    spec.workflows.push(("child-flow".into(), component("child_flow")));
    spec
}

/// The exit code, stdout and stderr of a verb.
fn outcome(out: &Output) -> (Option<i32>, String, String) {
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The two ways to run a verb: on the database, and through a server.
struct Ways<'a> {
    manifest: &'a Path,
    base: String,
}

impl Ways<'_> {
    fn direct(&self, args: &[&str]) -> (Option<i32>, String, String) {
        outcome(&cli(self.manifest, args))
    }

    fn remote(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let mut all = vec!["--server", self.base.as_str()];
        all.extend_from_slice(args);
        outcome(&cli(self.manifest, &all))
    }

    /// The verb both ways: the same answer (asserted); its output.
    fn both(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let d = self.direct(args);
        assert_eq!(self.remote(args), d, "`{}` over --server and directly", args.join(" "));
        d
    }

    /// The run ids `runs ARGS` lists (asserting exit 0, the same both
    /// ways, and no cursor when `paged` is false).
    fn ids(&self, args: &[&str]) -> Vec<String> {
        let mut all = vec!["runs"];
        all.extend_from_slice(args);
        let (code, out, err) = self.both(&all);
        assert_eq!(code, Some(0), "{all:?}: {err}");
        assert_eq!(err, "", "{all:?}: no next page");
        out.lines().map(|l| l.split_whitespace().next().unwrap_or("").to_string()).collect()
    }
}

async fn wait_state(manifest: &Path, run: &str, state: &str) {
    let found = eventually(Duration::from_secs(60), || async {
        (show_json(manifest, run, None).run.state == state).then_some(())
    })
    .await;
    assert!(found.is_some(), "run {run} never reached {state}: {:#?}", show_json(manifest, run, None));
}

/// Starts `tagged-flow` as `id` with these attributes (and a signal to
/// wait for when `wait`).
fn start_tagged(ways: &Ways, id: &str, attributes: Value, wait: bool) {
    let mut input = json!({"attributes": attributes});
    if wait {
        input["wait_signal"] = json!("more");
    }
    let (code, out, err) = ways.direct(&["start", "tagged-flow", &input.to_string(), "--run-id", id]);
    assert_eq!((code, out.trim()), (Some(0), id), "{err}");
}

/// Pages through `runs ARGS` `page` runs at a time, following the cursor
/// (text: on stderr; `--json`: the last line): every run id listed, in
/// order, and how many pages it took.
fn page_through(ways: &Ways, args: &[&str], page: usize, json: bool, remote: bool) -> (Vec<String>, usize) {
    let limit = page.to_string();
    let (mut ids, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let mut all = vec!["runs", "--limit", limit.as_str()];
        all.extend_from_slice(args);
        if json {
            all.push("--json");
        }
        if let Some(c) = &cursor {
            all.extend(["--cursor", c.as_str()]);
        }
        let (code, out, err) = if remote { ways.remote(&all) } else { ways.direct(&all) };
        assert_eq!(code, Some(0), "{all:?}: {err}");
        pages += 1;
        assert!(pages <= 50, "the pages go on: {ids:?}");
        let mut next = None;
        if json {
            for line in out.lines() {
                let doc: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("`{line}` is not JSON: {e}"));
                match doc.get("next_cursor") {
                    Some(c) => next = Some(c.as_str().expect("a cursor").to_string()),
                    None => {
                        assert!(next.is_none(), "the cursor comes last: {out}");
                        ids.push(doc["key"]["run_id"].as_str().expect("a run id").to_string());
                    }
                }
            }
            assert_eq!(err, "", "{all:?}");
        } else {
            ids.extend(out.lines().map(|l| l.split_whitespace().next().unwrap_or("").to_string()));
            next = err.trim().strip_prefix("next page: --cursor ").map(str::to_string);
            assert!(err.is_empty() || next.is_some(), "stderr holds the cursor only: {err:?}");
        }
        let listed = ids.len() - (pages - 1) * page;
        assert!(listed <= page, "a page holds at most {page} runs: {out}");
        match next {
            Some(c) => {
                assert_eq!(listed, page, "a page before the last is full: {out}");
                cursor = Some(c);
            }
            None => return (ids, pages),
        }
    }
}

on_both_stores!(async fn runs_are_listed_by_their_filters_and_attributes_a_page_at_a_time(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[spec(&db)]);
    add_http(&manifest, "");
    let host = Host::start(&manifest, &[]);
    let ways = Ways { manifest: &manifest, base: host.http_base(START) };

    // Runs with attributes (t-3 and t-5 wait for a signal), one with a bad
    // key, a parent with its child.
    start_tagged(&ways, "t-1", json!({"customer": "c-1", "tier": "gold"}), false);
    start_tagged(&ways, "t-2", json!({"customer": "c-2", "tier": "gold"}), false);
    start_tagged(&ways, "t-3", json!({"customer": "c-1", "tier": "silver"}), true);
    start_tagged(&ways, "t-4", json!({"customer": "c-1", "tier": "gold"}), false);
    start_tagged(&ways, "t-5", json!({"customer": "c-2", "tier": "silver"}), true);
    start_tagged(&ways, "t-bad", json!({"customer": "c-1", "zone key": "x"}), false);
    let p = json!({"mode": "one", "input": {"value": 1}}).to_string();
    assert_eq!(ways.direct(&["start", "parent-flow", &p, "--run-id", "p-1"]).0, Some(0));
    for run in ["t-1", "t-2", "t-4", "p-1"] {
        wait_state(&manifest, run, "completed").await;
    }
    for run in ["t-3", "t-5"] {
        wait_state(&manifest, run, "suspended").await;
    }
    wait_state(&manifest, "t-bad", "failed").await;

    // The refused key fails its run, named; what was set before stays.
    let bad = show_json(&manifest, "t-bad", None);
    assert_eq!(bad.run.error_code(), Some("invalid_attribute"), "{:#?}", bad.run);
    assert!(bad.run.error_message().contains("`zone key`"), "{:#?}", bad.run);
    assert_eq!(bad.run.attributes, [("customer".to_string(), "c-1".to_string())].into(), "{:#?}", bad.run);
    assert_eq!(bad.of_kind("attribute_set").len(), 1);

    // show prints a run's attributes (text and JSON), the same both ways.
    let (_, shown, _) = ways.both(&["show", "t-1"]);
    assert!(shown.contains("  attribute customer = c-1\n") && shown.contains("  attribute tier = gold\n"), "{shown}");
    assert!(shown.contains("attribute_set") && shown.contains("customer = c-1"), "{shown}");
    let t1 = show_json(&manifest, "t-1", None);
    assert_eq!(t1.run.attributes.get("tier").map(String::as_str), Some("gold"));
    assert_eq!(t1.kinds(), ["run_started", "attribute_set", "attribute_set", "run_completed"], "{:#?}", t1.events);

    // By attribute, by two (AND), with state and workflow; newest first.
    assert_eq!(ways.ids(&["--attr", "customer=c-1"]), ["t-bad", "t-4", "t-3", "t-1"]);
    assert_eq!(ways.ids(&["--attr", "customer=c-1", "--attr", "tier=gold"]), ["t-4", "t-1"]);
    assert_eq!(ways.ids(&["--attr", "tier=gold", "--attr", "customer=c-1", "--state", "completed"]), ["t-4", "t-1"]);
    assert_eq!(ways.ids(&["--attr", "customer=c-2", "--state", "suspended", "--workflow", "tagged-flow"]), ["t-5"]);
    assert!(ways.ids(&["--attr", "customer=c-1", "--workflow", "order-flow"]).is_empty());
    assert!(ways.ids(&["--attr", "customer=c-3"]).is_empty());
    assert_eq!(ways.ids(&["--state", "failed"]), ["t-bad"]);
    assert_eq!(ways.ids(&["--workflow", "tagged-flow", "--state", "suspended"]), ["t-5", "t-3"]);
    // By parent.
    assert_eq!(ways.ids(&["--parent", "p-1"]), ["p-1-child-0"]);
    assert!(ways.ids(&["--parent", "t-1"]).is_empty());
    assert_eq!(ways.ids(&["--parent", "p-1", "--state", "completed", "--workflow", "child-flow"]), ["p-1-child-0"]);

    // By creation time: from t-3 on, and before it.
    let (_, listed, _) = ways.both(&["runs", "--json", "--workflow", "tagged-flow", "--limit", "100"]);
    let created = |id: &str| -> String {
        listed
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
            .find(|d| d["key"]["run_id"] == id)
            .and_then(|d| d["created_at"].as_str().map(str::to_string))
            .unwrap_or_else(|| panic!("{id} is listed: {listed}"))
    };
    let t3 = created("t-3");
    assert_eq!(ways.ids(&["--workflow", "tagged-flow", "--since", &t3]), ["t-bad", "t-5", "t-4", "t-3"]);
    assert_eq!(ways.ids(&["--workflow", "tagged-flow", "--until", &t3]), ["t-2", "t-1"]);
    assert_eq!(ways.ids(&["--attr", "tier=gold", "--since", &t3, "--until", &created("t-5")]), ["t-4"]);

    // The JSON lines are the runs, with their attributes.
    let first: Value = serde_json::from_str(listed.lines().next().unwrap_or("")).expect("JSON");
    assert_eq!((first["key"]["run_id"].as_str(), first["attributes"]["customer"].as_str()), (Some("t-bad"), Some("c-1")));
    assert_eq!(first["state"], "failed");

    // Set again after a suspension: the new value replaces the old one,
    // and the replay of what was set before sets nothing twice.
    let (code, _, err) = ways.direct(&["signal", "t-3", "more", r#"{"tier": "platinum"}"#]);
    assert_eq!(code, Some(0), "{err}");
    wait_state(&manifest, "t-3", "completed").await;
    let t3doc = show_json(&manifest, "t-3", None);
    assert_eq!(t3doc.of_kind("attribute_set").len(), 3, "{:#?}", t3doc.events);
    assert_eq!(t3doc.run.attributes.get("tier").map(String::as_str), Some("platinum"));
    assert_eq!(ways.ids(&["--attr", "tier=platinum"]), ["t-3"]);
    assert_eq!(ways.ids(&["--attr", "tier=silver"]), ["t-5"]);

    // Pages: every run once, none missed, in the listing's order; in
    // text and in JSON, directly and over the server.
    let everything = ways.ids(&["--limit", "100"]);
    assert_eq!(everything.len(), 8, "{everything:?}");
    for (json, remote) in [(false, false), (true, false), (false, true), (true, true)] {
        let (paged, pages) = page_through(&ways, &[], 3, json, remote);
        assert_eq!(paged, everything, "json {json}, remote {remote}");
        assert_eq!(pages, 3, "8 runs are 3 pages of 3");
        let (paged, _) = page_through(&ways, &["--attr", "customer=c-1"], 1, json, remote);
        assert_eq!(paged, ["t-bad", "t-4", "t-3", "t-1"]);
        assert_eq!(BTreeSet::from_iter(paged.iter()).len(), paged.len());
    }
    // A page that ends the listing exactly has no cursor.
    let (_, _, err) = ways.both(&["runs", "--limit", "8"]);
    assert_eq!(err, "");
    let (_, _, err) = ways.both(&["runs", "--limit", "7"]);
    assert!(err.starts_with("next page: --cursor "), "{err}");

    // Bad input: one line, a non-zero exit, nothing listed; both ways.
    for (args, says) in [
        (vec!["runs", "--state", "bogus"], "--state `bogus`"),
        (vec!["runs", "--since", "yesterday"], "--since `yesterday`"),
        (vec!["runs", "--until", "2026-13-45"], "--until"),
        (vec!["runs", "--attr", "customer"], "key=value"),
        (vec!["runs", "--attr", "bad key=v"], "attribute key `bad key`"),
        (vec!["runs", "--cursor", "zz"], "cursor"),
        (vec!["runs", "--parent", ""], "run id"),
    ] {
        let (code, out, err) = ways.both(&args);
        assert!(code.is_some_and(|c| c != 0), "{args:?} exits non-zero: {code:?}");
        assert_eq!(out, "", "{args:?}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: one line: {err:?}");
        assert!(lines[0].starts_with("error: ") && lines[0].contains(says), "{args:?}: {err:?}");
    }
    drop(host);
});
