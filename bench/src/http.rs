//! The HTTP mode (`--http`): a `continuum serve` process, started from a
//! manifest of its own with the bench flow and its two activities as WASM
//! components (`bench_flow.wasm`, `bench_activities.wasm`), driven from
//! this process, a separate client, over keep-alive HTTP: each workflow is
//! a `POST .../runs` and a `GET .../result?wait=30s`. Prints workflows per
//! second with `--concurrency` in flight, latency with one in flight, the
//! host's write transactions per workflow from its exact counter
//! (`GET .../stats`, read before and after each window) and the host's
//! peak RSS.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::percentile;

/// How long the host may take to listen and to be ready.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// The long poll of one result request.
const RESULT_WAIT: &str = "30s";

/// What the HTTP mode needs.
pub struct HttpBench<'a> {
    /// The `continuum` binary.
    pub continuum: &'a Path,
    /// The database URL the host's instance uses.
    pub database: &'a str,
    /// The bench-flow workflow component.
    pub workflow: &'a Path,
    /// The component of its activities.
    pub activities: &'a Path,
    /// Workflows in the throughput window.
    pub runs: usize,
    /// Workflows in flight at once in the throughput window.
    pub concurrency: usize,
    /// Workflows in the one-at-a-time window.
    pub sequential: usize,
}

/// A `continuum serve` process, stopped (SIGTERM, then SIGKILL) when dropped.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes the host's manifest into `dir`.
fn write_manifest(dir: &Path, b: &HttpBench) -> std::io::Result<PathBuf> {
    let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let quote = |s: &str| Value::String(s.to_string()).to_string();
    let text = format!(
        "data_dir = {data}\n\n[instances.default]\ndatabase = {db}\nmax_connections = 32\n\n\
         [instances.default.workflows]\nbench-flow = {wf}\n\n[instances.default.activities]\nbench-activities = {act}\n",
        data = quote(&dir.join("data").display().to_string()),
        db = quote(b.database),
        wf = quote(&abs(b.workflow).display().to_string()),
        act = quote(&abs(b.activities).display().to_string()),
    );
    let path = dir.join("instances.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// Starts the host and waits until its log names the address it listens on.
fn start_server(b: &HttpBench, dir: &Path) -> Server {
    let manifest = write_manifest(dir, b).unwrap_or_else(|e| panic!("cannot write the manifest in {}: {e}", dir.display()));
    let log = dir.join("serve.log");
    let file = std::fs::File::create(&log).unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
    let child = Command::new(b.continuum)
        .arg("--manifest")
        .arg(&manifest)
        .args(["serve", "--http-listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e} (build it: cargo build --release -p continuum-cli)", b.continuum.display()));
    let mut server = Server { child, base: String::new(), log };
    let deadline = Instant::now() + READY_TIMEOUT;
    const MARK: &str = "HTTP API on http://";
    loop {
        let text = std::fs::read_to_string(&server.log).unwrap_or_default();
        if let Some(rest) = text.split(MARK).nth(1) {
            let addr = rest.split_whitespace().next().unwrap_or_default();
            server.base = format!("http://{addr}");
            return server;
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("continuum serve exited ({status}) before listening:\n{text}");
        }
        if Instant::now() > deadline {
            panic!("continuum serve did not listen within {READY_TIMEOUT:?}:\n{text}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The API of the host, over one keep-alive connection pool.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    base: Arc<str>,
}

impl Client {
    async fn json(&self, req: reqwest::RequestBuilder, what: &str) -> (u16, Value) {
        let answer = req.send().await.unwrap_or_else(|e| panic!("{what}: {e}"));
        let status = answer.status().as_u16();
        let body = answer.bytes().await.unwrap_or_else(|e| panic!("{what}: reading the answer: {e}"));
        let value = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{what}: the answer is not JSON ({e}): {body:?}"));
        (status, value)
    }

    /// Starts a bench-flow run and awaits its output; the time it took.
    async fn workflow(&self, n: usize) -> Duration {
        let t0 = Instant::now();
        let body = json!({"workflow": "bench-flow", "input": {"n": n}}).to_string();
        let req = self
            .http
            .post(format!("{}/v1/instances/default/runs", self.base))
            .header("content-type", "application/json")
            .body(body);
        let (status, started) = self.json(req, "POST runs").await;
        assert_eq!(status, 201, "POST runs: {started}");
        let id = started["run_id"].as_str().unwrap_or_else(|| panic!("POST runs answered no run_id: {started}")).to_string();
        loop {
            let url = format!("{}/v1/instances/default/runs/{id}/result?wait={RESULT_WAIT}", self.base);
            let (status, result) = self.json(self.http.get(url), "GET result").await;
            match status {
                200 => {
                    assert!(result["output"].is_object(), "run {id} did not complete: {result}");
                    return t0.elapsed();
                }
                202 => continue,
                _ => panic!("GET result of {id}: {status} {result}"),
            }
        }
    }

    /// The instance's counters: (write transactions, run writes, their transactions).
    async fn stats(&self) -> (u64, u64, u64) {
        let (status, s) = self.json(self.http.get(format!("{}/v1/instances/default/stats", self.base)), "GET stats").await;
        assert_eq!(status, 200, "GET stats: {s}");
        let get = |k: &str| s[k].as_u64().unwrap_or_else(|| panic!("GET stats: no {k} in {s}"));
        (get("commits"), get("run_writes"), get("run_write_transactions"))
    }

    async fn ready(&self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let answer = self.http.get(format!("{}/readyz", self.base)).send().await;
            if matches!(&answer, Ok(a) if a.status().is_success()) {
                return;
            }
            assert!(Instant::now() < deadline, "the host was not ready within {READY_TIMEOUT:?}: {answer:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// `n` workflows with `concurrency` in flight; prints the window's figures.
async fn window(client: &Client, n: usize, concurrency: usize, label: &str) {
    let before = client.stats().await;
    let started = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let Ok(permit) = sem.clone().acquire_owned().await else { break };
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let took = client.workflow(i).await;
            drop(permit);
            took
        }));
    }
    let mut lat = Vec::with_capacity(n);
    for t in tasks {
        lat.push(t.await.unwrap_or_else(|e| panic!("{label}: a workflow failed: {e}")));
    }
    let elapsed = started.elapsed();
    let after = client.stats().await;
    lat.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{label}: {n} workflows in {:.2} s = {:.0} workflows/s | latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.9)),
        ms(percentile(&lat, 0.99)),
        ms(lat.last().copied().unwrap_or_default()),
    );
    let (commits, writes, txs) = (after.0 - before.0, after.1 - before.1, after.2 - before.2);
    println!(
        "{label}: {:.2} host commits per workflow (write transactions, counted by the host); group commit {:.2} run writes per workflow, {:.1} per transaction",
        commits as f64 / n.max(1) as f64,
        writes as f64 / n.max(1) as f64,
        writes as f64 / txs.max(1) as f64,
    );
}

/// `VmHWM` and `VmRSS` of process `pid`.
fn memory_of(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let get = |k: &str| status.lines().find(|l| l.starts_with(k)).map(|l| l[k.len()..].trim().to_string()).unwrap_or_default();
    format!("peak RSS {} (rss now {})", get("VmHWM:"), get("VmRSS:"))
}

/// Runs the HTTP mode.
pub async fn run(b: HttpBench<'_>) {
    for (what, path) in [("workflow", b.workflow), ("activities", b.activities), ("continuum binary", b.continuum)] {
        if !path.exists() {
            eprintln!("the {what} {} is missing (cargo run --release -p continuum-guest-build; cargo build --release -p continuum-cli)", path.display());
            std::process::exit(2);
        }
    }
    let dir = std::env::temp_dir().join(format!("continuum-bench-http-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let server = start_server(&b, &dir);
    let pid = server.child.id();
    let http = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90))
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap_or_else(|e| panic!("an HTTP client: {e}"));
    let client = Client { http, base: server.base.as_str().into() };
    client.ready().await;
    println!(
        "[http] continuum serve (pid {pid}) on {}: bench-flow and bench-activities as WASM components; this process is the client (keep-alive HTTP)",
        server.base
    );
    window(&client, 200, 16, "[http] warm-up").await;
    window(&client, b.sequential, 1, "[http] one in flight").await;
    window(&client, b.runs, b.concurrency, &format!("[http] {} in flight", b.concurrency)).await;
    println!("[http] host memory: {}", memory_of(pid));
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
