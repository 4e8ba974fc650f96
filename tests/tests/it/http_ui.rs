//! The web UI (issue 15) in a real headless Chromium, on a real `continuum
//! serve` with the shipped examples, on Postgres and on SQLite: the page
//! asks for the server's bearer token, lists the runs and shows a new one
//! live, opens a run that waits for its fraud review, sends `fraud_review`
//! from the run's form and shows the run completed with its output and
//! timeline, without reloading; a parent-flow run's page lists its child,
//! linked, and the child's page names its parent; a counter's page sends
//! an update and shows the reply, asks a query, pauses, resumes and resets
//! the run; the schedules page
//! refuses a bad cron with the server's message, then creates, pauses,
//! resumes and deletes a schedule. With
//! `CONTINUUM_UI_SCREENSHOT=path` it
//! writes a PNG of the run page there (docs/ui-run.png is one).

use std::time::Duration;

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::json;

use super::http_api::{order, serve, START};

const TOKEN: &str = "ui-test-token";
const SEEN: Duration = Duration::from_secs(30);

on_both_stores!(async fn the_web_ui_signals_a_run_and_shows_it_complete_live(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let mut spec = InstanceSpec::examples("default", &db.url);
    spec.workflows.push(("parent-flow".into(), component("parent_flow")));
    spec.workflows.push(("child-flow".into(), component("child_flow")));
    spec.workflows.push(("counter-flow".into(), component("counter_flow")));
    let (_host, anon) = serve(&dir, &[spec], &format!("admin_token = \"{TOKEN}\""));
    let api = anon.with_token(TOKEN);

    // The page and its files need no token (they hold no data); the API does.
    let page = anon.get("/").await;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.body.as_str().unwrap_or("").contains("/ui/js/app.js"), "{page:?}");
    assert_eq!(anon.get("/ui/js/app.js").await.status, 200);
    assert_eq!(anon.get("/v1/instances").await.status, 401);
    let a = anon.get("/ui/nope.js").await;
    assert_eq!((a.status, a.code()), (404, "not_found"), "{a:?}");

    let runs = "/v1/instances/default/runs";
    let a = api.post(runs, &json!({"workflow": "order-flow", "input": order("ui-1"), "run_id": "ui-1"})).await;
    assert_eq!(a.status, 201, "{a:?}");
    eventually(START, || {
        let api = api.clone();
        async move {
            let a = api.get(&format!("{runs}/ui-1")).await;
            Some(()).filter(|_| a.body["state"] == "suspended")
        }
    })
    .await
    .expect("ui-1 waits for its fraud review");

    let browser = Browser::start().await;
    browser.goto(&format!("{}/#/i/default/runs", api.base)).await;
    // The server takes tokens: the page says so and asks for one.
    browser.wait_text("#main", SEEN, |t| t.contains("bearer token is required")).await;
    browser.find("#token-panel:not([hidden]) #token-input", SEEN).await;
    browser.fill("#token-input", TOKEN).await;
    browser.click("#token-form button[type=submit]").await;
    browser.wait_text(r#"tr[data-run-id="ui-1"] .run-state"#, SEEN, |t| t == "suspended").await;
    browser.wait_text("#runs-live", SEEN, |t| t == "live").await;
    let token = browser.eval("return sessionStorage.getItem('continuum.token')").await;
    assert_eq!(token, json!(TOKEN), "the token is kept in sessionStorage");

    // A run started elsewhere shows up in the list without a reload.
    browser.eval("window.sameDocument = true; return null").await;
    let a = api.post(runs, &json!({"workflow": "order-flow", "input": order("ui-2"), "run_id": "ui-2"})).await;
    assert_eq!(a.status, 201, "{a:?}");
    browser.find(r#"tr[data-run-id="ui-2"]"#, SEEN).await;
    // The filters: only completed runs, none yet.
    browser.select("#filter-state", "completed").await;
    browser.click("#run-filters button[type=submit]").await;
    browser.find("#no-runs", SEEN).await;
    browser.click("#run-filters a").await;

    // The run's page: waiting for the review, on the timeline too.
    browser.click(r#"tr[data-run-id="ui-1"] a"#).await;
    browser.wait_text("#run-state", SEEN, |t| t == "suspended").await;
    browser.find(r#".tl-row[data-kind="signal"][data-name="fraud_review"][data-status="open"]"#, SEEN).await;
    browser.find(r#".tl-row[data-kind="activity"][data-status="completed"]"#, SEEN).await;
    browser.wait_text("#run-live", SEEN, |t| t == "live").await;
    let input = browser.wait_text("#run-input", SEEN, |t| t.contains("ui-1")).await;
    assert!(input.contains("BOOK-42"), "{input}");

    // Send the review from the form; the page follows the run to its end.
    browser.fill("#signal-name", "fraud_review").await;
    browser.fill("#signal-payload", "\"approved\"").await;
    browser.click("#signal-send").await;
    browser.wait_text("#signal-result", SEEN, |t| t.contains("sent")).await;
    browser.wait_text("#run-state", START, |t| t == "completed").await;
    let output = browser.wait_text("#run-output", SEEN, |t| t.contains("shipped")).await;
    assert!(output.contains("\"order_id\": \"ui-1\""), "{output}");
    browser.find(r#".tl-row[data-kind="signal"][data-name="fraud_review"][data-status="received"]"#, SEEN).await;
    browser.find(r#".tl-row[data-kind="run"][data-status="completed"]"#, SEEN).await;
    // The review's 24 h timer lost the race: once the run ended it is drawn
    // as left open at the run's end, and nothing on the page is still open.
    browser.find(r#".tl-row[data-kind="timer"][data-status="left open"]"#, SEEN).await;
    assert_eq!(
        browser.eval(r#"return document.querySelectorAll('.tl-row[data-status="open"]').length"#).await,
        json!(0),
        "a final run has no open row"
    );
    assert_eq!(browser.eval("return window.sameDocument === true").await, json!(true), "the page was not reloaded");
    assert_eq!(browser.eval("return document.getElementById('run-actions').hidden").await, json!(true), "no forms on a final run");

    // The server agrees.
    let a = api.get(&format!("{runs}/ui-1")).await;
    assert_eq!((a.body["state"].as_str(), a.body["output"]["status"].as_str()), (Some("completed"), Some("shipped")), "{a:?}");
    if let Ok(path) = std::env::var("CONTINUUM_UI_SCREENSHOT") {
        let png = browser.screenshot().await;
        let tmp = format!("{path}.{store:?}.tmp");
        std::fs::write(&tmp, png).expect("write the screenshot");
        std::fs::rename(&tmp, &path).expect("move the screenshot in place");
    }

    // Cancel ui-2 from its page (two clicks); the workflows page lists the versions.
    browser.goto(&format!("{}/#/i/default/runs/ui-2", api.base)).await;
    browser.wait_text("#run-state", SEEN, |t| t == "suspended").await;
    browser.click("#cancel-run").await;
    browser.click("#cancel-run").await;
    browser.wait_text("#run-state", START, |t| t == "cancelled").await;
    browser.find("#run-error", SEEN).await;
    // A parent's page lists its child with its state and links to it; the
    // child's page links back to its parent.
    let input = json!({"mode": "one", "run_id": "ui-child", "input": {"value": 21, "wait_signal": "go"}});
    let a = api.post(runs, &json!({"workflow": "parent-flow", "input": input, "run_id": "ui-parent"})).await;
    assert_eq!(a.status, 201, "{a:?}");
    browser.goto(&format!("{}/#/i/default/runs/ui-parent", api.base)).await;
    browser.wait_text(r#"#run-children tr[data-run="ui-child"]"#, START, |t| t.contains("child-flow") && t.contains("cancel")).await;
    browser.find(r#".tl-row[data-kind="child"][data-status="open"]"#, SEEN).await;
    browser.click(r#"#run-children tr[data-run="ui-child"] a"#).await;
    browser.wait_text("#run-parent", SEEN, |t| t == "ui-parent").await;
    let a = api.post(&format!("{runs}/ui-child/signals"), &json!({"name": "go", "payload": "now"})).await;
    assert_eq!(a.status, 202, "{a:?}");
    browser.wait_text("#run-state", START, |t| t == "completed").await;
    browser.click("#run-parent").await;
    browser.wait_text("#run-state", START, |t| t == "completed").await;
    browser.find(r#".tl-row[data-kind="child"][data-status="completed"]"#, SEEN).await;
    browser.wait_text(r#"#run-children tr[data-run="ui-child"]"#, SEEN, |t| t.contains("completed")).await;

    // A counter's page: an update gets its reply, a query its answer;
    // pause and resume; a reset to before the update takes its add back.
    let a = api.post(runs, &json!({"workflow": "counter-flow", "input": {}, "run_id": "ui-counter"})).await;
    assert_eq!(a.status, 201, "{a:?}");
    browser.goto(&format!("{}/#/i/default/runs/ui-counter", api.base)).await;
    browser.wait_text("#run-state", START, |t| t == "suspended").await;
    browser.fill("#update-name", "add").await;
    browser.fill("#update-payload", "5").await;
    browser.click("#update-send").await;
    browser.wait_text("#update-reply", START, |t| t == "5").await;
    browser.fill("#query-name", "count").await;
    browser.click("#query-ask").await;
    browser.wait_text("#query-answer", START, |t| t == "5").await;
    browser.fill("#query-name", "nope").await;
    browser.click("#query-ask").await;
    browser.wait_text("#query-result", SEEN, |t| t.contains("nope")).await;
    browser.click("#run-pause").await;
    browser.find("#run-resume", SEEN).await;
    let paused = api.get(&format!("{runs}/ui-counter")).await;
    assert!(paused.body["paused_at"].is_string(), "{paused:?}");
    browser.click("#run-resume").await;
    browser.find("#run-pause", SEEN).await;
    assert!(api.get(&format!("{runs}/ui-counter")).await.body["paused_at"].is_null());
    let journal = api.get(&format!("{runs}/ui-counter/journal")).await;
    let received = journal.body["events"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["body"]["type"] == "signal_received"))
        .and_then(|e| e["seq"].as_i64())
        .expect("the update's entry");
    browser.eval("window.beforeReset = true; return null").await;
    browser.fill("#reset-seq", &(received - 1).to_string()).await;
    browser.click("#reset-run").await;
    eventually(SEEN, || async { (browser.eval("return window.beforeReset === undefined").await == json!(true)).then_some(()) })
        .await
        .expect("the page starts over after a reset");
    browser.wait_text("#run-state", START, |t| t == "suspended").await;
    browser.fill("#query-name", "count").await;
    browser.click("#query-ask").await;
    browser.wait_text("#query-answer", START, |t| t == "0").await;
    let history = api.get(&format!("{runs}/ui-counter/history")).await;
    assert_eq!(history.body["resets"].as_array().map(Vec::len), Some(1), "{history:?}");

    // The schedules page: a bad cron is refused with the server's message;
    // a good one is created, listed, paused, resumed and deleted.
    browser.goto(&format!("{}/#/i/default/schedules", api.base)).await;
    browser.find("#no-schedules", SEEN).await;
    browser.fill("#schedule-name", "ui-nightly").await;
    browser.select("#schedule-workflow", "order-flow").await;
    browser.fill("#schedule-cron", "61 2 * * *").await;
    browser.fill("#schedule-input", &order("nightly").to_string()).await;
    browser.click("#schedule-create").await;
    browser.wait_text("#schedule-result", SEEN, |t| t.contains("invalid cron expression")).await;
    browser.fill("#schedule-cron", "0 2 * * *").await;
    browser.fill("#schedule-time_zone", "Europe/Paris").await;
    browser.click("#schedule-create").await;
    browser.wait_text("#schedule-result", SEEN, |t| t.contains("Schedule ui-nightly created")).await;
    let row = browser.wait_text(r#"tr[data-schedule="ui-nightly"]"#, SEEN, |t| t.contains("active")).await;
    assert!(row.contains("order-flow") && row.contains("Europe/Paris"), "{row}");
    browser.click(r#"tr[data-schedule="ui-nightly"] button[data-action="pause"]"#).await;
    browser.find(r#"tr[data-schedule="ui-nightly"] [data-state="paused"]"#, SEEN).await;
    let listed = api.get("/v1/instances/default/schedules").await;
    assert_eq!((listed.body["schedules"][0]["name"].as_str(), listed.body["schedules"][0]["paused"].as_bool()), (Some("ui-nightly"), Some(true)), "{listed:?}");
    assert_eq!(listed.body["schedules"][0]["input"], order("nightly"), "{listed:?}");
    browser.click(r#"tr[data-schedule="ui-nightly"] button[data-action="resume"]"#).await;
    browser.find(r#"tr[data-schedule="ui-nightly"] [data-state="active"]"#, SEEN).await;
    browser.click(r#"tr[data-schedule="ui-nightly"] button[data-action="delete"]"#).await;
    browser.find("#no-schedules", SEEN).await;
    assert_eq!(api.get("/v1/instances/default/schedules").await.body, json!({"schedules": []}));

    browser.goto(&format!("{}/#/i/default/workflows", api.base)).await;
    let wf = browser.wait_text(r#"[data-workflow="order-flow"]"#, SEEN, |t| t.contains("current")).await;
    let hash = api.get("/v1/instances/default/workflows").await.body["workflows"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["workflow"] == "order-flow"))
        .and_then(|w| w["current"].as_str())
        .map(str::to_string)
        .expect("order-flow's current version");
    assert!(wf.contains(&hash), "{wf}");
    browser.close().await;
});
