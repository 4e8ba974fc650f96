//! The HTTP API of `continuum serve` (issue 15), through the real binary
//! and a real HTTP client, on Postgres and on SQLite: the run verbs
//! (start, read, list with filters and a cursor, result with a long poll,
//! signal, cancel, journal pages), health and readiness, JSON errors with
//! stable codes that never are a 500 for bad input, the body and payload
//! limits, and every answer checked against `/openapi.json`. Tokens are in
//! `http_auth`, streams in `http_streams`, deploys in `http_deploy`.

use std::time::Duration;

use continuum_tests::*;
use continuum_tests::on_both_stores;
use serde_json::{json, Value};

pub(crate) const START: Duration = Duration::from_secs(60);

pub(crate) fn order(id: &str) -> Value {
    json!({"order_id": id, "sku": "BOOK-42", "quantity": 2, "amount_cents": 4200, "card": "4242-4242-4242-4242"})
}

/// A host of `instances` with an `[http]` table (plus `extra` lines); its
/// API client.
pub(crate) fn serve(dir: &TempDir, instances: &[InstanceSpec], extra: &str) -> (Host, Api) {
    let manifest = write_manifest(&dir.0, "node-a", instances);
    add_http(&manifest, extra);
    let host = Host::start(&manifest, &[]);
    let api = Api::new(&host.http_base(START));
    (host, api)
}

/// [`serve`], with every answer checked against `/openapi.json`.
pub(crate) async fn serve_checked(dir: &TempDir, instances: &[InstanceSpec], extra: &str) -> (Host, Api) {
    let (host, api) = serve(dir, instances, extra);
    let api = api.checked().await;
    (host, api)
}

pub(crate) fn runs_of(a: &Answer) -> Vec<String> {
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
    assert_eq!(a.body, json!({"instance": "default", "run_id": "o-1", "existed": false}));
    // The same start again (a retrying client): the run, said so.
    let a = api.post(runs, &json!({"workflow": "order-flow", "input": order("o-1"), "run_id": "o-1"})).await;
    assert_eq!((a.status, &a.body), (200, &json!({"instance": "default", "run_id": "o-1", "existed": true})), "{a:?}");
    let a = api.post(runs, &json!({"workflow": "order-flow", "input": order("o-1"), "run_id": "o-1", "if_exists": "fail"})).await;
    assert_eq!((a.status, a.code()), (409, "run_exists"), "{a:?}");
    let a = api.post(runs, &json!({"workflow": "order-flow", "input": order("o-9"), "run_id": "o-1"})).await;
    assert_eq!((a.status, a.code()), (409, "run_conflict"), "{a:?}");
    assert!(a.message().contains("/order_id") && a.message().contains("\"o-9\""), "the difference is named: {a:?}");
    let a = api.post(runs, &json!({"workflow": "billing-flow", "input": order("o-1"), "run_id": "o-1"})).await;
    assert_eq!((a.status, a.code()), (409, "run_conflict"), "{a:?}");
    let a = api.post(runs, &json!({"workflow": "order-flow", "run_id": "o-1", "if_exists": "sometimes"})).await;
    assert_eq!(a.status, 400, "{a:?}");
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
    let a = api.post(&format!("{runs}/o-1/signals"), &json!({"name": "fraud_review", "payload": "approved", "idempotency_key": "review-1"})).await;
    assert_eq!((a.status, &a.body["duplicate"]), (202, &json!(false)), "{a:?}");
    let a = api.post(&format!("{runs}/o-1/signals"), &json!({"name": "fraud_review", "payload": "approved", "idempotency_key": "review-1"})).await;
    assert_eq!((a.status, &a.body["duplicate"]), (202, &json!(true)), "a resend is not sent again: {a:?}");
    let a = api.post(&format!("{runs}/o-1/signals"), &json!({"name": "fraud_review", "payload": "rejected", "idempotency_key": "review-1"})).await;
    assert_eq!((a.status, a.code()), (409, "signal_key_conflict"), "{a:?}");
    let a = api.get(&format!("{runs}/o-1/result?wait=60s")).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!((a.body["done"].as_bool(), a.body["state"].as_str()), (Some(true), Some("completed")), "{a:?}");
    assert_eq!(a.body["output"]["status"], "shipped", "{a:?}");
    // Once done, a result is there without waiting.
    let a = api.get(&format!("{runs}/o-1/result")).await;
    assert_eq!((a.status, a.body["output"]["status"].as_str()), (200, Some("shipped")));

    // Conflicts.
    let a = api.post(runs, &json!({"workflow": "order-flow", "input": order("o-1"), "run_id": "o-1", "if_exists": "fail"})).await;
    assert_eq!((a.status, a.code()), (409, "run_exists"), "{a:?}");
    let a = api.post(&format!("{runs}/o-1/signals"), &json!({"name": "fraud_review", "payload": "approved"})).await;
    assert_eq!((a.status, a.code()), (409, "run_finished"), "{a:?}");
    let a = api.post(&format!("{runs}/o-1/cancel"), &json!({})).await;
    assert_eq!((a.status, &a.body), (200, &json!({"outcome": "already_final", "state": "completed"})));

    // Cancel a waiting run; a run id is generated when none is given.
    let a = api.post(runs, &json!({"workflow": "order-flow", "input": order("o-2")})).await;
    assert_eq!(a.status, 201, "{a:?}");
    let o2 = a.body["run_id"].as_str().expect("a run id").to_string();
    // The workflow is told and compensates: `cancelled` once it has ended,
    // `requested` if that took more than the cancel's 5 s (a loaded host).
    let a = api.post(&format!("{runs}/{o2}/cancel"), &json!({})).await;
    let answered = (a.status, a.body["outcome"].as_str().unwrap_or(""));
    assert!(answered == (200, "cancelled") || answered == (200, "requested"), "{a:?}");
    let a = api.get(&format!("{runs}/{o2}/result?wait=20s")).await;
    if a.body["state"] != "cancelled" || a.body["error"]["code"] != "cancelled" {
        let j = api.get(&format!("{runs}/{o2}/journal?limit=1000")).await;
        let kinds: Vec<String> = j.body["events"].as_array().map(|e| e.iter().map(|e| format!("{} {}", e["body"]["type"], e["body"].get("name").map(|n| n.to_string()).unwrap_or_default())).collect()).unwrap_or_default();
        panic!("o2 did not end cancelled: {a:?}\njournal: {kinds:#?}\nlog: {}", host.log_text());
    }
    assert_eq!((a.status, a.body["state"].as_str(), a.body["error"]["code"].as_str()), (200, Some("cancelled"), Some("cancelled")), "{a:?}");
    // The instance's counters: exact, so a start adds to them at once.
    let stats = api.get("/v1/instances/default/stats").await;
    assert_eq!((stats.status, stats.body["instance"].as_str()), (200, Some("default")), "{stats:?}");
    let commits = |a: &Answer| a.body["commits"].as_u64().expect("commits");
    assert!(commits(&stats) > 0 && stats.body["run_writes"].as_u64() > Some(0), "{stats:?}");
    let a = api.post(runs, &json!({"workflow": "billing-flow", "input": {"customer_id": "c-1"}, "run_id": "b-1"})).await;
    assert_eq!(a.status, 201, "{a:?}");
    let after = api.get("/v1/instances/default/stats").await;
    assert!(commits(&after) > commits(&stats), "a start commits: {stats:?} then {after:?}");

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

    // Terminate: the hard stop, no clean-up.
    let a = api.post(runs, &json!({"workflow": "order-flow", "input": order("o-3"), "run_id": "o-3"})).await;
    assert_eq!(a.status, 201, "{a:?}");
    let a = api.post(&format!("{runs}/o-3/terminate"), &json!({})).await;
    assert_eq!((a.status, &a.body), (200, &json!({"outcome": "terminated", "state": "cancelled"})), "{a:?}");
    let a = api.get(&format!("{runs}/o-3/result")).await;
    assert_eq!(a.body["error"]["code"].as_str(), Some("terminated"), "{a:?}");
    let a = api.post(&format!("{runs}/o-3/terminate"), &json!({})).await;
    assert_eq!((a.status, &a.body), (200, &json!({"outcome": "already_final", "state": "cancelled"})), "{a:?}");
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

    // The whole history at once: the run, every entry, no open calls.
    let a = api.get(&format!("{runs}/o-1/history")).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!((a.body["run"]["state"].as_str(), a.body["run"]["key"]["run_id"].as_str()), (Some("completed"), Some("o-1")));
    assert_eq!(a.body["events"].as_array().map(Vec::len), Some(events.len() + 2), "{a:?}");
    assert_eq!(a.body["open_activities"], json!([]));
    let a = api.get(&format!("{runs}/nope/history")).await;
    assert_eq!((a.status, a.code()), (404, "unknown_run"), "{a:?}");
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
        ("GET", format!("{runs}?attr=customer"), None, 400, "bad_query"),
        ("GET", format!("{runs}?attr=bad%20key%3Dv"), None, 400, "bad_query"),
        ("GET", format!("{runs}?state=failed&state=completed"), None, 400, "bad_query"),
        ("GET", format!("{runs}?statee=failed"), None, 400, "bad_query"),
        ("GET", format!("{runs}?parent="), None, 400, "invalid_name"),
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
