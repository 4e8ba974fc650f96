//! Workflows over HTTP (issue 15): their versions, and a deploy of an
//! uploaded component with the replay check and migration of the CLI.

use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::json;

use super::http_api::serve_checked;

on_both_stores!(async fn workflows_list_their_versions_and_deploy_checks_replay(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let drift = InstanceSpec {
        workflows: vec![("drift".into(), component("drift_v1"))],
        activities: vec![component("bench_activities")],
        ..InstanceSpec::examples("default", &db.url)
    };
    let (_host, api) = serve_checked(&dir, &[drift], "").await;
    let base = "/v1/instances/default";
    let a = api.post(&format!("{base}/runs"), &json!({"workflow": "drift", "run_id": "old"})).await;
    assert_eq!(a.status, 201, "{a:?}");
    let waiting = eventually(Duration::from_secs(60), || {
        let api = api.clone();
        async move { Some(api.get(&format!("{base}/runs/old")).await).filter(|a| a.body["state"] == "suspended") }
    })
    .await
    .expect("the run waits for its signal");
    let v1 = waiting.body["module_hash"].as_str().unwrap().to_string();
    let a = api.get(&format!("{base}/workflows")).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.body["workflows"][0]["workflow"], "drift");
    assert_eq!(a.body["workflows"][0]["current"], v1.as_str());
    assert_eq!(a.body["workflows"][0]["versions"].as_array().map(Vec::len), Some(1), "{a:?}");

    let deploy = |file: &str, query: &str| {
        let (api, bytes) = (api.clone(), std::fs::read(component(file)).unwrap());
        let path = format!("{base}/workflows/drift/versions{query}");
        async move { api.raw("POST", &path, Some(bytes)).await }
    };
    // v2 diverges from the waiting run: a checked migration is refused.
    let a = deploy("drift_v2", "?check=true&migrate=all").await;
    assert_eq!((a.status, a.code()), (409, "deploy_refused"), "{a:?}");
    assert!(a.body["error"]["message"].as_str().unwrap().contains("old"), "{a:?}");
    // A replay check alone deploys nothing: v2 diverges, v3 replays.
    let replay = |file: &str, query: &str| {
        let (api, bytes) = (api.clone(), std::fs::read(component(file)).unwrap());
        let path = format!("{base}/replay{query}");
        async move { api.raw("POST", &path, Some(bytes)).await }
    };
    let a = replay("drift_v2", "?workflow=drift").await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!((a.body["runs"][0]["run_id"].as_str(), a.body["runs"][0]["compatible"].as_bool()), (Some("old"), Some(false)), "{a:?}");
    assert!(a.body["runs"][0]["verdict"].as_str().unwrap().starts_with("incompatible"), "{a:?}");
    let a = replay("drift_v3", "?runs=old").await;
    assert_eq!((a.status, a.body["runs"][0]["compatible"].as_bool()), (200, Some(true)), "{a:?}");
    let a = replay("drift_v3", "").await;
    assert_eq!((a.status, a.code()), (400, "bad_request"), "nothing to replay: {a:?}");
    let a = replay("drift_v3", "?runs=nope").await;
    assert_eq!((a.status, a.code()), (404, "unknown_run"), "{a:?}");
    let a = api.raw("POST", &format!("{base}/replay?workflow=drift"), Some(b"not wasm".to_vec())).await;
    assert_eq!((a.status, a.code()), (400, "invalid_module"), "{a:?}");
    assert_eq!(api.get(&format!("{base}/workflows")).await.body["workflows"][0]["current"], v1.as_str(), "a replay deploys nothing");

    // v3 replays it: deployed, and the run migrated.
    let a = deploy("drift_v3", "?check=true&migrate=old").await;
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!((a.body["migrated"].as_u64(), a.body["checks"][0]["compatible"].as_bool()), (Some(1), Some(true)), "{a:?}");
    let v3 = a.body["hash"].as_str().unwrap().to_string();
    let a = api.get(&format!("{base}/runs/old")).await;
    assert_eq!(a.body["module_hash"], v3.as_str());
    let a = api.get(&format!("{base}/workflows")).await;
    assert_eq!(a.body["workflows"][0]["current"], v3.as_str(), "{a:?}");
    let hashes: Vec<&str> = a.body["workflows"][0]["versions"].as_array().unwrap().iter().map(|v| v["hash"].as_str().unwrap()).collect();
    assert!(hashes.contains(&v1.as_str()) && hashes.contains(&v3.as_str()) && hashes.len() == 2, "{a:?}");

    // Bad uploads: not a component, empty, unknown run to migrate.
    let a = api.raw("POST", &format!("{base}/workflows/drift/versions"), Some(b"not wasm".to_vec())).await;
    assert_eq!((a.status, a.code()), (400, "invalid_module"), "{a:?}");
    let a = api.raw("POST", &format!("{base}/workflows/drift/versions"), Some(Vec::new())).await;
    assert_eq!((a.status, a.code()), (400, "bad_request"), "{a:?}");
    let a = deploy("drift_v3", "?migrate=nope").await;
    assert_eq!((a.status, a.code()), (404, "unknown_run"), "{a:?}");
    let a = deploy("drift_v3", "?check=maybe").await;
    assert_eq!((a.status, a.code()), (400, "bad_query"), "{a:?}");
    assert!(!dir.0.join("data/uploads").read_dir().map(|mut d| d.next().is_some()).unwrap_or(false), "uploads are removed");
});
