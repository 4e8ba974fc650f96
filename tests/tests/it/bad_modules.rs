//! No bad module ever becomes current: a manifest whose workflow file is
//! corrupt, truncated, a core module or a component of the wrong world is
//! refused by the CLI's verbs (`runs`, `start`, `deploy`) with one line
//! naming the workflow and the file; `serve` logs that refusal as an error
//! and goes on serving its other workflows; the workflow's current version
//! stays as it was. Activity files (missing, empty, corrupt, truncated,
//! core, wrong world) and a sandbox directory that cannot be one are
//! refused by the CLI's verbs as `serve` refuses them.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use continuum_tests::*;

/// A bad file of each kind, written into `dir`: (kind, file).
fn bad_files(dir: &Path, wrong_world: &Path) -> Vec<(&'static str, PathBuf)> {
    let good = std::fs::read(component("order_flow")).expect("read order_flow.wasm");
    let corrupt = dir.join("corrupt.wasm");
    let mut bytes = b"\0asm\x0d\x00\x01\x00".to_vec();
    bytes.extend(std::iter::repeat_n(0xffu8, 200));
    std::fs::write(&corrupt, bytes).expect("write");
    let truncated = dir.join("truncated.wasm");
    std::fs::write(&truncated, &good[..good.len() / 2]).expect("write");
    let core = dir.join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").expect("write");
    vec![("corrupt", corrupt), ("truncated", truncated), ("core module", core), ("wrong world", wrong_world.to_path_buf())]
}

/// The one line a refusal must be: exit code 2, exactly one line on
/// stderr, starting `error: `, short, no panic; it contains every needle.
pub(crate) fn assert_one_line_refusal(out: &Output, what: &str, needles: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{what}: exit {:?}, stderr: {err}", out.status.code());
    assert_eq!(err.trim_end().lines().count(), 1, "{what}: not one line on stderr: {err}");
    assert!(err.starts_with("error: "), "{what}: {err}");
    assert!(err.chars().count() < 1200, "{what}: the line is {} characters long: {err}", err.chars().count());
    assert!(!err.contains("panicked"), "{what}: {err}");
    for needle in needles {
        assert!(err.contains(needle), "{what}: stderr lacks {needle:?}: {err}");
    }
}

async fn head_of(sql: &mut Sql, workflow: &str) -> Vec<String> {
    sql.texts("SELECT hash FROM module_heads WHERE instance = 'default' AND workflow = $1", &[Arg::Text(workflow)]).await
}

fn manifest_with(dir: &Path, db: &StoreDb, workflows: Vec<(String, PathBuf)>, activities: Vec<PathBuf>) -> PathBuf {
    let spec = InstanceSpec { workflows, activities, ..InstanceSpec::examples("default", &db.url) };
    // Beside the good manifest (`node-a.toml`), not over it.
    write_manifest(dir, "node-bad", &[spec])
}

on_both_stores!(
    async fn a_bad_workflow_file_never_becomes_current(store: Store) {
        let db = store.create().await;
        let dir = TempDir::new();
        let good = InstanceSpec::examples("default", &db.url);
        let (good_workflows, activities) = (good.workflows.clone(), good.activities.clone());
        let manifest = write_manifest(&dir.0, "node-a", &[good]);
        // A first client call publishes the manifest's files: the versions
        // the bad files must not replace.
        cli_ok(&manifest, &["runs"]);
        let mut sql = db.sql().await;
        let current = head_of(&mut sql, "order-flow").await;
        assert_eq!(current.len(), 1, "order-flow has a current version");

        for (kind, file) in bad_files(&dir.0, &component("order_activities")) {
            let path = file.display().to_string();
            // The workflow with a version, and a new one without.
            for workflow in ["order-flow", "fresh-flow"] {
                let mut workflows = good_workflows.clone();
                workflows.retain(|(w, _)| w != workflow);
                workflows.push((workflow.to_string(), file.clone()));
                let bad = manifest_with(&dir.0, &db, workflows, activities.clone());
                let named = format!("workflow `{workflow}`");
                for verb in [&["runs"][..], &["start", workflow, "{}"][..], &["show", "some-run"][..]] {
                    let out = cli(&bad, verb);
                    assert_one_line_refusal(&out, &format!("{kind} {workflow} {verb:?}"), &[&named, &path]);
                }
                // A host refuses the file, logs why, and serves the rest.
                let mut host = Host::start(&bad, &[]);
                let serving = host.wait_for_log("continuum: serving", Duration::from_secs(60));
                assert!(serving, "{kind} {workflow}: serve did not go on serving: {}", host.log_text());
                assert!(matches!(host.try_wait(), Ok(None)), "{kind} {workflow}: serve exited: {}", host.log_text());
                let log = host.log_text();
                let refusal = log.lines().find(|l| l.contains("ERROR") && l.contains(&named) && l.contains(&path));
                assert!(refusal.is_some_and(|l| l.contains("refused")), "{kind} {workflow}: no refusal logged: {log}");
                host.kill();
                assert_eq!(head_of(&mut sql, "order-flow").await, current, "{kind}: the current version of order-flow changed");
                assert!(head_of(&mut sql, "fresh-flow").await.is_empty(), "{kind}: a bad file became fresh-flow's version");
            }
            // Deploying the bad file through the good manifest.
            for workflow in ["order-flow", "fresh-flow"] {
                let out = cli(&manifest, &["deploy", workflow, &path]);
                assert_one_line_refusal(&out, &format!("deploy {kind} {workflow}"), &[&format!("workflow `{workflow}`"), &path]);
                let out = cli(&manifest, &["deploy", workflow, &path, "--check", "--migrate"]);
                assert_one_line_refusal(&out, &format!("deploy --check {kind} {workflow}"), &[&path]);
            }
            assert_eq!(head_of(&mut sql, "order-flow").await, current, "{kind}: deploy changed the current version");
            assert!(head_of(&mut sql, "fresh-flow").await.is_empty(), "{kind}: deploy made a bad file current");
        }
        assert_eq!(sql.int("SELECT count(*) FROM runs", &[]).await, 0, "a refused start created a run");
        // The good files still work.
        let run = cli_ok(&manifest, &["start", "order-flow", "{}"]);
        assert!(!run.is_empty());
    }
);

on_both_stores!(
    async fn a_bad_activity_file_or_sandbox_is_refused_by_every_verb(store: Store) {
        let db = store.create().await;
        let dir = TempDir::new();
        let workflows = InstanceSpec::examples("default", &db.url).workflows;
        let empty = dir.0.join("empty.wasm");
        std::fs::write(&empty, b"").expect("write");
        let mut files = bad_files(&dir.0, &component("order_flow"));
        files.push(("empty", empty));
        files.push(("missing", dir.0.join("missing.wasm")));
        for (kind, file) in files {
            let path = file.display().to_string();
            let bad = manifest_with(&dir.0, &db, workflows.clone(), vec![component("order_activities"), file.clone()]);
            for verb in [&["runs"][..], &["start", "order-flow", "{}"][..], &["cancel", "some-run"][..]] {
                let out = cli(&bad, verb);
                assert_one_line_refusal(&out, &format!("activity {kind} {verb:?}"), &["activity component", &path]);
            }
            // Nothing was published by the refused calls (the SQLite file
            // exists once a verb has migrated it).
            let mut sql = db.sql().await;
            assert_eq!(sql.int("SELECT count(*) FROM module_heads", &[]).await, 0, "activity {kind}: a version was published");
        }
        let mut sql = db.sql().await;
        assert_eq!(sql.int("SELECT count(*) FROM runs", &[]).await, 0);

        // A sandbox directory that cannot be one: a file is in its place.
        let in_the_way = dir.0.join("not-a-dir");
        std::fs::write(&in_the_way, b"a file").expect("write");
        let manifest = manifest_with(&dir.0, &db, workflows.clone(), vec![component("order_activities")]);
        let mut text = std::fs::read_to_string(&manifest).expect("read manifest");
        text.push_str(&format!("\n[instances.default.sandbox]\ndir = \"{}\"\n", in_the_way.join("box").display()));
        std::fs::write(&manifest, text).expect("write manifest");
        let out = cli(&manifest, &["runs"]);
        assert_one_line_refusal(&out, "sandbox", &["sandbox directory", &in_the_way.display().to_string()]);
        assert_eq!(sql.int("SELECT count(*) FROM module_heads", &[]).await, 0, "sandbox: a version was published");
    }
);
