//! Activity components get sandboxed WASI (issue 4), through the real
//! `continuum` binary on Postgres: two instances on one database, each with
//! the `sandbox-probe` activities and the `probe-flow` workflow that calls
//! them. An activity cannot read outside its sandbox (absolute paths, `..`),
//! cannot see the other instance's sandbox, cannot open a socket unless the
//! manifest lists the host (and then only that host:port), and sees only the
//! environment variables its manifest lists. order-flow's activities keep
//! their receipts in the sandbox.

use std::net::TcpListener;
use std::path::Path;

use continuum_tests::*;
use serde_json::{json, Value};

/// Runs probe-flow on `instance` with `probes` (`(activity, input)`) and
/// returns the result of each probe, in order.
fn probe(manifest: &Path, instance: &str, probes: &[(&str, Value)]) -> Vec<Value> {
    let input = json!({
        "probes": probes.iter().map(|(a, i)| json!({"activity": a, "input": i})).collect::<Vec<_>>()
    });
    let run = cli_ok(manifest, &["start", "probe-flow", &input.to_string(), "--instance", instance]);
    let out = cli_ok(manifest, &["await", &run, "--timeout", "60", "--instance", instance]);
    let out: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("probe-flow printed invalid JSON ({e}): {out}"));
    let results: Vec<Value> = out.as_array().cloned().unwrap_or_else(|| panic!("probe-flow returned {out}"));
    assert_eq!(results.len(), probes.len(), "{out}");
    results
        .into_iter()
        .map(|r| r.get("result").cloned().unwrap_or_else(|| panic!("a probe activity failed: {r}")))
        .collect()
}

fn assert_ok(r: &Value, what: &str) {
    assert_eq!(r["ok"], true, "{what} should succeed: {r}");
}

fn assert_refused(r: &Value, what: &str) {
    assert_eq!(r["ok"], false, "{what} must be refused: {r}");
    // The refusal names its WASI error code (`not-permitted`, `no-entry`,
    // ...), not the type's name.
    let code = r["code"].as_str().unwrap_or_default();
    assert!(
        !code.is_empty() && code != "error-code" && code.chars().all(|c| c.is_ascii_lowercase() || c == '-' || c == ' '),
        "{what}: the refusal should carry the WASI error code's name: {r}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn activities_are_confined_to_their_sandbox_env_and_hosts() {
    let db = PgDb::create().await;
    let dir = TempDir::new();
    let probes = |name: &str| InstanceSpec {
        name: name.into(),
        database: db.url.clone(),
        workflows: vec![("probe-flow".into(), component("probe_flow")), ("order-flow".into(), component("order_flow"))],
        activities: vec![component("sandbox_probe"), component("order_activities")],
        children: "heartbeater = { interval_ms = 300, lease_ttl_ms = 1500 }\ndispatcher = { poll_interval_ms = 200 }\n\
                   recovery = { interval_ms = 500 }\n"
            .into(),
    };
    // Two listeners: beta may reach `allowed`, nobody may reach `other`.
    let allowed = TcpListener::bind("127.0.0.1:0").expect("listen");
    let other = TcpListener::bind("127.0.0.1:0").expect("listen");
    let allowed_addr = allowed.local_addr().expect("addr").to_string();
    let other_addr = other.local_addr().expect("addr").to_string();

    let manifest = write_manifest(&dir.0, "node-a", &[probes("alpha"), probes("beta")]);
    let mut text = std::fs::read_to_string(&manifest).expect("read manifest");
    // alpha: the default directory (data/sandbox/alpha), one listed variable, no network.
    text.push_str("\n[instances.alpha.sandbox]\nenv = [\"CONTINUUM_PROBE_VISIBLE\"]\n");
    // beta: its own directory, no variables, one allowed host.
    text.push_str(&format!("\n[instances.beta.sandbox]\ndir = \"beta-box\"\nallow_hosts = [\"{allowed_addr}\"]\n"));
    std::fs::write(&manifest, text).expect("write manifest");
    std::fs::write(dir.0.join("secret.txt"), "top secret").expect("write the secret");
    let alpha_dir = dir.0.join("data/sandbox/alpha");
    let beta_dir = dir.0.join("beta-box");

    let _host = Host::start_with_env(
        &manifest,
        &[],
        &[("CONTINUUM_PROBE_VISIBLE", "yes"), ("CONTINUUM_PROBE_HIDDEN", "no")],
    );

    // Each instance writes a file of the same name; each sees only its own.
    let a = probe(
        &manifest,
        "alpha",
        &[
            ("write_file", json!({"path": "mine.txt", "content": "alpha"})),
            ("read_path", json!({"path": "mine.txt"})),
            ("list_dir", json!({"path": ""})),
        ],
    );
    assert_ok(&a[0], "alpha writing mine.txt");
    assert_eq!(a[1]["content"], "alpha", "{}", a[1]);
    let b = probe(
        &manifest,
        "beta",
        &[
            ("write_file", json!({"path": "mine.txt", "content": "beta"})),
            ("read_path", json!({"path": "mine.txt"})),
            ("list_dir", json!({"path": ""})),
            ("read_path", json!({"path": "../data/sandbox/alpha/mine.txt"})),
            ("list_dir", json!({"path": ".."})),
        ],
    );
    assert_ok(&b[0], "beta writing mine.txt");
    assert_eq!(b[1]["content"], "beta", "{}", b[1]);
    assert_eq!(b[2]["entries"], json!(["mine.txt"]), "beta lists only its own sandbox: {}", b[2]);
    assert_refused(&b[3], "beta reading alpha's file through ..");
    assert_refused(&b[4], "beta listing its sandbox's parent");
    assert_eq!(std::fs::read_to_string(alpha_dir.join("mine.txt")).ok().as_deref(), Some("alpha"));
    assert_eq!(std::fs::read_to_string(beta_dir.join("mine.txt")).ok().as_deref(), Some("beta"));

    // Nothing outside the sandbox: absolute paths, .., the other sandbox.
    let a = probe(
        &manifest,
        "alpha",
        &[
            ("list_dir", json!({"path": ""})),
            ("read_path", json!({"path": "/etc/passwd"})),
            ("read_path", json!({"path": "../../../secret.txt"})),
            ("read_path", json!({"path": "../../secret"})),
            ("read_path", json!({"path": "../../beta-box/mine.txt"})),
            ("write_file", json!({"path": "../escape.txt", "content": "x"})),
            ("list_dir", json!({"path": "/"})),
        ],
    );
    assert_eq!(a[0]["entries"], json!(["mine.txt"]), "alpha lists only its own sandbox: {}", a[0]);
    assert_refused(&a[1], "reading /etc/passwd");
    assert_refused(&a[2], "reading ../../../secret.txt");
    assert_refused(&a[3], "reading ../../secret");
    assert_refused(&a[4], "reading beta's file");
    assert_refused(&a[5], "writing ../escape.txt");
    assert_refused(&a[6], "listing /");
    assert!(!dir.0.join("data/sandbox/escape.txt").exists(), "a write escaped the sandbox");

    // Network: none for alpha; beta reaches only its listed host:port.
    let a = probe(
        &manifest,
        "alpha",
        &[("connect", json!({"addr": allowed_addr})), ("connect", json!({"addr": other_addr}))],
    );
    assert_refused(&a[0], "alpha connecting (no hosts granted)");
    assert_refused(&a[1], "alpha connecting (no hosts granted)");
    let b = probe(
        &manifest,
        "beta",
        &[("connect", json!({"addr": allowed_addr})), ("connect", json!({"addr": other_addr}))],
    );
    assert_ok(&b[0], "beta connecting to its allowed host");
    assert_refused(&b[1], "beta connecting to a host it was not granted");

    // Environment: only the listed variable, with the host's value.
    let a = probe(
        &manifest,
        "alpha",
        &[
            ("env_var", json!({"name": "CONTINUUM_PROBE_VISIBLE"})),
            ("env_var", json!({"name": "CONTINUUM_PROBE_HIDDEN"})),
            ("env_var", json!({"name": "PATH"})),
        ],
    );
    assert_eq!(a[0]["value"], "yes", "{}", a[0]);
    assert_eq!(a[1]["value"], Value::Null, "an unlisted variable is visible: {}", a[1]);
    assert_eq!(a[2]["value"], Value::Null, "PATH is visible: {}", a[2]);
    assert_eq!(a[0]["visible"], json!(["CONTINUUM_PROBE_VISIBLE"]), "{}", a[0]);
    let b = probe(&manifest, "beta", &[("env_var", json!({"name": "CONTINUUM_PROBE_VISIBLE"}))]);
    assert_eq!(b[0]["value"], Value::Null, "beta lists no variable: {}", b[0]);
    assert_eq!(b[0]["visible"], json!([]), "{}", b[0]);

    // order-flow's activities keep a receipt per order in the sandbox.
    let order = json!({"order_id": "o-sbx", "sku": "BOOK-42", "quantity": 1, "amount_cents": 4200, "card": "4242"});
    let run = cli_ok(&manifest, &["start", "order-flow", &order.to_string(), "--instance", "alpha"]);
    cli_ok(&manifest, &["signal", &run, "fraud_review", "\"approved\"", "--instance", "alpha"]);
    let out: Value =
        serde_json::from_str(&cli_ok(&manifest, &["await", &run, "--timeout", "60", "--instance", "alpha"])).expect("JSON");
    assert_eq!(out["status"], "shipped", "{out}");
    let receipt = std::fs::read_to_string(alpha_dir.join("receipts/o-sbx.json")).expect("the receipt in alpha's sandbox");
    let receipt: Value = serde_json::from_str(&receipt).expect("a JSON receipt");
    assert_eq!(receipt["order_id"], "o-sbx");
    assert!(receipt["charge"]["charge_id"].is_string(), "{receipt}");
    assert_eq!(receipt["shipment"]["tracking"], out["tracking"], "{receipt}");
    assert!(!beta_dir.join("receipts").exists(), "alpha's receipt landed in beta's sandbox");
}
