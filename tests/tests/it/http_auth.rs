//! Tenant isolation over HTTP (issue 15): an instance's bearer token
//! (`${VAR}` from the environment) reaches that instance only, every verb
//! tried across instances (schedules too); the admin token reaches all; no token or a
//! wrong one is 401; without tokens the API serves loopback only.

use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::{json, Value};

use super::http_api::{order, runs_of, START};

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
    let a = tb.post("/v1/instances/b/schedules", &json!({"name": "s", "workflow": "order-flow", "cron": "0 9 * * *"})).await;
    assert_eq!(a.status, 201, "b's token creates a schedule in b: {a:?}");
    // Every verb of a's token on b's instance is refused, whether or not
    // the run or the instance exists; nothing of b changes.
    let b = "/v1/instances/b/runs";
    let start = json!({"workflow": "order-flow", "input": order("x"), "run_id": "from-a"});
    let signal = json!({"name": "fraud_review", "payload": "approved"});
    // Not a component: had the token been let through, this would be a 400.
    let deploy = json!("bytes");
    let schedule = json!({"name": "s", "workflow": "order-flow", "cron": "0 9 * * *"});
    let tries: Vec<(&str, String, Option<&Value>)> = vec![
        ("GET", b.into(), None),
        ("POST", b.into(), Some(&start)),
        ("GET", format!("{b}/r"), None),
        ("GET", format!("{b}/r/result?wait=100ms"), None),
        ("GET", format!("{b}/r/journal"), None),
        ("GET", format!("{b}/r/history"), None),
        ("POST", "/v1/instances/b/replay?workflow=order-flow".into(), Some(&deploy)),
        ("POST", format!("{b}/r/signals"), Some(&signal)),
        ("POST", format!("{b}/r/cancel"), None),
        ("POST", format!("{b}/r/terminate"), None),
        ("GET", format!("{b}/nope"), None),
        ("GET", "/v1/instances/nope/runs".into(), None),
        ("GET", "/v1/instances/b/workflows".into(), None),
        ("GET", format!("{b}/r/journal/stream"), None),
        ("GET", "/v1/instances/b/stream/runs".into(), None),
        ("POST", "/v1/instances/b/workflows/order-flow/versions".into(), Some(&deploy)),
        ("GET", "/v1/instances/b/schedules".into(), None),
        ("POST", "/v1/instances/b/schedules".into(), Some(&schedule)),
        ("POST", "/v1/instances/b/schedules/s/pause".into(), None),
        ("POST", "/v1/instances/b/schedules/s/resume".into(), None),
        ("DELETE", "/v1/instances/b/schedules/s".into(), None),
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
    assert!(a.body["state"] != "cancelled" && a.body["cancel_requested_at"].is_null() && a.body["graceful_cancel_at"].is_null(), "{a:?}");
    assert_eq!(runs_of(&tb.get(b).await), ["r"]);
    let journal = tb.get(&format!("{b}/r/journal")).await;
    assert!(!journal.body.to_string().contains("signal_received"), "{journal:?}");
    let a = tb.get("/v1/instances/b/schedules").await;
    assert_eq!((a.status, a.body["schedules"][0]["name"].as_str(), a.body["schedules"][0]["paused"].as_bool()), (200, Some("s"), Some(false)), "{a:?}");

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

/// Two hosts of one manifest on one machine: the second cannot take the
/// manifest's address and says how to give it another; with
/// `--http-listen` it serves the API elsewhere, with `--no-http` none.
#[test]
fn a_second_host_on_the_machine_takes_another_address_or_none() {
    let dir = TempDir::new();
    let db = dir.0.join("shared.db");
    let url = format!("sqlite:{}", db.display());
    let manifest = write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("default", &url)]);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str(&format!("\n[http]\nlisten = \"127.0.0.1:{port}\"\n"));
    std::fs::write(&manifest, text).unwrap();
    let first = Host::start(&manifest, &[]);
    assert_eq!(first.http_base(START), format!("http://127.0.0.1:{port}"));

    let exit_of = |mut host: Host| {
        let status = (0..600).find_map(|_| {
            std::thread::sleep(Duration::from_millis(100));
            host.try_wait().ok().flatten()
        });
        (status.expect("serve refuses to start").code(), host.log_text())
    };
    let (code, log) = exit_of(Host::start(&manifest, &[]));
    assert_eq!(code, Some(1), "{log}");
    assert!(log.contains(&format!("cannot listen on 127.0.0.1:{port}")) && log.contains("--http-listen"), "{log}");
    let (code, log) = exit_of(Host::start(&manifest, &["--http-listen", "0.0.0.0:0"]));
    assert_eq!(code, Some(2), "{log}");
    assert!(log.contains("--http-listen 0.0.0.0:0") && log.contains("loopback"), "{log}");

    let second = Host::start(&manifest, &["--http-listen", "127.0.0.1:0"]);
    let base = second.http_base(START);
    assert_ne!(base, format!("http://127.0.0.1:{port}"), "{}", second.log_text());
    let third = Host::start(&manifest, &["--no-http"]);
    let serving = (0..600).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        third.log_text().contains("continuum: serving")
    });
    assert!(serving, "{}", third.log_text());
    assert!(!third.log_text().contains("HTTP API on"), "{}", third.log_text());
    drop((first, second, third));
}
