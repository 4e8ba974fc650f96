//! Shared harness of the integration tests: builds the WASM guests and the
//! `continuum` binary once, creates a database per test (a Postgres database
//! or a SQLite file, dropped at the end), writes manifests, and runs real
//! host processes that tests can kill with SIGKILL. The helpers the tests
//! share: a typed reader of `continuum show --json` ([`show_json`]), the
//! exactly-once check of a journal ([`assert_exactly_once`]), embedded
//! one-instance hosts ([`embedded`]), one scenario body on both stores
//! ([`on_both_stores!`]) and a headless browser for the web UI ([`Browser`]).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

mod browser;
mod cpu_heavy;
mod embedded;
mod exactly_once;
mod http_api;
mod openapi_check;
mod otlp_receiver;
mod proc_stats;
mod show;
mod store;
pub use browser::Browser;
pub use cpu_heavy::cpu_heavy;
pub use embedded::embedded;
pub use exactly_once::assert_exactly_once;
pub use http_api::{add_http, Answer, Api, SseEvent, SseStream};
pub use openapi_check::OpenApiDoc;
pub use otlp_receiver::{otlp_receiver, Received};
pub use proc_stats::{cpu_time, cpu_used_during, rss_kib};
pub use show::{of_kind, show_json, Shown, ShownEvent, ShownHeartbeat, ShownKey, ShownRun};
pub use store::{Arg, Sql, Store, StoreDb};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target"))
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Builds every guest in `examples-wasm/` (once per test process) and
/// returns the directory of the components.
pub fn components() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let status = Command::new(cargo())
                .args(["run", "--quiet", "--release", "-p", "continuum-guest-build"])
                .current_dir(repo_root())
                .env("CONTINUUM_ROOT", repo_root())
                .status()
                .expect("run the guest build tool");
            assert!(status.success(), "building the WASM guests failed");
            repo_root().join("examples-wasm/components")
        })
        .clone()
}

/// A component file by crate name (`order_flow`, ...).
pub fn component(name: &str) -> PathBuf {
    let p = components().join(format!("{name}.wasm"));
    assert!(p.exists(), "component {} was not built", p.display());
    p
}

/// Builds the `continuum` binary (once per test process) and returns its
/// path.
pub fn continuum_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let status = Command::new(cargo())
            .args(["build", "--quiet", "-p", "continuum-cli", "--bin", "continuum"])
            .current_dir(repo_root())
            .status()
            .expect("build the continuum binary");
        assert!(status.success(), "building the continuum binary failed");
        target_dir().join("debug/continuum")
    })
    .clone()
}

/// The compile cache shared by every test's hosts.
pub fn cache_dir() -> PathBuf {
    target_dir().join("continuum-test-cache")
}

/// The Postgres server the tests use.
pub fn server_url() -> String {
    std::env::var("CONTINUUM_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database of the test's own on the test server, dropped with this value.
pub struct PgDb {
    /// The database's URL.
    pub url: String,
    name: String,
}

impl PgDb {
    /// Creates a fresh database; panics with a clear message if Postgres is
    /// unreachable (the tests never skip silently).
    pub async fn create() -> PgDb {
        use sqlx::Connection;
        let server = server_url();
        let mut conn = sqlx::PgConnection::connect(&server).await.unwrap_or_else(|e| {
            panic!("Postgres is unreachable at {server} (set CONTINUUM_TEST_DATABASE_URL): {e}")
        });
        let name = format!("continuum_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create test database");
        let base = server.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(server.clone());
        PgDb { url: format!("{base}/{name}"), name }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let server = server_url();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async move {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&server).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
                }
            });
        })
        .join();
    }
}

/// A temporary directory removed with this value.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates one.
    pub fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!("continuum-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One instance of a test manifest.
#[derive(Debug, Clone)]
pub struct InstanceSpec {
    /// Name.
    pub name: String,
    /// Database URL.
    pub database: String,
    /// Workflow name -> component file.
    pub workflows: Vec<(String, PathBuf)>,
    /// Activity components.
    pub activities: Vec<PathBuf>,
    /// Extra TOML for `[instances.NAME.children]` (lines).
    pub children: String,
}

impl InstanceSpec {
    /// The default instance with the order-flow and billing-flow examples.
    pub fn examples(name: &str, database: &str) -> InstanceSpec {
        InstanceSpec {
            name: name.into(),
            database: database.into(),
            workflows: vec![
                ("order-flow".into(), component("order_flow")),
                ("billing-flow".into(), component("billing_flow")),
            ],
            activities: vec![component("order_activities"), component("billing_activities")],
            children: "heartbeater = { interval_ms = 300, lease_ttl_ms = 1500 }\ndispatcher = { poll_interval_ms = 200 }\nrecovery = { interval_ms = 500 }\n".into(),
        }
    }
}

/// Writes a manifest into `dir` and returns its path.
pub fn write_manifest(dir: &Path, node: &str, instances: &[InstanceSpec]) -> PathBuf {
    let mut text = format!("node = \"{node}\"\ndata_dir = \"data\"\n");
    for i in instances {
        text.push_str(&format!("\n[instances.{}]\ndatabase = \"{}\"\n", i.name, i.database));
        text.push_str(&format!("[instances.{}.workflows]\n", i.name));
        for (w, p) in &i.workflows {
            text.push_str(&format!("{w} = \"{}\"\n", p.display()));
        }
        text.push_str(&format!("[instances.{}.activities]\n", i.name));
        for (n, p) in i.activities.iter().enumerate() {
            text.push_str(&format!("component{n} = \"{}\"\n", p.display()));
        }
        text.push_str(&format!("[instances.{}.children]\n{}\n", i.name, i.children));
    }
    let path = dir.join(format!("{node}.toml"));
    std::fs::write(&path, text).expect("write manifest");
    path
}

/// The `continuum` CLI with `--manifest`, to add a verb to and spawn.
pub fn cli_command(manifest: &Path) -> Command {
    command(manifest)
}

fn command(manifest: &Path) -> Command {
    let mut c = Command::new(continuum_bin());
    // A server or token in the developer's shell would send verbs elsewhere.
    c.arg("--manifest").arg(manifest).env("CONTINUUM_CACHE_DIR", cache_dir()).env_remove("CONTINUUM_SERVER").env_remove("CONTINUUM_TOKEN");
    c
}

/// Runs a CLI verb with extra environment variables (`CONTINUUM_TOKEN`,
/// ...) and returns its output.
pub fn cli_env(manifest: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    command(manifest).args(args).envs(env.iter().copied()).output().expect("run continuum")
}

/// Runs a CLI verb and returns its output.
pub fn cli(manifest: &Path, args: &[&str]) -> Output {
    command(manifest).args(args).output().expect("run continuum")
}

/// Runs a CLI verb that must succeed; returns its trimmed stdout.
pub fn cli_ok(manifest: &Path, args: &[&str]) -> String {
    let out = cli(manifest, args);
    assert!(
        out.status.success(),
        "continuum {args:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A `continuum serve` process, killed (SIGKILL) when dropped.
pub struct Host {
    child: Child,
    /// Where its stderr goes.
    pub log: PathBuf,
}

impl Host {
    /// Starts `continuum serve` on the manifest.
    pub fn start(manifest: &Path, extra: &[&str]) -> Host {
        Host::start_with_env(manifest, extra, &[])
    }

    /// Starts `continuum serve` on the manifest with extra environment
    /// variables (they override the defaults, e.g. `RUST_LOG`, which is
    /// otherwise the test's own `RUST_LOG` or `info`).
    pub fn start_with_env(manifest: &Path, extra: &[&str], env: &[(&str, &str)]) -> Host {
        let log = manifest.with_extension(format!("{}.log", uuid::Uuid::new_v4().simple()));
        let file = std::fs::File::create(&log).expect("create host log");
        let child = command(manifest)
            .arg("serve")
            .args(extra)
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("start continuum serve");
        Host { child, log }
    }

    /// Kills the process with SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Freezes the process (SIGSTOP): it holds its leases but answers
    /// nothing, like a host cut off by a partition. `kill` still works.
    pub fn freeze(&mut self) {
        let status = Command::new("kill").arg("-STOP").arg(self.child.id().to_string()).status().expect("run kill -STOP");
        assert!(status.success(), "kill -STOP failed");
    }

    /// Thaws a frozen process (SIGCONT).
    pub fn thaw(&mut self) {
        let status = Command::new("kill").arg("-CONT").arg(self.child.id().to_string()).status().expect("run kill -CONT");
        assert!(status.success(), "kill -CONT failed");
    }

    /// The exit status, if the process has exited.
    pub fn try_wait(&mut self) -> std::io::Result<Option<std::process::ExitStatus>> {
        self.child.try_wait()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The host's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log contains `needle`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if self.log_text().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `f` until it returns `Some` or the timeout passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if start.elapsed() > timeout {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `text` without ANSI escape sequences (the host's text log colours its
/// fields): what a test searches log lines in.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte (a letter).
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
