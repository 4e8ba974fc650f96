//! Named instances (issue 3): every call names its instance and omitting it
//! means `default`; an unknown name is refused (facade and CLI); two
//! instances are isolated even on one database (Postgres, and SQLite in one
//! process), down to the same run id living in both; lease owners are
//! `node/instance/counter` and a fenced write never validates against
//! another instance's lease; the default instance cannot be registered
//! twice.

use std::time::Duration;

use continuum_host::{ChildrenConfig, Instance};
use continuum_host::{Database, RunState};
use continuum_host::Manifest;
use continuum_host::{CallOptions, Continuum, Error, Mode, StartOptions};
use continuum_tests::*;
use serde_json::{json, Value};

fn order(id: &str, extra: Value) -> Value {
    let mut v = json!({"order_id": id, "sku": "BOOK-42", "quantity": 1, "amount_cents": 4200, "card": "4242-4242-4242-4242"});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn expect_not_registered<T: std::fmt::Debug>(what: &str, r: Result<T, Error>) {
    match r {
        Err(Error::InstanceNotRegistered(name)) => assert_eq!(name, "nope", "{what}: wrong instance named"),
        other => panic!("{what} with instance `nope` should give InstanceNotRegistered, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_name_their_instance_and_an_unknown_one_is_refused() {
    let db = PgDb::create().await;
    let dir = TempDir::new();
    let manifest_path = write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("default", &db.url)]);
    let manifest = Manifest::load(&manifest_path).expect("load the manifest");
    let c = Continuum::from_manifest(&manifest, Mode::Client, &[]).await.expect("client over the manifest");
    assert_eq!(c.instance_names(), vec!["default".to_string()]);

    // Omitting the instance means `default`; naming it is the same.
    let run = c.start("order-flow", order("o-1", json!({})), StartOptions::default()).await.expect("start on the default instance");
    let continuum_host::RunHistory { run: record,  .. } = c.history(&run, CallOptions::instance("default")).await.expect("the run is in `default`");
    assert_eq!(record.key.instance, "default");
    assert_eq!(record.state, RunState::Pending);
    let named = c
        .start("order-flow", order("o-2", json!({})), StartOptions { instance: Some("default".into()), run_id: Some("named".into()), ..Default::default() })
        .await
        .expect("start naming `default`");
    assert_eq!(named, "named");
    c.history("named", CallOptions::default()).await.expect("a run started naming `default` is found without naming it");

    // An unknown instance is refused by every verb of the facade.
    let nope = || CallOptions::instance("nope");
    expect_not_registered(
        "start",
        c.start("order-flow", json!({}), StartOptions { instance: Some("nope".into()), run_id: None, ..Default::default() }).await,
    );
    expect_not_registered("signal", c.signal(&run, "fraud_review", json!("approved"), nope()).await);
    expect_not_registered("cancel", c.cancel(&run, nope()).await);
    expect_not_registered("await_run", c.await_run(&run, Duration::from_millis(100), nope()).await);
    expect_not_registered("show", c.history(&run, nope()).await);
    expect_not_registered("instance", c.instance(Some("nope")).map(|_| ()));
    expect_not_registered("from_manifest", Continuum::from_manifest(&manifest, Mode::Client, &["nope".to_string()]).await.map(|_| ()));

    // And by every verb of the CLI: a clear message and exit code 2.
    for args in [
        vec!["await", run.as_str(), "--timeout", "1", "--instance", "nope"],
        vec!["show", run.as_str(), "--instance", "nope"],
        vec!["cancel", run.as_str(), "--instance", "nope"],
        vec!["signal", run.as_str(), "fraud_review", "\"approved\"", "--instance", "nope"],
        vec!["runs", "--instance", "nope"],
    ] {
        let out = cli(&manifest_path, &args);
        assert_eq!(out.status.code(), Some(2), "continuum {args:?} should exit 2: {}", stderr(&out));
        assert!(stderr(&out).contains("instance `nope` is not registered"), "continuum {args:?}: {}", stderr(&out));
    }
    // Nothing of that touched the run.
    let continuum_host::RunHistory { run: record, events, .. } = c.history(&run, CallOptions::default()).await.unwrap();
    assert_eq!(record.state, RunState::Pending);
    assert!(record.cancel_requested_at.is_none(), "a refused cancel recorded a request");
    assert!(events.is_empty(), "{events:?}");
}

/// Two instances on ONE Postgres database, served by one host: a run of one
/// is invisible to the other, and the same run id lives in both.
#[tokio::test(flavor = "multi_thread")]
async fn two_instances_on_one_postgres_database_are_isolated() {
    let db = PgDb::create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(
        &dir.0,
        "node-a",
        &[InstanceSpec::examples("default", &db.url), InstanceSpec::examples("billing", &db.url)],
    );
    let _host = Host::start(&manifest, &[]);

    let a = cli_ok(&manifest, &["start", "order-flow", &order("in-default", json!({})).to_string(), "--run-id", "same-id"]);
    assert_eq!(a, "same-id");
    // Invisible to the other instance.
    let out = cli(&manifest, &["show", "same-id", "--instance", "billing"]);
    assert_eq!(out.status.code(), Some(2), "show in `billing` should not find the run: {}", stderr(&out));
    assert!(stderr(&out).contains("run `same-id` not found in instance `billing`"), "{}", stderr(&out));
    let out = cli(&manifest, &["signal", "same-id", "fraud_review", "\"approved\"", "--instance", "billing"]);
    assert_eq!(out.status.code(), Some(2), "a signal to `billing` should not reach `default`'s run: {}", stderr(&out));

    // The same id in the other instance, at the same time.
    let b = cli_ok(
        &manifest,
        &["start", "order-flow", &order("in-billing", json!({"review_timeout_ms": 300})).to_string(), "--run-id", "same-id", "--instance", "billing"],
    );
    assert_eq!(b, "same-id");
    let out = cli(&manifest, &["start", "order-flow", "{}", "--run-id", "same-id"]);
    assert_eq!(out.status.code(), Some(2), "a second run `same-id` in `default` must be refused: {}", stderr(&out));
    assert!(stderr(&out).contains("already exists in instance `default`"), "{}", stderr(&out));

    // A signal to `default` is for `default`'s run only: billing's times out.
    cli_ok(&manifest, &["signal", "same-id", "fraud_review", "\"approved\""]);
    let out: Value = serde_json::from_str(&cli_ok(&manifest, &["await", "same-id", "--timeout", "60"])).unwrap();
    assert_eq!(out["order_id"], "in-default", "{out}");
    assert_eq!(out["status"], "shipped", "{out}");
    let out: Value =
        serde_json::from_str(&cli_ok(&manifest, &["await", "same-id", "--timeout", "60", "--instance", "billing"])).unwrap();
    assert_eq!(out["order_id"], "in-billing", "{out}");
    assert_eq!(out["status"], "refunded", "{out}");
    assert_eq!(out["reason"], "fraud_review_timeout", "{out}");

    // Each journal is its own.
    let da = show_json(&manifest, "same-id", None);
    let db_ = show_json(&manifest, "same-id", Some("billing"));
    assert_eq!(da.run.key.instance, "default", "{da:?}");
    assert_eq!(db_.run.key.instance, "billing", "{db_:?}");
    let kinds = |d: &Shown| -> Vec<String> { d.kinds().into_iter().map(str::to_string).collect() };
    assert!(kinds(&da).contains(&"signal_received".to_string()), "{:?}", kinds(&da));
    assert!(!kinds(&da).contains(&"timer_fired".to_string()), "{:?}", kinds(&da));
    assert!(kinds(&db_).contains(&"timer_fired".to_string()), "{:?}", kinds(&db_));
    assert!(!kinds(&db_).contains(&"signal_received".to_string()), "{:?}", kinds(&db_));

    // And both rows are in the one database.
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT instance, state FROM runs WHERE run_id = 'same-id' ORDER BY instance").fetch_all(&pool).await.unwrap();
    assert_eq!(rows, vec![("billing".into(), "completed".into()), ("default".into(), "completed".into())]);
    pool.close().await;
}

/// Two SQLite instances in one process, sharing one journal (one file).
#[tokio::test(flavor = "multi_thread")]
async fn two_sqlite_instances_in_one_process_are_isolated() {
    let dir = TempDir::new();
    let url = format!("sqlite:{}", dir.0.join("shared.db").display());
    let database = Database::open(&url, 4).await.expect("open the SQLite database");
    let mut c = Continuum::new();
    for name in ["orders", "billing"] {
        let instance = Instance::builder(name)
            .shared_database(database.clone())
            .node("node-s")
            .workflow("order-flow", component("order_flow"))
            .activity_component(component("order_activities"))
            .cache_dir(cache_dir())
            .build()
            .await
            .unwrap_or_else(|e| panic!("build instance {name}: {e}"));
        c.register(instance).expect("register");
    }
    c.start_all();
    let opts = |i: &str| StartOptions { instance: Some(i.into()), run_id: Some("same-id".into()), ..Default::default() };
    c.start("order-flow", order("o-orders", json!({"review_timeout_ms": 200})), opts("orders")).await.expect("start in orders");
    match c.history("same-id", CallOptions::instance("billing")).await {
        Err(Error::UnknownRun { instance, run_id }) => assert_eq!((instance.as_str(), run_id.as_str()), ("billing", "same-id")),
        other => panic!("`billing` should not see `orders`' run: {other:?}"),
    }
    match c.history("same-id", CallOptions::default()).await {
        Err(Error::InstanceNotRegistered(n)) => assert_eq!(n, "default"),
        other => panic!("there is no default instance here: {other:?}"),
    }
    c.start("order-flow", order("o-billing", json!({})), opts("billing")).await.expect("start the same id in billing");
    c.signal("same-id", "fraud_review", json!("rejected"), CallOptions::instance("billing")).await.unwrap();

    let a = c.await_run("same-id", Duration::from_secs(60), CallOptions::instance("orders")).await.expect("await orders");
    let b = c.await_run("same-id", Duration::from_secs(60), CallOptions::instance("billing")).await.expect("await billing");
    c.stop_all().await;
    assert_eq!(a.state, RunState::Completed, "{a:?}");
    assert_eq!(b.state, RunState::Completed, "{b:?}");
    let (a, b) = (a.output.unwrap(), b.output.unwrap());
    assert_eq!((a["order_id"].as_str(), a["reason"].as_str()), (Some("o-orders"), Some("fraud_review_timeout")), "{a}");
    assert_eq!((b["order_id"].as_str(), b["reason"].as_str()), (Some("o-billing"), Some("fraud_review_rejected")), "{b}");
}

fn owner_parts(owner: &str) -> (String, String, u64) {
    let parts: Vec<&str> = owner.split('/').collect();
    assert_eq!(parts.len(), 3, "lease owner `{owner}` is not node/instance/counter");
    let n = parts[2].parse().unwrap_or_else(|_| panic!("lease owner `{owner}`: the counter is not an integer"));
    (parts[0].to_string(), parts[1].to_string(), n)
}

/// The owner string of a host's lease, seen from outside while the run is
/// busy in a spinning activity.
#[tokio::test(flavor = "multi_thread")]
async fn the_lease_owner_is_node_instance_counter() {
    // A guest keeps a core busy here: one such scenario at a time.
    let _turn = cpu_heavy().await;
    let db = PgDb::create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-lease", &[InstanceSpec::examples("billing", &db.url)]);
    let _host = Host::start(&manifest, &[]);
    let run = cli_ok(
        &manifest,
        &["start", "order-flow", &order("o-spin", json!({"spin": 20_000_000_000u64})).to_string(), "--instance", "billing"],
    );
    let owner = eventually(Duration::from_secs(60), || async {
        let doc = show_json(&manifest, &run, Some("billing"));
        (doc.run.state == "running").then(|| doc.run.lease_owner.clone()).flatten()
    })
    .await
    .expect("the run never ran with a lease");
    let (node, instance, _) = owner_parts(&owner);
    assert_eq!((node.as_str(), instance.as_str()), ("node-lease", "billing"), "lease owner `{owner}`");
}

// The journal-level check that one instance's lease never fences another
// instance's write lives with the journal suite (both stores):
// host/src/journal/tests/instance_fence.rs.

#[tokio::test(flavor = "multi_thread")]
async fn the_default_instance_cannot_be_registered_twice() {
    let dir = TempDir::new();
    let build = |file: &str| {
        let url = format!("sqlite:{}", dir.0.join(file).display());
        async move { Instance::builder("default").database(url).children(ChildrenConfig::client_only()).build().await }
    };
    let mut c = Continuum::new();
    c.register(build("one.db").await.expect("build the first")).expect("the first registration");
    match c.register(build("two.db").await.expect("build the second")) {
        Err(Error::InstanceAlreadyRegistered(name)) => assert_eq!(name, "default"),
        other => panic!("registering `default` twice should be refused, got {:?}", other.map(|i| i.name().to_string())),
    }
    assert_eq!(c.instance_names(), vec!["default".to_string()]);
    // The first one is still the one served.
    assert!(c.instance(None).is_ok());
}
