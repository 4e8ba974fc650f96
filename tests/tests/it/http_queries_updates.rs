//! The query and update routes of the HTTP API (issue 16), every answer
//! checked against `/openapi.json`, on Postgres and on SQLite: `POST
//! .../queries` answers and writes nothing; `POST .../updates` without a
//! wait answers 202 and `GET .../updates/{id}?wait=` long-polls for the
//! reply (202 while none came, 200 with it); bad input is 400, unknown
//! things 404, conflicts 409, a failing handler or a rejection 422; an
//! instance's token reaches its own instance's runs only.

use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::json;

on_both_stores!(async fn queries_and_updates_over_http(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let mut a = InstanceSpec::examples("a", &db.url);
    a.workflows.push(("counter-flow".into(), component("counter_flow")));
    let mut b = InstanceSpec::examples("b", &db.url);
    b.workflows.push(("counter-flow".into(), component("counter_flow")));
    let manifest = write_manifest(&dir.0, "node-a", &[a, b]);
    add_http(&manifest, "[http.tokens]\na = \"tok-a\"\nb = \"tok-b\"");
    let host = Host::start(&manifest, &[]);
    let anon = Api::new(&host.http_base(Duration::from_secs(60))).checked().await;
    let (ta, tb) = (anon.with_token("tok-a"), anon.with_token("tok-b"));
    let runs = "/v1/instances/a/runs";
    let s = ta.post(runs, &json!({"workflow": "counter-flow", "input": {}, "run_id": "c"})).await;
    assert_eq!(s.status, 201, "{s:?}");

    // An update without a wait: delivered, 202; the reply by a long poll.
    let u = ta.post(&format!("{runs}/c/updates"), &json!({"name": "add", "payload": 4})).await;
    assert_eq!((u.status, &u.body["replied"]), (202, &json!(false)), "{u:?}");
    let id = u.body["update_id"].as_str().expect("an update id").to_string();
    assert_eq!(u.body["run_id"], json!("c"));
    let r = ta.get(&format!("{runs}/c/updates/{id}?wait=30s")).await;
    assert_eq!((r.status, &r.body["replied"], &r.body["reply"]), (200, &json!(true), &json!(4)), "{r:?}");
    // A slow reply (a 1.5 s timer first): a short wait is 202, a longer 200.
    let u = ta.post(&format!("{runs}/c/updates?wait=200ms"), &json!({"name": "add", "payload": {"add": 1, "delay_ms": 1500}})).await;
    assert_eq!(u.status, 202, "{u:?}");
    let id = u.body["update_id"].as_str().expect("an update id").to_string();
    let r = ta.get(&format!("{runs}/c/updates/{id}?wait=30s")).await;
    assert_eq!((r.status, &r.body["reply"]), (200, &json!(5)), "{r:?}");

    // Queries answer from the run's state and write nothing.
    let before = ta.get(&format!("{runs}/c/history")).await;
    let q = ta.post(&format!("{runs}/c/queries"), &json!({"name": "status"})).await;
    assert_eq!((q.status, &q.body["answer"]), (200, &json!({"count": 5, "adds": 2, "stopped": false})), "{q:?}");
    let q = ta.post(&format!("{runs}/c/queries"), &json!({"name": "echo", "args": {"x": null}})).await;
    assert_eq!((q.status, &q.body["answer"]), (200, &json!({"x": null})), "{q:?}");
    assert_eq!(ta.get(&format!("{runs}/c/history")).await.body, before.body, "a query changed the run");

    // Errors, each with its stable code.
    let cases = [
        ("queries", json!({"name": "nope"}), 404, "unknown_query"),
        ("queries", json!({"name": "fail"}), 422, "query_failed"),
        ("queries", json!({"name": "count", "args": 1, "more": 2}), 400, "invalid_json"),
        ("queries", json!({}), 400, "invalid_json"),
        ("updates", json!({"name": ""}), 400, "invalid_name"),
        ("updates?wait=forever", json!({"name": "add"}), 400, "bad_query"),
        ("updates?wait=30s", json!({"name": "add", "payload": "reject"}), 422, "update_rejected"),
    ];
    for (path, body, status, code) in cases {
        let a = ta.post(&format!("{runs}/c/{path}"), &body).await;
        assert_eq!((a.status, a.code()), (status, code), "{path} {body}: {a:?}");
    }
    let a = ta.post(&format!("{runs}/nope/queries"), &json!({"name": "count"})).await;
    assert_eq!((a.status, a.code()), (404, "unknown_run"), "{a:?}");
    let a = ta.post(&format!("{runs}/nope/updates"), &json!({"name": "add"})).await;
    assert_eq!((a.status, a.code()), (404, "unknown_run"), "{a:?}");
    // Another instance's token reaches none of it.
    for path in [format!("{runs}/c/queries"), format!("{runs}/c/updates")] {
        let a = tb.post(&path, &json!({"name": "count"})).await;
        assert_eq!(a.status, 403, "{path}: {a:?}");
    }
    let a = anon.post(&format!("{runs}/c/queries"), &json!({"name": "count"})).await;
    assert_eq!(a.status, 401, "{a:?}");

    // The run ends: its queries still answer; an update is a conflict.
    let u = ta.post(&format!("{runs}/c/updates?wait=30s"), &json!({"name": "add", "payload": "stop"})).await;
    assert_eq!((u.status, &u.body["reply"]), (200, &json!(5)), "{u:?}");
    let done = ta.get(&format!("{runs}/c/result?wait=30s")).await;
    assert_eq!((done.status, &done.body["output"]), (200, &json!({"count": 5, "adds": 2})), "{done:?}");
    let q = ta.post(&format!("{runs}/c/queries"), &json!({"name": "status"})).await;
    assert_eq!((q.status, &q.body["answer"]), (200, &json!({"count": 5, "adds": 2, "stopped": true})), "{q:?}");
    let a = ta.post(&format!("{runs}/c/updates"), &json!({"name": "add", "payload": 1})).await;
    assert_eq!((a.status, a.code()), (409, "run_finished"), "{a:?}");
});
