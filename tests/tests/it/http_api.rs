//! The HTTP API of `continuum serve` (issue 15), through the real binary
//! and a real HTTP client, on Postgres and on SQLite: the run verbs
//! (start, read, list with filters and a cursor, result with a long poll,
//! signal, cancel, journal pages), health and readiness, JSON errors with
//! stable codes that never are a 500 for bad input, the body limit, and
//! tenant isolation by bearer token.

use std::time::Duration;

use continuum_tests::*;
use continuum_tests::on_both_stores;
use serde_json::{json, Value};

const START: Duration = Duration::from_secs(60);

fn order(id: &str) -> Value {
    json!({"order_id": id, "sku": "BOOK-42", "quantity": 2, "amount_cents": 4200, "card": "4242-4242-4242-4242"})
}

/// A host of `instances` with an `[http]` table (plus `extra` lines); its
/// API client.
fn serve(dir: &TempDir, instances: &[InstanceSpec], extra: &str) -> (Host, Api) {
    let manifest = write_manifest(&dir.0, "node-a", instances);
    add_http(&manifest, extra);
    let host = Host::start(&manifest, &[]);
    let api = Api::new(&host.http_base(START));
    (host, api)
}

/// [`serve`], with every answer checked against `/openapi.json`.
async fn serve_checked(dir: &TempDir, instances: &[InstanceSpec], extra: &str) -> (Host, Api) {
    let (host, api) = serve(dir, instances, extra);
    let api = api.checked().await;
    (host, api)
}

fn runs_of(a: &Answer) -> Vec<String> {
    a.body["runs"].as_array().map(|r| r.iter().map(|r| r["key"]["run_id"].as_str().unwrap_or("").to_string()).collect()).unwrap_or_default()
}

on_both_stores!(async fn the_run_verbs_over_http(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let (host, api) = serve_checked(&dir, &[InstanceSpec::examples("default", &db.url)], "").await;
    assert!(host.log_text().contains("no tokens configured: loopback only"), "{}", host.log_text());

    let a = api.get("/healthz").await;
    assert_eq!((a.status, a.body["status"].as_str()), (200, Some("ok")), "{a:?}");
    let a = api.get("/readyz").await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.body, json!({"ready": true, "instances": [{"name": "default", "database": "ok"}]}));
    let a = api.get("/v1/instances").await;
    assert_eq!(a.body, json!({"instances": [{"name": "default"}]}));

    // Start, read, await (not yet), signal, await (done).
    let runs = "/v1/instances/default/runs";
    let a = api.post(runs, &json!({"workflow": "order-flow", "input": order("o-1"), "run_id": "o-1"})).await;
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(a.body, json!({"instance": "default", "run_id": "o-1"}));
    assert!(
        host.wait_for_log("run started over HTTP", START) && host.log_text().lines().any(|l| l.contains("run started over HTTP") && l.contains("o-1") && l.contains("order-flow")),
        "the host logs the start with its run id and workflow:\n{}",
        host.log_text()
    );
    let a = api.get(&format!("{runs}/o-1")).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!((a.body["workflow"].as_str(), a.body["key"]["run_id"].as_str()), (Some("order-flow"), Some("o-1")));
    assert_eq!(a.body["input"], order("o-1"));
    let a = api.get(&format!("{runs}/o-1/result?wait=200ms")).await;
    assert_eq!((a.status, &a.body["done"]), (202, &json!(false)), "the run waits for its review: {a:?}");
    let a = api.post(&format!("{runs}/o-1/signals"), &json!({"name": "fraud_review", "payload": "approved"})).await;
    assert_eq!(a.status, 202, "{a:?}");
    let a = api.get(&format!("{runs}/o-1/result?wait=60s")).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!((a.body["done"].as_bool(), a.body["state"].as_str()), (Some(true), Some("completed")), "{a:?}");
    assert_eq!(a.body["output"]["status"], "shipped", "{a:?}");
    // Once done, a result is there without waiting.
    let a = api.get(&format!("{runs}/o-1/result")).await;
    assert_eq!((a.status, a.body["output"]["status"].as_str()), (200, Some("shipped")));

    // Conflicts.
    let a = api.post(runs, &json!({"workflow": "order-flow", "input": order("o-1"), "run_id": "o-1"})).await;
    assert_eq!((a.status, a.code()), (409, "run_exists"), "{a:?}");
    let a = api.post(&format!("{runs}/o-1/signals"), &json!({"name": "fraud_review", "payload": "approved"})).await;
    assert_eq!((a.status, a.code()), (409, "run_finished"), "{a:?}");
    let a = api.post(&format!("{runs}/o-1/cancel"), &json!({})).await;
    assert_eq!((a.status, &a.body), (200, &json!({"outcome": "already_final", "state": "completed"})));

    // Cancel a waiting run; a run id is generated when none is given.
    let a = api.post(runs, &json!({"workflow": "order-flow", "input": order("o-2")})).await;
    assert_eq!(a.status, 201, "{a:?}");
    let o2 = a.body["run_id"].as_str().expect("a run id").to_string();
    let a = api.post(&format!("{runs}/{o2}/cancel"), &json!({})).await;
    assert_eq!((a.status, &a.body), (200, &json!({"outcome": "cancelled", "state": "cancelled"})), "{a:?}");
    let a = api.get(&format!("{runs}/{o2}/result?wait=10s")).await;
    assert_eq!((a.status, a.body["state"].as_str()), (200, Some("cancelled")), "{a:?}");
    let a = api.post(runs, &json!({"workflow": "billing-flow", "input": {"customer_id": "c-1"}, "run_id": "b-1"})).await;
    assert_eq!(a.status, 201, "{a:?}");

    // Lists: filters, and pages of one that cover the listing in order.
    let a = api.get(runs).await;
    assert_eq!(a.status, 200, "{a:?}");
    let all = runs_of(&a);
    assert_eq!(all.len(), 3, "{a:?}");
    assert_eq!(all[0], "b-1");
    assert_eq!(a.body["next_cursor"], Value::Null);
    let mut paged = Vec::new();
    let mut next = format!("{runs}?limit=1");
    loop {
        let a = api.get(&next).await;
        assert_eq!(a.status, 200, "{a:?}");
        paged.extend(runs_of(&a));
        match a.body["next_cursor"].as_str() {
            Some(c) => next = format!("{runs}?limit=1&cursor={c}"),
            None => break,
        }
        assert!(paged.len() <= 3, "the pages go on: {paged:?}");
    }
    assert_eq!(paged, all);
    assert_eq!(runs_of(&api.get(&format!("{runs}?state=completed")).await), ["o-1"]);
    assert_eq!(runs_of(&api.get(&format!("{runs}?workflow=order-flow&state=cancelled")).await), [o2.clone()]);
    assert_eq!(runs_of(&api.get(&format!("{runs}?workflow=billing-flow")).await), ["b-1"]);
    assert!(runs_of(&api.get(&format!("{runs}?created_since=2999-01-01T00:00:00Z")).await).is_empty());
    assert_eq!(runs_of(&api.get(&format!("{runs}?created_until=2999-01-01T00:00:00Z")).await), all);

    // The journal, in pages.
    let a = api.get(&format!("{runs}/o-1/journal?limit=2")).await;
    assert_eq!(a.status, 200, "{a:?}");
    let seqs: Vec<i64> = a.body["events"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!((seqs, a.body["next_after"].as_i64()), (vec![1, 2], Some(2)));
    let a = api.get(&format!("{runs}/o-1/journal?after=2&limit=1000")).await;
    let events = a.body["events"].as_array().unwrap();
    assert_eq!(events[0]["seq"], 3);
    assert!(events.iter().any(|e| e.to_string().contains("signal_received")), "{a:?}");
    assert_eq!(a.body["next_after"], Value::Null);
});

on_both_stores!(async fn bad_input_is_a_json_error_never_a_500(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let (_host, api) = serve_checked(&dir, &[InstanceSpec::examples("default", &db.url)], "max_body_bytes = 10000\nmax_payload_bytes = 1000").await;
    let runs = "/v1/instances/default/runs";
    let a = api.post(runs, &json!({"workflow": "order-flow", "input": order("o-1"), "run_id": "r1"})).await;
    assert_eq!(a.status, 201, "{a:?}");
    let long_id = "x".repeat(300);
    let big = json!({"workflow": "order-flow", "input": {"pad": "y".repeat(20_000)}}).to_string().into_bytes();
    let cases: Vec<(&str, String, Option<Vec<u8>>, u16, &str)> = vec![
        ("POST", runs.into(), Some(b"{not json".to_vec()), 400, "invalid_json"),
        ("POST", runs.into(), Some(b"[1,2]".to_vec()), 400, "invalid_json"),
        ("POST", runs.into(), Some(b"".to_vec()), 400, "invalid_json"),
        ("POST", runs.into(), Some(br#"{"input": {}}"#.to_vec()), 400, "invalid_json"),
        ("POST", runs.into(), Some(br#"{"workflow": "order-flow", "inptu": {}}"#.to_vec()), 400, "invalid_json"),
        ("POST", runs.into(), Some(br#"{"workflow": 7}"#.to_vec()), 400, "invalid_json"),
        ("POST", runs.into(), Some(big), 413, "body_too_large"),
        ("POST", runs.into(), Some(json!({"workflow": "order-flow", "input": {"pad": "y".repeat(2000)}}).to_string().into_bytes()), 413, "payload_too_large"),
        ("POST", format!("{runs}/r1/signals"), Some(json!({"name": "go", "payload": "y".repeat(2000)}).to_string().into_bytes()), 413, "payload_too_large"),
        ("POST", runs.into(), Some(br#"{"workflow": "nope"}"#.to_vec()), 404, "unknown_workflow"),
        ("POST", runs.into(), Some(br#"{"workflow": "order flow"}"#.to_vec()), 404, "unknown_workflow"),
        ("POST", runs.into(), Some(format!(r#"{{"workflow": "order-flow", "run_id": "{long_id}"}}"#).into_bytes()), 400, "invalid_name"),
        ("POST", runs.into(), Some(br#"{"workflow": "order-flow", "run_id": "a b"}"#.to_vec()), 400, "invalid_name"),
        ("POST", "/v1/instances/nope/runs".into(), Some(br#"{"workflow": "order-flow"}"#.to_vec()), 404, "unknown_instance"),
        ("GET", "/v1/instances/nope/runs".into(), None, 404, "unknown_instance"),
        ("GET", format!("{runs}/nope"), None, 404, "unknown_run"),
        ("GET", format!("{runs}/nope/result?wait=100ms"), None, 404, "unknown_run"),
        ("GET", format!("{runs}/nope/journal"), None, 404, "unknown_run"),
        ("POST", format!("{runs}/nope/signals"), Some(br#"{"name": "go"}"#.to_vec()), 404, "unknown_run"),
        ("POST", format!("{runs}/nope/cancel"), None, 404, "unknown_run"),
        ("GET", format!("{runs}/{long_id}"), None, 400, "invalid_name"),
        ("GET", format!("{runs}/a%01b"), None, 400, "invalid_name"),
        ("GET", format!("{runs}/%FF%FE"), None, 400, "bad_request"),
        ("POST", format!("{runs}/r1/signals"), Some(br#"{"payload": 1}"#.to_vec()), 400, "invalid_json"),
        ("POST", format!("{runs}/r1/signals"), Some(br#"{"name": "a\u0001b"}"#.to_vec()), 400, "invalid_name"),
        ("GET", format!("{runs}/r1/result?wait=forever"), None, 400, "bad_query"),
        ("GET", format!("{runs}/r1/result?wait=-1s"), None, 400, "bad_query"),
        ("GET", format!("{runs}/r1/result?wait=1h"), None, 400, "bad_query"),
        ("GET", format!("{runs}/r1/result?wayt=1s"), None, 400, "bad_query"),
        ("GET", format!("{runs}/r1/journal?after=-1"), None, 400, "bad_query"),
        ("GET", format!("{runs}/r1/journal?limit=0"), None, 400, "bad_query"),
        ("GET", format!("{runs}/r1/journal?limit=x"), None, 400, "bad_query"),
        ("GET", format!("{runs}?state=bogus"), None, 400, "bad_query"),
        ("GET", format!("{runs}?limit=0"), None, 400, "bad_query"),
        ("GET", format!("{runs}?limit=99999999999999999999"), None, 400, "bad_query"),
        ("GET", format!("{runs}?cursor=zz"), None, 400, "bad_cursor"),
        ("GET", format!("{runs}?created_since=yesterday"), None, 400, "bad_query"),
        ("GET", "/v1/nothing".into(), None, 404, "not_found"),
        ("DELETE", runs.into(), None, 405, "method_not_allowed"),
    ];
    for (method, path, body, status, code) in cases {
        let a = api.raw(method, &path, body).await;
        let shown: String = path.chars().take(80).collect();
        assert_eq!((a.status, a.code()), (status, code), "{method} {shown}: {:?}", a.body);
        assert!(!a.body["error"]["message"].as_str().unwrap_or("").is_empty(), "{method} {shown}: no message: {:?}", a.body);
    }
    // Nothing of it started a run, and the host still answers.
    let a = api.get(runs).await;
    assert_eq!(runs_of(&a), ["r1"], "{a:?}");
    assert_eq!(api.get("/healthz").await.status, 200);
});

on_both_stores!(async fn a_token_reaches_its_own_instance_only(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(
        &dir.0,
        "node-a",
        &[InstanceSpec::examples("a", &db.url), InstanceSpec::examples("b", &db.url)],
    );
    add_http(&manifest, "admin_token = \"${T_ADMIN}\"\n[http.tokens]\na = \"${T_A}\"\nb = \"tok-b\"");
    let host = Host::start_with_env(&manifest, &[], &[("T_ADMIN", "tok-admin"), ("T_A", "tok-a")]);
    let anon = Api::new(&host.http_base(START)).checked().await;
    assert!(host.log_text().contains("bearer tokens required"), "{}", host.log_text());
    let (ta, tb, admin) = (anon.with_token("tok-a"), anon.with_token("tok-b"), anon.with_token("tok-admin"));

    // Each instance's token starts a run in its own instance.
    for (api, inst) in [(&ta, "a"), (&tb, "b")] {
        let a = api.post(&format!("/v1/instances/{inst}/runs"), &json!({"workflow": "order-flow", "input": order("o"), "run_id": "r"})).await;
        assert_eq!(a.status, 201, "{inst}: {a:?}");
    }
    // Every verb of a's token on b's instance is refused, whether or not
    // the run or the instance exists; nothing of b changes.
    let b = "/v1/instances/b/runs";
    let start = json!({"workflow": "order-flow", "input": order("x"), "run_id": "from-a"});
    let signal = json!({"name": "fraud_review", "payload": "approved"});
    // Not a component: had the token been let through, this would be a 400.
    let deploy = json!("bytes");
    let tries: Vec<(&str, String, Option<&Value>)> = vec![
        ("GET", b.into(), None),
        ("POST", b.into(), Some(&start)),
        ("GET", format!("{b}/r"), None),
        ("GET", format!("{b}/r/result?wait=100ms"), None),
        ("GET", format!("{b}/r/journal"), None),
        ("POST", format!("{b}/r/signals"), Some(&signal)),
        ("POST", format!("{b}/r/cancel"), None),
        ("GET", format!("{b}/nope"), None),
        ("GET", "/v1/instances/nope/runs".into(), None),
        ("GET", "/v1/instances/b/workflows".into(), None),
        ("GET", format!("{b}/r/journal/stream"), None),
        ("GET", "/v1/instances/b/stream/runs".into(), None),
        ("POST", "/v1/instances/b/workflows/order-flow/versions".into(), Some(&deploy)),
    ];
    for (method, path, body) in &tries {
        let body = body.map(|b| b.to_string().into_bytes());
        let a = ta.raw(method, path, body.clone()).await;
        assert_eq!((a.status, a.code()), (403, "forbidden"), "a's token: {method} {path}: {a:?}");
        // No token, or a wrong one (a prefix, another case): 401.
        for api in [&anon, &anon.with_token("tok-c"), &anon.with_token("tok-"), &anon.with_token("TOK-A")] {
            let a = api.raw(method, path, body.clone()).await;
            assert_eq!((a.status, a.code()), (401, "unauthorized"), "{method} {path}: {a:?}");
        }
    }
    let a = anon.get("/v1/instances").await;
    assert_eq!((a.status, a.code()), (401, "unauthorized"));
    // The instance list shows a token its own instance only.
    assert_eq!(ta.get("/v1/instances").await.body, json!({"instances": [{"name": "a"}]}));
    assert_eq!(tb.get("/v1/instances").await.body, json!({"instances": [{"name": "b"}]}));
    assert_eq!(admin.get("/v1/instances").await.body, json!({"instances": [{"name": "a"}, {"name": "b"}]}));
    // Health and readiness need no token.
    assert_eq!(anon.get("/healthz").await.status, 200);
    assert_eq!(anon.get("/readyz").await.status, 200);

    // b's run is as it was: not cancelled, not signalled, alone in b.
    let a = tb.get(&format!("{b}/r")).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert!(a.body["state"] != "cancelled" && a.body["cancel_requested_at"].is_null(), "{a:?}");
    assert_eq!(runs_of(&tb.get(b).await), ["r"]);
    let journal = tb.get(&format!("{b}/r/journal")).await;
    assert!(!journal.body.to_string().contains("signal_received"), "{journal:?}");

    // The admin token reaches both; b's own token finishes b's run.
    for inst in ["a", "b"] {
        let a = admin.get(&format!("/v1/instances/{inst}/runs/r")).await;
        assert_eq!((a.status, a.body["key"]["instance"].as_str()), (200, Some(inst)), "{a:?}");
    }
    let a = admin.post(&format!("{b}/r/signals"), &signal).await;
    assert_eq!(a.status, 202, "{a:?}");
    let a = tb.get(&format!("{b}/r/result?wait=60s")).await;
    assert_eq!((a.status, a.body["output"]["status"].as_str()), (200, Some("shipped")), "{a:?}");
    let bytes = std::fs::read(component("order_flow")).unwrap();
    let a = admin.raw("POST", "/v1/instances/b/workflows/order-flow/versions", Some(bytes.clone())).await;
    assert_eq!(a.status, 201, "the admin token deploys to b: {a:?}");
    let a = ta.raw("POST", "/v1/instances/a/workflows/order-flow/versions", Some(bytes)).await;
    assert_eq!(a.status, 201, "a's token deploys to a: {a:?}");
    let a = ta.get("/v1/instances/a/workflows").await;
    assert_eq!((a.status, a.body["workflows"].as_array().map(Vec::len)), (200, Some(2)), "{a:?}");
    let a = ta.post("/v1/instances/a/runs/r/cancel", &json!({})).await;
    assert_eq!((a.status, a.body["outcome"].as_str()), (200, Some("cancelled")), "{a:?}");
});

#[test]
fn without_tokens_only_loopback_is_served() {
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("default", "sqlite::memory:")]);
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str("\n[http]\nlisten = \"0.0.0.0:0\"\n");
    std::fs::write(&manifest, text).unwrap();
    let mut host = Host::start(&manifest, &[]);
    let status = (0..600).find_map(|_| {
        std::thread::sleep(Duration::from_millis(100));
        host.try_wait().ok().flatten()
    });
    let status = status.expect("serve refuses to start");
    assert_eq!(status.code(), Some(2), "{}", host.log_text());
    let log = host.log_text();
    assert!(log.contains("http.listen") && log.contains("loopback"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn readyz_names_the_instance_whose_database_is_unreachable() {
    let (up, down) = (PgDb::create().await, PgDb::create().await);
    let dir = TempDir::new();
    let (host, api) = serve_checked(&dir, &[InstanceSpec::examples("up", &up.url), InstanceSpec::examples("down", &down.url)], "").await;
    let a = api.get("/readyz").await;
    assert_eq!((a.status, &a.body["ready"]), (200, &json!(true)), "{a:?}");
    let a = api.post("/v1/instances/down/runs", &json!({"workflow": "order-flow", "input": order("o"), "run_id": "r"})).await;
    assert_eq!(a.status, 201, "{a:?}");
    drop(down);
    let a = eventually(Duration::from_secs(30), || {
        let api = api.clone();
        async move { Some(api.get("/readyz").await).filter(|a| a.status == 503) }
    })
    .await
    .expect("readyz turns 503 once a database is gone");
    assert_eq!(
        a.body,
        json!({"ready": false, "instances": [{"name": "down", "database": "unreachable"}, {"name": "up", "database": "ok"}]})
    );
    // Calls on that instance say so, as a 503 and not a 500; the other serves on.
    let a = api.get("/v1/instances/down/runs/r").await;
    assert_eq!((a.status, a.code()), (503, "database_unavailable"), "{a:?}");
    let a = api.get("/v1/instances/up/runs").await;
    assert_eq!(a.status, 200, "{a:?}");
    drop(host);
}

#[test]
fn the_openapi_check_catches_answers_that_do_not_fit() {
    let doc = OpenApiDoc(continuum_http::openapi::document());
    let path = "/v1/instances/default/runs/r1/result";
    assert_eq!(doc.template(path).as_deref(), Some("/v1/instances/{instance}/runs/{run_id}/result"));
    let good = json!({"done": true, "state": "completed", "output": {"x": 1}, "error": null});
    doc.check("GET", path, 200, &good).expect("a fitting answer");
    let bad = [
        (200, json!({"done": true, "state": "completed", "output": 1, "surprise": 1}), "not in the document"),
        (200, json!({"state": "completed"}), "required `done`"),
        (200, json!({"done": "yes", "state": "completed"}), "type"),
        (200, json!({"done": true, "state": "asleep"}), "not one of"),
        (418, good.clone(), "not documented"),
        (404, json!({"error": {"code": "unknown_run"}}), "required `message`"),
    ];
    for (status, body, needle) in bad {
        let e = doc.check("GET", path, status, &body).expect_err(&format!("{status} {body} should not fit"));
        assert!(e.contains(needle), "{e}");
    }
    let e = doc.check("GET", "/v1/instances/default/runs/r1", 200, &json!({"key": {"instance": "i", "run_id": "r"}})).unwrap_err();
    assert!(e.contains("required"), "{e}");
    assert!(doc.check("PUT", "/v1/instances/default/runs", 200, &json!({})).is_err());
}

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

on_both_stores!(async fn streams_send_journal_entries_and_state_changes(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let (mut host, api) = serve_checked(&dir, &[InstanceSpec::examples("default", &db.url)], "").await;
    let base = "/v1/instances/default";
    let mut states = api.sse(&format!("{base}/stream/runs"), None).await;
    assert_eq!(states.status, 200);
    let a = api.post(&format!("{base}/runs"), &json!({"workflow": "order-flow", "input": order("o-1"), "run_id": "s1"})).await;
    assert_eq!(a.status, 201, "{a:?}");
    let mut journal = api.sse(&format!("{base}/runs/s1/journal/stream"), None).await;
    assert_eq!(journal.status, 200);

    // The first entry comes as soon as it is committed; the run waits for its review.
    let first = journal.next(START).await.expect("a first journal entry");
    assert_eq!((first.event.as_str(), first.id.as_deref(), &first.data["seq"]), ("entry", Some("1"), &json!(1)), "{first:?}");
    let a = api.post(&format!("{base}/runs/s1/signals"), &json!({"name": "fraud_review", "payload": "approved"})).await;
    assert_eq!(a.status, 202, "{a:?}");
    let mut seqs = vec![1];
    let end = loop {
        let ev = journal.next(START).await.expect("the journal stream goes on to its end");
        match ev.event.as_str() {
            "entry" => seqs.push(ev.data["seq"].as_i64().unwrap()),
            "end" => break ev,
            other => panic!("unexpected event {other}: {ev:?}"),
        }
    };
    assert_eq!(end.data, json!({"state": "completed"}));
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "every entry once, in order");
    assert!(journal.next(Duration::from_secs(5)).await.is_none(), "the stream ends after `end`");
    // Resuming with Last-Event-ID sends only what came after.
    let mut resumed = api.sse(&format!("{base}/runs/s1/journal/stream"), Some(&(seqs.len() as i64 - 2).to_string())).await;
    let ev = resumed.next(START).await.unwrap();
    assert_eq!(ev.data["seq"], json!(seqs.len() as i64 - 1), "{ev:?}");

    // The state stream saw the run come to its end.
    let mut seen = Vec::new();
    while seen.last().map(String::as_str) != Some("completed") {
        let ev = states.next(START).await.unwrap_or_else(|| panic!("no completed state after {seen:?}"));
        assert_eq!((ev.event.as_str(), ev.data["run_id"].as_str(), ev.data["workflow"].as_str()), ("state", Some("s1"), Some("order-flow")), "{ev:?}");
        seen.push(ev.data["state"].as_str().unwrap().to_string());
    }
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique, seen, "a state is sent once per change: {seen:?}");

    // Streams of unknown runs and instances are refused before they start.
    assert_eq!(api.get(&format!("{base}/runs/nope/journal/stream")).await.code(), "unknown_run");
    assert_eq!(api.get("/v1/instances/nope/stream/runs").await.code(), "unknown_instance");

    // An open stream does not keep a host from stopping on SIGTERM.
    let _open = api.sse(&format!("{base}/stream/runs"), None).await;
    let status = std::process::Command::new("kill").arg("-TERM").arg(host.pid().to_string()).status().expect("run kill");
    assert!(status.success());
    let start = std::time::Instant::now();
    let exited = loop {
        if let Some(s) = host.try_wait().expect("wait for the host") {
            break s;
        }
        assert!(start.elapsed() < START, "the host did not stop within {START:?}:\n{}", host.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(exited.code(), Some(0), "{}", host.log_text());
});
