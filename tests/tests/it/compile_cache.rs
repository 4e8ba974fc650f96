//! The compile cache on disk: a host restarted on the same cache directory
//! loads every module's compiled code from it instead of compiling again.

use std::time::Duration;

use continuum_tests::*;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_host_loads_its_modules_from_the_compile_cache() {
    let db = PgDb::create().await;
    let dir = TempDir::new();
    let cache = dir.0.join("cache");
    let spec = InstanceSpec {
        workflows: vec![("drift".into(), component("drift_v1"))],
        activities: vec![component("bench_activities")],
        ..InstanceSpec::examples("default", &db.url)
    };
    let manifest = write_manifest(&dir.0, "node-a", &[spec]);
    let env = [("CONTINUUM_CACHE_DIR", cache.to_str().unwrap())];
    let serve = || {
        let host = Host::start_with_env(&manifest, &[], &env);
        assert!(host.wait_for_log("instance started", Duration::from_secs(60)), "{}", host.log_text());
        host
    };

    // A fresh cache: both components are compiled and written.
    let mut host = serve();
    let first = host.log_text();
    assert_eq!(first.matches("module compiled").count(), 2, "{first}");
    assert!(!first.contains("loaded from the compile cache"), "{first}");
    let entries = || {
        let mut files: Vec<_> = std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".cwasm"))
            .map(|e| (e.file_name(), e.metadata().unwrap().modified().unwrap()))
            .collect();
        files.sort();
        files
    };
    let written = entries();
    assert_eq!(written.len(), 2, "{written:?}");
    host.kill();

    // The restart compiles nothing: both are loaded, the files untouched.
    let host = serve();
    let second = host.log_text();
    assert!(!second.contains("module compiled"), "a restart recompiled: {second}");
    assert_eq!(second.matches("module loaded from the compile cache").count(), 2, "{second}");
    assert_eq!(entries(), written);

    // And the loaded code runs.
    let run = cli_ok(&manifest, &["start", "drift", "{}"]);
    let waiting = eventually(Duration::from_secs(30), || async {
        let doc = show_json(&manifest, &run, None);
        (doc.run.state == "suspended").then_some(())
    })
    .await;
    assert!(waiting.is_some(), "{}", host.log_text());
    cli_ok(&manifest, &["signal", &run, "go", "1"]);
    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", &run, "--timeout", "30"])).unwrap();
    assert_eq!(out["version"], 1, "{out}");
}
