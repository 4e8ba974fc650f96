use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

const FULL: &str = r#"
node = "host-a"
data_dir = ".continuum"

[instances.default]
database = "sqlite:.continuum/default.db"
max_connections = 16

[instances.default.workflows]
order-flow = "examples-wasm/components/order_flow.wasm"

[instances.default.activities]
order-activities = "examples-wasm/components/order_activities.wasm"

[instances.default.children]
heartbeater = { interval_ms = 2000, lease_ttl_ms = 10000 }
run_supervisor = { max_concurrent_runs = 512 }
activity_supervisor = { max_concurrent = 64, default_attempt_timeout_ms = 60000 }
recovery = { interval_ms = 5000 }
dispatcher = { poll_interval_ms = 500, batch_size = 64 }
activity_dispatcher = { poll_interval_ms = 500, queues = ["default"], batch_size = 16 }
wake_router = { }
snapshotter = false
"#;

const FILE: &str = "/etc/app/instances.toml";

fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name: &str| map.get(name).cloned()
}

fn parse(text: &str) -> Result<Manifest, ManifestError> {
    Manifest::parse_with_env(text, Path::new(FILE), &env_of(&[("HOSTNAME", "box-1")]))
}

fn parse_ok(text: &str) -> Manifest {
    match parse(text) {
        Ok(m) => m,
        Err(e) => panic!("expected manifest to parse, got: {e}"),
    }
}

/// Parse `text`, expect an error, and check its message contains every needle.
fn parse_err(text: &str, needles: &[&str]) -> ManifestError {
    let err = match parse(text) {
        Ok(m) => panic!("expected an error, got {m:?}"),
        Err(e) => e,
    };
    let msg = err.to_string();
    for needle in needles {
        assert!(msg.contains(needle), "message {msg:?} lacks {needle:?}");
    }
    assert!(
        msg.contains("instances.toml"),
        "message {msg:?} lacks the file"
    );
    err
}

fn minimal(extra: &str) -> String {
    format!("[instances.default]\ndatabase = \"sqlite::memory:\"\n{extra}")
}

#[test]
fn full_example_parses() {
    let m = parse_ok(FULL);
    assert_eq!(m.path, PathBuf::from(FILE));
    assert_eq!(m.node, "host-a");
    assert_eq!(m.data_dir, PathBuf::from("/etc/app/.continuum"));
    let d = m.instance(DEFAULT_INSTANCE).expect("default instance");
    assert_eq!(d.name, "default");
    assert_eq!(d.database, "sqlite:/etc/app/.continuum/default.db");
    assert!(d.is_sqlite());
    assert_eq!(d.max_connections, 16);
    assert_eq!(
        d.workflows.get("order-flow"),
        Some(&PathBuf::from(
            "/etc/app/examples-wasm/components/order_flow.wasm"
        ))
    );
    assert_eq!(
        d.activities.get("order-activities"),
        Some(&PathBuf::from(
            "/etc/app/examples-wasm/components/order_activities.wasm"
        ))
    );
    assert_eq!(d.children, ChildrenConfig::default());
    assert!(m.instance("billing").is_none());
}

#[test]
fn explicit_values_are_read() {
    let m = parse_ok(&minimal(
        r#"max_connections = 3
[instances.default.children]
heartbeater = { interval_ms = 100, lease_ttl_ms = 900 }
run_supervisor = { max_concurrent_runs = 7, max_activation_ms = 250, max_memory_mb = 128, max_activation_events = 900, max_activation_mb = 3, max_history_events = 5000, max_core_instances = 40, max_tables = 41, max_memories = 9, max_guests_memory_mb = 300, cancel_cleanup_ms = 1234 }
activity_supervisor = { max_concurrent = 5, default_attempt_timeout_ms = 1500, queue_limits = { slow = 2 }, max_memory_mb = 32, heartbeat_interval_ms = 250, cancel_grace_ms = 700 }
recovery = { interval_ms = 42 }
dispatcher = { poll_interval_ms = 10, batch_size = 2 }
activity_dispatcher = { poll_interval_ms = 20, queues = ["a", "b"], batch_size = 3 }
snapshotter = { threshold_events = 50 }
"#,
    ));
    let d = &m.instances["default"];
    assert_eq!(d.max_connections, 3);
    let c = &d.children;
    assert_eq!(
        c.heartbeater,
        Some(HeartbeaterConfig {
            interval: Duration::from_millis(100),
            lease_ttl: Duration::from_millis(900)
        })
    );
    assert_eq!(
        c.run_supervisor,
        Some(RunSupervisorConfig {
            max_concurrent_runs: 7,
            max_activation: Duration::from_millis(250),
            max_memory: 128 << 20,
            max_activation_events: 900,
            max_activation_bytes: 3 << 20,
            max_history_events: 5000,
            max_core_instances: 40,
            max_tables: 41,
            max_memories: 9,
            max_guests_memory: 300 << 20,
            cancel_cleanup: Duration::from_millis(1234),
        })
    );
    assert_eq!(
        c.activity_supervisor,
        Some(ActivitySupervisorConfig {
            max_concurrent: 5,
            default_attempt_timeout: Duration::from_millis(1500),
            queue_limits: [("slow".to_string(), 2)].into_iter().collect(),
            max_memory: 32 << 20,
            heartbeat_interval: Duration::from_millis(250),
            cancel_grace: Duration::from_millis(700),
        })
    );
    assert_eq!(
        c.recovery,
        Some(RecoveryConfig {
            interval: Duration::from_millis(42)
        })
    );
    assert_eq!(
        c.dispatcher,
        Some(DispatcherConfig {
            poll_interval: Duration::from_millis(10),
            batch_size: 2
        })
    );
    assert_eq!(
        c.activity_dispatcher,
        Some(ActivityDispatcherConfig {
            poll_interval: Duration::from_millis(20),
            queues: vec!["a".to_owned(), "b".to_owned()],
            batch_size: 3
        })
    );
    assert_eq!(c.wake_router, Some(WakeRouterConfig {}));
    assert_eq!(
        c.snapshotter,
        Some(SnapshotterConfig {
            threshold_events: 50
        })
    );
}

#[test]
fn defaults() {
    let m = parse_ok(&minimal(""));
    assert_eq!(m.node, "box-1");
    assert_eq!(m.data_dir, PathBuf::from("/etc/app/.continuum"));
    let d = &m.instances["default"];
    assert_eq!(d.database, "sqlite::memory:");
    assert_eq!(d.max_connections, 16);
    assert!(d.workflows.is_empty());
    assert!(d.activities.is_empty());
    let c = &d.children;
    assert_eq!(*c, ChildrenConfig::default());
    let hb = c.heartbeater.clone().expect("heartbeater on");
    assert_eq!(hb.interval, Duration::from_millis(2000));
    assert_eq!(hb.lease_ttl, Duration::from_millis(10_000));
    assert_eq!(
        c.run_supervisor.as_ref().map(|r| r.max_concurrent_runs),
        Some(512)
    );
    let rs = c.run_supervisor.clone().expect("run supervisor on");
    assert_eq!(rs.max_activation, Duration::from_secs(10));
    assert_eq!(rs.max_memory, 64 << 20);
    assert_eq!(rs.max_activation_events, 50_000);
    assert_eq!(rs.max_activation_bytes, 64 << 20);
    assert_eq!(rs.max_history_events, 200_000);
    let asup = c
        .activity_supervisor
        .clone()
        .expect("activity supervisor on");
    assert_eq!(asup.max_concurrent, 64);
    assert_eq!(asup.default_attempt_timeout, Duration::from_secs(60));
    assert_eq!(
        c.recovery.as_ref().map(|r| r.interval),
        Some(Duration::from_secs(5))
    );
    let disp = c.dispatcher.clone().expect("dispatcher on");
    assert_eq!(
        (disp.poll_interval, disp.batch_size),
        (Duration::from_millis(500), 64)
    );
    let ad = c
        .activity_dispatcher
        .clone()
        .expect("activity dispatcher on");
    assert_eq!(ad.poll_interval, Duration::from_millis(500));
    assert_eq!(ad.queues, vec!["default".to_owned()]);
    assert_eq!(ad.batch_size, 16);
    assert!(c.wake_router.is_some());
    assert!(c.snapshotter.is_none());
    assert_eq!(SnapshotterConfig::default().threshold_events, 1000);
}

#[test]
fn partial_child_table_keeps_other_defaults() {
    let m = parse_ok(&minimal(
        "[instances.default.children]\ndispatcher = { batch_size = 8 }\nsnapshotter = {}\n",
    ));
    let c = &m.instances["default"].children;
    assert_eq!(
        c.dispatcher,
        Some(DispatcherConfig {
            poll_interval: Duration::from_millis(500),
            batch_size: 8
        })
    );
    assert_eq!(c.snapshotter, Some(SnapshotterConfig::default()));
}

#[test]
fn false_omits_a_child() {
    let m = parse_ok(&minimal(
        "[instances.default.children]\nactivity_dispatcher = false\nrecovery = false\nwake_router = false\n",
    ));
    let c = &m.instances["default"].children;
    assert!(c.activity_dispatcher.is_none());
    assert!(c.recovery.is_none());
    assert!(c.wake_router.is_none());
    assert!(c.dispatcher.is_some());
}

#[test]
fn the_timer_wheel_is_refused_timers_are_fired_by_the_dispatcher() {
    for value in ["{ poll_interval_ms = 1000 }", "{}", "false", "true"] {
        let err = parse_err(
            &format!("{}[instances.default.children]
timer_wheel = {value}
", minimal("")),
            &["instance `default`", "instances.default.children.timer_wheel", "timers are fired by the dispatcher"],
        );
        assert_eq!(err.to_string().lines().count(), 1, "one line: {err}");
    }
}

#[test]
fn several_instances() {
    let m = parse_ok(
        r#"
[instances.default]
database = "sqlite:a.db"
[instances.billing_2]
database = "postgresql://u@h/db"
[instances.billing_2.children]
recovery = false
"#,
    );
    assert_eq!(
        m.instances.keys().collect::<Vec<_>>(),
        ["billing_2", "default"]
    );
    let b = &m.instances["billing_2"];
    assert_eq!(b.name, "billing_2");
    assert_eq!(b.database, "postgresql://u@h/db");
    assert!(!b.is_sqlite());
    assert!(b.children.recovery.is_none());
    assert!(m.instances["default"].children.recovery.is_some());
}

#[test]
fn relative_paths_resolve_against_manifest_dir() {
    let m = parse_ok(
        r#"
data_dir = "./state"
[instances.default]
database = "sqlite://data/x.db?mode=rwc"
[instances.default.workflows]
a = "./wasm/a.wasm"
b = "/abs/b.wasm"
c = "../shared/c.wasm"
"#,
    );
    assert_eq!(m.data_dir, PathBuf::from("/etc/app/state"));
    let d = &m.instances["default"];
    assert_eq!(d.database, "sqlite:/etc/app/data/x.db?mode=rwc");
    assert_eq!(d.workflows["a"], PathBuf::from("/etc/app/wasm/a.wasm"));
    assert_eq!(d.workflows["b"], PathBuf::from("/abs/b.wasm"));
    assert_eq!(d.workflows["c"], PathBuf::from("/etc/app/../shared/c.wasm"));

    let abs = parse_ok("[instances.default]\ndatabase = \"sqlite:/var/db/x.db\"\n");
    assert_eq!(abs.instances["default"].database, "sqlite:/var/db/x.db");
}

#[test]
fn relative_manifest_path_is_made_absolute() {
    let m = Manifest::parse_with_env(&minimal(""), Path::new("instances.toml"), &env_of(&[]))
        .expect("parses");
    assert!(m.path.is_absolute());
    assert!(m.data_dir.is_absolute());
    assert!(m.data_dir.ends_with(".continuum"));
}

#[test]
fn env_substitution() {
    let text =
        "[instances.default]\ndatabase = \"postgres://app:${DB_PASS}@${DB_HOST}:5432/app$x\"\n";
    let env = env_of(&[("DB_PASS", "s3cret"), ("DB_HOST", "db.local")]);
    let m = Manifest::parse_with_env(text, Path::new(FILE), &env).expect("parses");
    assert_eq!(
        m.instances["default"].database,
        "postgres://app:s3cret@db.local:5432/app$x"
    );

    // The whole URL may come from the environment, and a SQLite path still resolves.
    let text = "[instances.default]\ndatabase = \"${URL}\"\n";
    let env = env_of(&[("URL", "sqlite:rel.db")]);
    let m = Manifest::parse_with_env(text, Path::new(FILE), &env).expect("parses");
    assert_eq!(m.instances["default"].database, "sqlite:/etc/app/rel.db");
}

#[test]
fn error_unset_env_var() {
    let err = parse_err(
        "[instances.billing]\ndatabase = \"postgres://u:${BILLING_PW}@h/db\"\n",
        &[
            "instance `billing`",
            "instances.billing.database",
            "BILLING_PW",
            "not set",
        ],
    );
    assert!(matches!(err, ManifestError::UnsetEnvVar { ref var, .. } if var == "BILLING_PW"));
    parse_err(
        "[instances.billing]\ndatabase = \"postgres://u:${BILLING_PW@h/db\"\n",
        &[
            "instance `billing`",
            "instances.billing.database",
            "closing",
        ],
    );
}

#[test]
fn error_unreadable_file() {
    let path = Path::new("/nonexistent/dir/instances.toml");
    let err = Manifest::load(path).expect_err("must fail");
    assert!(matches!(err, ManifestError::Read { .. }));
    assert!(err.to_string().contains("/nonexistent/dir/instances.toml"));
    assert_eq!(err.file(), path);
}

#[test]
fn error_syntax_has_line_and_column() {
    let err = parse_err(
        "[instances.default]\ndatabase = \"x\nfoo = 1\n",
        &["TOML syntax error"],
    );
    match err {
        ManifestError::Syntax { line, column, .. } => {
            assert_eq!(line, 2);
            assert!(column >= 1);
        }
        other => panic!("unexpected {other:?}"),
    }
    let msg = parse("node = \n").expect_err("fails").to_string();
    assert!(msg.starts_with("/etc/app/instances.toml:1:"), "{msg}");
}

#[test]
fn error_unknown_key_names_full_path() {
    let err = parse_err(
        "[instances.billing]\ndatabase = \"sqlite::memory:\"\n[instances.billing.children]\ndispatcher = { pol_interval_ms = 5 }\n",
        &[
            "instance `billing`",
            "`instances.billing.children.dispatcher.pol_interval_ms`",
            "did you mean `poll_interval_ms`",
        ],
    );
    assert!(matches!(err, ManifestError::UnknownKey { .. }));
    parse_err(
        &minimal("databse = 1\n"),
        &["instances.default.databse", "instance `default`"],
    );
    parse_err(
        &minimal("[instances.default.children]\ndispatch = {}\n"),
        &[
            "instances.default.children.dispatch",
            "did you mean `dispatcher`",
        ],
    );
    let err = parse_err(
        &format!("nodes = \"x\"\n{}", minimal("")),
        &["unknown key `nodes`"],
    );
    assert!(matches!(
        err,
        ManifestError::UnknownKey { instance: None, .. }
    ));
}

#[test]
fn error_wrong_type() {
    let err = parse_err(
        &minimal("max_connections = \"many\"\n"),
        &[
            "instance `default`",
            "instances.default.max_connections",
            "positive integer",
            "string",
        ],
    );
    assert!(matches!(err, ManifestError::WrongType { .. }));
    parse_err(
        &minimal("[instances.default.children]\ndispatcher = { batch_size = 1.5 }\n"),
        &["instances.default.children.dispatcher.batch_size", "float"],
    );
    parse_err(
        &minimal("[instances.default.children]\nactivity_dispatcher = { queues = \"a\" }\n"),
        &[
            "instances.default.children.activity_dispatcher.queues",
            "array",
        ],
    );
    parse_err(
        &minimal("[instances.default.children]\nactivity_dispatcher = { queues = [1] }\n"),
        &["instances.default.children.activity_dispatcher.queues[0]"],
    );
    parse_err(
        &minimal("[instances.default.workflows]\nflow = 3\n"),
        &["instances.default.workflows.flow", "integer"],
    );
    parse_err(
        "[instances.default]\ndatabase = 5\n",
        &["instances.default.database", "string"],
    );
    parse_err("instances = 3\n", &["`instances`", "table"]);
    parse_err(
        "[instances]\ndefault = \"x\"\n",
        &["instance `default`", "`instances.default`", "table"],
    );
    parse_err(
        "node = 3\n[instances.a]\ndatabase=\"sqlite::memory:\"\n",
        &["`node`", "string"],
    );
}

#[test]
fn error_invalid_values() {
    parse_err(
        &minimal("max_connections = 0\n"),
        &["instances.default.max_connections", "positive"],
    );
    parse_err(
        &minimal("max_connections = 99999999999\n"),
        &["instances.default.max_connections", "too large"],
    );
    parse_err(
        &minimal("[instances.default.children]\nrecovery = { interval_ms = -5 }\n"),
        &["instances.default.children.recovery.interval_ms"],
    );
    parse_err(&minimal("[instances.default.children]\nheartbeater = { interval_ms = 5000, lease_ttl_ms = 5000 }\n"), &[
        "instances.default.children.heartbeater.lease_ttl_ms",
        "longer",
    ]);
    parse_err(
        &minimal("[instances.default.children]\nactivity_dispatcher = { queues = [] }\n"),
        &[
            "instances.default.children.activity_dispatcher.queues",
            "empty",
        ],
    );
    parse_err(
        &format!("node = \"a/b\"\n{}", minimal("")),
        &["`node`", "/"],
    );
}

#[test]
fn error_child_not_table_or_false() {
    let err = parse_err(
        &minimal("[instances.default.children]\ndispatcher = true\n"),
        &[
            "instance `default`",
            "instances.default.children.dispatcher",
            "`true`",
            "or `false`",
        ],
    );
    assert!(matches!(err, ManifestError::InvalidChild { .. }));
    parse_err(
        &minimal("[instances.default.children]\nsnapshotter = 1000\n"),
        &["instances.default.children.snapshotter", "integer"],
    );
    parse_err(
        &minimal("[instances.default.children]\nsignal_router = { x = 1 }\n"),
        &["instances.default.children.signal_router.x"],
    );
    parse_err(
        &minimal("[instances.default.children]\nwake_router = { x = 1 }\n"),
        &["instances.default.children.wake_router.x"],
    );
}

#[test]
fn signal_router_is_the_former_name_of_wake_router() {
    let on = parse_ok(&minimal("[instances.default.children]\nsignal_router = { }\n"));
    assert_eq!(on.instances["default"].children.wake_router, Some(WakeRouterConfig {}));
    let off = parse_ok(&minimal("[instances.default.children]\nsignal_router = false\n"));
    assert!(off.instances["default"].children.wake_router.is_none());
    parse_err(
        &minimal("[instances.default.children]\nwake_router = { }\nsignal_router = false\n"),
        &["instances.default.children.signal_router", "former name of `wake_router`"],
    );
}

#[test]
fn error_duplicate_instance() {
    let err = parse_err(
        "[instances.billing]\ndatabase = \"sqlite::memory:\"\n\n[instances.billing]\ndatabase = \"sqlite::memory:\"\n",
        &["instance `billing`", "more than once", ":4:"],
    );
    assert!(
        matches!(err, ManifestError::DuplicateInstance { ref instance, line: 4, .. } if instance == "billing")
    );
}

#[test]
fn error_duplicate_key() {
    parse_err(
        &minimal("database = \"sqlite::memory:\"\n"),
        &[
            "instance `default`",
            "duplicate key `instances.default.database`",
        ],
    );
    parse_err(
        &minimal("[instances.default.children]\n[instances.default.children]\n"),
        &["instance `default`", "instances.default.children"],
    );
    parse_err(
        &minimal("[instances.default.children]\ndispatcher = { batch_size = 1, batch_size = 2 }\n"),
        &["instance `default`", "duplicate key", "batch_size"],
    );
}

#[test]
fn error_no_instances() {
    parse_err("node = \"a\"\n", &["no instances"]);
    let err = parse_err("[instances]\n", &["no instances"]);
    assert!(matches!(err, ManifestError::NoInstances { .. }));
}

#[test]
fn error_bad_instance_name() {
    let err = parse_err(
        "[instances.\"my app\"]\ndatabase = \"sqlite::memory:\"\n",
        &["instance `my app`", "invalid instance name"],
    );
    assert!(matches!(err, ManifestError::InvalidInstanceName { .. }));
    parse_err(
        "[instances.\"a.b\"]\ndatabase = \"sqlite::memory:\"\n",
        &["instance `a.b`"],
    );
}

#[test]
fn error_missing_database() {
    parse_err(
        "[instances.billing]\nmax_connections = 4\n",
        &[
            "instance `billing`",
            "missing required key `instances.billing.database`",
        ],
    );
}

#[test]
fn error_unsupported_scheme() {
    let err = parse_err(
        "[instances.billing]\ndatabase = \"mysql://root:hunter2@h/db\"\n",
        &[
            "instance `billing`",
            "instances.billing.database",
            "`mysql`",
        ],
    );
    assert!(
        !err.to_string().contains("hunter2"),
        "credentials leaked: {err}"
    );
    parse_err(
        "[instances.billing]\ndatabase = \"data.db\"\n",
        &["instances.billing.database", "(none)"],
    );
}

#[test]
fn validate_files_reports_missing_component() {
    let dir = std::env::temp_dir().join(format!("continuum-manifest-test-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("wasm")).expect("mkdir");
    std::fs::write(dir.join("wasm/flow.wasm"), b"\0asm").expect("write");
    let manifest_path = dir.join("instances.toml");
    std::fs::write(
        &manifest_path,
        "[instances.default]\ndatabase = \"sqlite::memory:\"\n[instances.default.workflows]\nflow = \"wasm/flow.wasm\"\n[instances.default.activities]\nacts = \"wasm/missing.wasm\"\n",
    )
    .expect("write manifest");

    let m = Manifest::load(&manifest_path).expect("loads");
    let err = m.validate_files().expect_err("missing activity file");
    let msg = err.to_string();
    for needle in [
        "instances.toml",
        "instance `default`",
        "instances.default.activities.acts",
        "wasm/missing.wasm",
    ] {
        assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
    }

    std::fs::write(dir.join("wasm/missing.wasm"), b"\0asm").expect("write");
    m.validate_files().expect("all files present");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The example in the module docs is kept valid: extract and parse it.
#[test]
fn module_doc_example_parses() {
    let doc: String = include_str!("mod.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let start = doc.find("```toml\n").expect("doc example start") + "```toml\n".len();
    let len = doc[start..].find("```").expect("doc example end");
    let example = &doc[start..start + len];
    let env = env_of(&[("BILLING_DB_PASSWORD", "pw"), ("ADMIN_TOKEN", "adm"), ("DEFAULT_TOKEN", "dft")]);
    let m = Manifest::parse_with_env(example, Path::new(FILE), &env).expect("doc example parses");
    assert_eq!(m.node, "host-a");
    let http = m.http.as_ref().expect("the example has [http]");
    assert_eq!((http.admin_token.as_deref(), http.tokens.get("default").map(String::as_str)), (Some("adm"), Some("dft")));
    assert_eq!(m.instances["default"].children, ChildrenConfig::default());
    let billing = &m.instances["billing"];
    assert_eq!(billing.database, "postgres://continuum:pw@db/billing");
    assert!(billing.children.activity_dispatcher.is_none());
    assert!(billing.children.dispatcher.is_some());
}

fn with_telemetry(table: &str) -> String {
    format!("[telemetry]\n{table}\n{}", minimal(""))
}

#[test]
fn telemetry_absent_is_default() {
    let m = parse_ok(&minimal(""));
    assert_eq!(m.telemetry, crate::telemetry::TelemetryConfig::default());
}

#[test]
fn telemetry_table_parses() {
    let m = parse_ok(&with_telemetry(
        "otlp_endpoint = \"http://127.0.0.1:4318\"\nservice_name = \"orders\"",
    ));
    assert_eq!(m.telemetry.otlp_endpoint.as_deref(), Some("http://127.0.0.1:4318"));
    assert_eq!(m.telemetry.service_name.as_deref(), Some("orders"));
    let m = parse_ok(&with_telemetry("service_name = \"orders\""));
    assert_eq!(m.telemetry.otlp_endpoint, None);
    let text = with_telemetry("otlp_endpoint = \"http://${COLLECTOR}:4318\"");
    let m = Manifest::parse_with_env(&text, Path::new(FILE), &env_of(&[("COLLECTOR", "otel")])).unwrap();
    assert_eq!(m.telemetry.otlp_endpoint.as_deref(), Some("http://otel:4318"));
}

#[test]
fn telemetry_errors_name_the_key() {
    let err = parse_err(
        &with_telemetry("otlp_endpont = \"http://h:4318\""),
        &["telemetry.otlp_endpont", "did you mean `otlp_endpoint`"],
    );
    assert!(matches!(err, ManifestError::UnknownKey { instance: None, .. }));
    parse_err(&with_telemetry("otlp_endpoint = 4318"), &["telemetry.otlp_endpoint", "string"]);
    parse_err(
        &with_telemetry("otlp_endpoint = \"127.0.0.1:4318\""),
        &["telemetry.otlp_endpoint", "not an OTLP/HTTP URL"],
    );
    parse_err(
        &with_telemetry("otlp_endpoint = \"http://h:4318/v1/traces\""),
        &["telemetry.otlp_endpoint", "base URL"],
    );
    parse_err(
        &with_telemetry("otlp_endpoint = \"http://${NOPE}:4318\""),
        &["telemetry.otlp_endpoint", "NOPE", "not set"],
    );
    parse_err(&with_telemetry("service_name = \"  \""), &["telemetry.service_name", "must not be empty"]);
    parse_err("telemetry = 1\n[instances.default]\ndatabase = \"sqlite::memory:\"\n", &["telemetry", "a table"]);
}

#[test]
fn activity_limits_are_checked() {
    parse_err(
        &minimal("[instances.default.children]\nactivity_supervisor = { max_memory_mb = 512 }\n"),
        &["max_memory_mb", "at most 256"],
    );
    parse_err(
        &minimal("[instances.default.children]\nactivity_supervisor = { queue_limits = { slow = 0 } }\n"),
        &["queue_limits.slow", "positive"],
    );
    parse_err(
        &minimal("[instances.default.children]\nactivity_supervisor = { queue_limits = { slow = \"two\" } }\n"),
        &["queue_limits.slow"],
    );
}

#[test]
fn run_limits_are_checked() {
    let children = |options: &str| minimal(&format!("[instances.default.children]\nrun_supervisor = {{ {options} }}\n"));
    parse_err(&children("max_memory_mb = 512"), &["run_supervisor.max_memory_mb", "at most 256"]);
    for key in ["max_activation_ms", "max_memory_mb", "max_activation_events", "max_activation_mb", "max_history_events", "max_guests_memory_mb"] {
        parse_err(&children(&format!("{key} = 0")), &[&format!("run_supervisor.{key}"), "positive"]);
        parse_err(&children(&format!("{key} = \"lots\"")), &[&format!("run_supervisor.{key}")]);
    }
    // The budget of all guests must hold one run at its limits.
    parse_err(
        &children("max_memory_mb = 100, max_activation_mb = 28, max_guests_memory_mb = 127"),
        &["run_supervisor.max_guests_memory_mb", "at least max_memory_mb + max_activation_mb = 128 MB (got 127)"],
    );
    parse_ok(&children("max_memory_mb = 100, max_activation_mb = 28, max_guests_memory_mb = 128"));
    parse_err(&children("max_activation_time_ms = 5"), &["run_supervisor.max_activation_time_ms", "max_activation_ms"]);
    // One option given, the others keep their defaults.
    let m = parse_ok(&children("max_memory_mb = 256"));
    let rs = m.instances["default"].children.run_supervisor.clone().expect("run supervisor on");
    assert_eq!(rs, RunSupervisorConfig { max_memory: 256 << 20, ..RunSupervisorConfig::default() });
}

#[test]
fn two_instances_may_not_share_or_nest_their_sandbox_directories() {
    let two = |a: &str, b: &str| {
        format!(
            "[instances.alpha]\ndatabase = \"sqlite::memory:\"\n{a}\n\
             [instances.beta]\ndatabase = \"sqlite::memory:\"\n{b}\n"
        )
    };
    let sandbox = |name: &str, d: &str| format!("[instances.{name}.sandbox]\ndir = \"{d}\"\n");
    let e = parse_err(
        &two(&sandbox("alpha", "boxes/shared"), &sandbox("beta", "boxes/./shared")),
        &["instance `beta`", "instances.beta.sandbox.dir", "the same directory as the sandbox of instance `alpha`"],
    );
    assert!(matches!(e, ManifestError::InvalidValue { .. }), "{e:?}");
    parse_err(
        &two(&sandbox("alpha", "boxes"), &sandbox("beta", "boxes/beta")),
        &["instance `beta`", "instances.beta.sandbox.dir", "is inside the sandbox of instance `alpha`"],
    );
    parse_err(
        &two(&sandbox("alpha", "boxes/x/../alpha/inner"), &sandbox("beta", "boxes/alpha")),
        &["instances.beta.sandbox.dir", "contains the sandbox of instance `alpha`"],
    );
    // An explicit directory inside another instance's default one.
    parse_err(
        &two("", &sandbox("beta", ".continuum/sandbox/alpha/beta")),
        &["instances.beta.sandbox.dir", "inside the sandbox of instance `alpha`"],
    );
    // Siblings, and names that only share a prefix, are fine.
    let m = parse_ok(&two(&sandbox("alpha", "boxes/a"), &sandbox("beta", "boxes/ab")));
    assert_ne!(m.instances["alpha"].sandbox.dir, m.instances["beta"].sandbox.dir);
    parse_ok(&two("", ""));
}

#[test]
fn no_heartbeater_while_the_run_supervisor_runs_is_refused() {
    for children in ["heartbeater = false\n", "heartbeater = false\nrun_supervisor = { max_concurrent_runs = 4 }\n"] {
        parse_err(
            &format!("{}[instances.default.children]\n{children}", minimal("")),
            &["instance `default`", "instances.default.children.heartbeater", "nothing would renew the leases"],
        );
    }
    // Both off: a host that runs no workflow.
    let m = parse_ok(&format!("{}[instances.default.children]\nheartbeater = false\nrun_supervisor = false\n", minimal("")));
    let c = &m.instances["default"].children;
    assert!(c.heartbeater.is_none() && c.run_supervisor.is_none());
}

#[test]
fn options_for_children_that_need_the_run_supervisor_are_refused_without_it() {
    for name in ["dispatcher", "recovery", "snapshotter"] {
        parse_err(
            &format!("{}[instances.default.children]\nrun_supervisor = false\n{name} = {{}}\n", minimal("")),
            &["instance `default`", &format!("instances.default.children.{name}"), "only runs with the run supervisor"],
        );
    }
    // Left at their defaults or turned off, they are fine; the heartbeater's
    // table sets the activity claims' lease time and is allowed.
    let m = parse_ok(&format!(
        "{}[instances.default.children]\nrun_supervisor = false\ndispatcher = false\n\
         heartbeater = {{ interval_ms = 300, lease_ttl_ms = 1500 }}\nactivity_dispatcher = {{ poll_interval_ms = 200 }}\n",
        minimal("")
    ));
    let c = &m.instances["default"].children;
    assert!(c.run_supervisor.is_none() && c.dispatcher.is_none());
    assert_eq!(c.heartbeater.as_ref().map(|h| h.lease_ttl), Some(Duration::from_millis(1500)));
}

#[test]
fn connect_timeout_is_read_and_checked() {
    assert_eq!(parse_ok(&minimal("")).instances["default"].connect_timeout, Duration::from_millis(DEFAULT_CONNECT_TIMEOUT_MS));
    assert_eq!(parse_ok(&minimal("connect_timeout_ms = 750\n")).instances["default"].connect_timeout, Duration::from_millis(750));
    parse_err(&minimal("connect_timeout_ms = 0\n"), &["instances.default.connect_timeout_ms", "positive"]);
}

#[test]
fn the_readme_manifest_example_parses() {
    let readme = include_str!("../../../README.md");
    let start = readme.find("```toml\n").expect("README.md has a ```toml block") + "```toml\n".len();
    let len = readme[start..].find("```").expect("the ```toml block ends");
    let text = &readme[start..start + len];
    let env = env_of(&[("BILLING_DB_PASSWORD", "pw"), ("CONTINUUM_ADMIN_TOKEN", "adm"), ("BILLING_API_TOKEN", "bil")]);
    let m = Manifest::parse_with_env(text, Path::new(FILE), &env)
        .unwrap_or_else(|e| panic!("README.md's manifest example does not parse: {e}\n{text}"));
    let http = m.http.as_ref().expect("the README's example has [http]");
    assert_eq!((http.admin_token.as_deref(), http.tokens.get("billing").map(String::as_str)), (Some("adm"), Some("bil")));
    assert_eq!(m.node, "host-a");
    assert_eq!(m.instances.keys().collect::<Vec<_>>(), ["billing", "default"]);
    let d = &m.instances["default"];
    assert_eq!(d.connect_timeout, Duration::from_millis(5000));
    assert!(d.children.snapshotter.is_none());
    assert_eq!(d.schedules.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["nightly"]);
    assert!(m.instances["billing"].children.activity_dispatcher.is_none());
    assert_eq!(m.instances["billing"].database, "postgres://continuum:pw@db/billing");
}

#[test]
fn error_bad_workflow_name() {
    parse_err(
        &minimal("[instances.default.workflows]\n\"\" = \"a.wasm\"\n"),
        &["instances.default.workflows.\"\"", "invalid workflow name", "empty"],
    );
    parse_err(
        &minimal("[instances.default.workflows]\n\"two words\" = \"a.wasm\"\n"),
        &["instances.default.workflows.\"two words\"", "whitespace"],
    );
    let long = "w".repeat(300);
    let err = parse_err(&minimal(&format!("[instances.default.workflows]\n{long} = \"a.wasm\"\n")), &["300 characters"]);
    assert!(err.to_string().len() < 400, "the name is clipped: {err}");
}

#[test]
fn http_table_is_optional_and_read() {
    assert_eq!(parse_ok(&minimal("")).http, None);
    let text = "[http]\nlisten = \"0.0.0.0:7070\"\nadmin_token = \"${ADMIN}\"\nmax_body_bytes = 1000\n\
                [http.tokens]\ndefault = \"tok-${WHO}\"\n\
                [instances.default]\ndatabase = \"sqlite::memory:\"\n";
    let env = env_of(&[("ADMIN", "s3cret"), ("WHO", "a")]);
    let m = Manifest::parse_with_env(text, Path::new(FILE), &env).expect("parses");
    let http = m.http.expect("an [http] table");
    assert_eq!(http.listen, "0.0.0.0:7070".parse().unwrap());
    assert_eq!(http.admin_token.as_deref(), Some("s3cret"));
    assert_eq!(http.tokens.get("default").map(String::as_str), Some("tok-a"));
    assert_eq!(http.max_body_bytes, 1000);
    assert!(http.requires_tokens());
    // Its Debug never shows a token.
    let shown = format!("{http:?}");
    assert!(!shown.contains("s3cret") && !shown.contains("tok-a"), "{shown}");
    let m = parse_ok(&format!("[http]\nlisten = \"127.0.0.1:0\"\n{}", minimal("")));
    let http = m.http.expect("an [http] table");
    assert_eq!(http.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
    assert_eq!(http.max_payload_bytes, crate::MAX_PAYLOAD_BYTES);
    assert!(!http.requires_tokens());
}

#[test]
fn http_table_errors_name_the_key() {
    let with = |http: &str| format!("[http]\n{http}\n{}", minimal(""));
    parse_err(&with("admin_token = \"x\""), &["http.listen"]);
    parse_err(&with("listen = \"localhost\""), &["http.listen", "IP:port"]);
    parse_err(&with("listen = \"0.0.0.0:7070\""), &["http.listen", "loopback"]);
    parse_err(&with("listen = \"127.0.0.1:1\"\nadmin_token = \"\""), &["http.admin_token", "empty"]);
    parse_err(&with("listen = \"127.0.0.1:1\"\nadmin_token = \"${NOPE}\""), &["http.admin_token", "NOPE"]);
    parse_err(&with("listen = \"127.0.0.1:1\"\n[http.tokens]\nother = \"t\""), &["http.tokens.other", "no instance"]);
    parse_err(&with("listen = \"127.0.0.1:1\"\nadmin_token = \"t\"\n[http.tokens]\ndefault = \"t\""), &["http.tokens.default", "distinct"]);
    parse_err(&with("listen = \"127.0.0.1:1\"\nmax_body_bytes = 0"), &["http.max_body_bytes"]);
    parse_err(&with("listen = \"127.0.0.1:1\"\nmax_payload_bytes = 99999999999"), &["http.max_payload_bytes", "runtime's limit"]);
    parse_err(&with("listen = \"127.0.0.1:1\"\nlisten_on = 1"), &["http.listen_on"]);
}

#[test]
fn schedules_are_read_and_checked() {
    let m = parse_ok(&minimal(
        r#"
[instances.default.workflows]
order-flow = "wf.wasm"
[instances.default.schedules.nightly]
workflow = "order-flow"
cron = "0 3 * * *"
time_zone = "Europe/Paris"
input = { order_id = "n" }
overlap = "allow"
catch_up_ms = 5000
[instances.default.schedules.once]
workflow = "order-flow"
at = 2030-01-01T09:00:00+01:00
"#,
    ));
    let s = &m.instances["default"].schedules;
    assert_eq!(s.len(), 2);
    let nightly = s.iter().find(|s| s.name == "nightly").expect("nightly");
    assert_eq!(
        nightly.timing,
        crate::schedule::ScheduleTiming::Cron { expression: "0 3 * * *".into(), time_zone: "Europe/Paris".into() }
    );
    assert_eq!((nightly.overlap, nightly.catch_up), (crate::schedule::Overlap::Allow, Duration::from_millis(5000)));
    assert_eq!(nightly.input, serde_json::json!({"order_id": "n"}));
    let once = s.iter().find(|s| s.name == "once").expect("once");
    assert_eq!(once.timing, crate::schedule::ScheduleTiming::At("2030-01-01T08:00:00Z".parse().expect("a time")));
    assert_eq!(once.input, serde_json::json!({}));

    let with = |body: &str| minimal(&format!("[instances.default.workflows]\norder-flow = \"wf.wasm\"\n[instances.default.schedules.s]\n{body}\n"));
    parse_err(&with("workflow = \"order-flow\"\ncron = \"* * *\""), &["instances.default.schedules.s.cron", "invalid cron expression"]);
    parse_err(&with("workflow = \"order-flow\"\ncron = \"* * * * *\"\ntime_zone = \"Nowhere\""), &["instances.default.schedules.s.time_zone", "unknown time zone `Nowhere`"]);
    parse_err(&with("workflow = \"other\"\ncron = \"* * * * *\""), &["instances.default.schedules.s.workflow", "`other`"]);
    parse_err(&with("cron = \"* * * * *\""), &["instances.default.schedules.s.workflow"]);
    parse_err(&with("workflow = \"order-flow\""), &["instances.default.schedules.s", "needs `cron`"]);
    parse_err(&with("workflow = \"order-flow\"\ncron = \"* * * * *\"\nat = \"2030-01-01T00:00:00Z\""), &["schedules.s.at", "not both"]);
    parse_err(&with("workflow = \"order-flow\"\nat = \"soon\""), &["schedules.s.at", "RFC 3339"]);
    parse_err(&with("workflow = \"order-flow\"\ncron = \"* * * * *\"\noverlap = \"maybe\""), &["schedules.s.overlap", "\"skip\" or \"allow\""]);
    parse_err(&with("workflow = \"order-flow\"\ncron = \"* * * * *\"\ncatch_up = 5"), &["schedules.s.catch_up"]);
}
