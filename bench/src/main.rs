//! `continuum-bench`: N two-activity workflows end to end against Postgres
//! (or SQLite), through the embedding API: start, two native activities,
//! completion, await. Prints workflows per second, start-to-completion
//! latency percentiles, commits per workflow and memory. With `--http`,
//! the same flow with WASM activities in a `continuum serve` process,
//! driven over HTTP from this one ([`http`]).
//!
//! ```text
//! cargo run --release -p continuum-bench -- --runs 5000 --concurrency 64
//! cargo build --release -p continuum-cli && cargo run --release -p continuum-bench -- --http   # over HTTP
//! cargo run --release -p continuum-bench -- --only snapshot   # the long run's load/replay only
//! cargo run --release -p continuum-bench -- --only parked --parked 100000   # a host holding parked runs
//! cargo run --release -p continuum-bench -- --only children   # a parent joining 1,000 children
//! cargo run --release -p continuum-bench -- --only search   # runs filtered among 1,000,000 finished ones
//! cargo run --release -p continuum-bench -- --only continue   # a 10,000-iteration loop continuing as new every 100
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use continuum_host::{ActivityError, ActivityRegistry, BatcherConfig, CallOptions, Continuum, Instance, RunState, StartOptions};
use serde_json::{json, Value};
use sqlx::Connection;

mod children;
mod continuation;
mod http;
mod languages;
mod parked;
mod search;

/// The allocator of the `continuum` binary, so the numbers are its numbers.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Benchmark options.
#[derive(Debug, Parser)]
struct Args {
    /// Postgres server URL; a database of the benchmark's own is created on
    /// it and dropped. `sqlite` benchmarks the embedded default instead.
    #[arg(long, env = "CONTINUUM_TEST_DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    database: String,
    /// Workflows in the throughput phase.
    #[arg(long, default_value_t = 5000)]
    runs: usize,
    /// Workflows in flight at once in the throughput phase.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Workflows in the one-at-a-time latency phase.
    #[arg(long, default_value_t = 500)]
    sequential: usize,
    /// The bench-flow component.
    #[arg(long, default_value = "examples-wasm/components/bench_flow.wasm")]
    module: PathBuf,
    /// Journal entries of the long run whose load and replay are timed
    /// (0 skips that phase).
    #[arg(long, default_value_t = 10_000)]
    long_run_events: u32,
    /// Group-commit transactions in flight at once.
    #[arg(long, default_value_t = 2)]
    writers: usize,
    /// The long-flow component.
    #[arg(long, default_value = "examples-wasm/components/long_flow.wasm")]
    long_module: PathBuf,
    /// Run only this phase (`snapshot`: the long run's load and replay
    /// times, without and with a snapshot); every phase when absent.
    #[arg(long, value_enum)]
    only: Option<Only>,
    /// Runs parked on a signal in the parked phase (0 skips it): the
    /// memory they take and the latency of a signal to one of them.
    #[arg(long, default_value_t = 0)]
    parked: usize,
    /// The guest languages whose bench flow is measured (comma-separated:
    /// `rust`, `python`, `js`; a language whose component was not built is
    /// skipped with a note).
    #[arg(long, default_value = "rust,python,js")]
    languages: String,
    /// Parked runs signalled one at a time in the parked phase.
    #[arg(long, default_value_t = 50)]
    parked_sample: usize,
    /// Children of the one parent in the children phase (0 skips it): the
    /// time from the parent's start until it has joined them all, then the
    /// parent's load and replay times. Needs `parent_flow.wasm` and
    /// `child_flow.wasm` next to `--module`.
    #[arg(long, default_value_t = 1000)]
    children: usize,
    /// Finished runs inserted for the search phase (0 skips it): a
    /// listing filtered by state, workflow and attribute among them
    /// (Postgres only).
    #[arg(long, default_value_t = 1_000_000)]
    search_runs: usize,
    /// Iterations of the loop of the continue phase (0 skips it): a
    /// `loop-flow` chain continuing as new every `--continue-every`
    /// iterations, then the load and replay of its first, middle and last
    /// run. Needs `loop_flow.wasm` next to `--module`.
    #[arg(long, default_value_t = 10_000)]
    continue_iterations: u64,
    /// Iterations per run of the continue phase's chain.
    #[arg(long, default_value_t = 100)]
    continue_every: u64,
    /// Iterations of the continue phase's contrast: one run, one history.
    #[arg(long, default_value_t = 2_000)]
    continue_single: u64,
    /// Benchmark over HTTP instead: a `continuum serve` process with the
    /// bench flow and its activities as WASM components, driven from this
    /// process over keep-alive HTTP (start, then await the result).
    #[arg(long)]
    http: bool,
    /// The `continuum` binary the HTTP mode starts (default: the one next
    /// to this executable, `target/release/continuum`).
    #[arg(long)]
    continuum: Option<PathBuf>,
    /// The activity component of the HTTP mode (`step_one`, `step_two`).
    #[arg(long, default_value = "examples-wasm/components/bench_activities.wasm")]
    activities_module: PathBuf,
}

/// A phase [`Args::only`] can pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Only {
    /// The long run's load and replay, without and with a snapshot.
    Snapshot,
    /// The parked runs' memory and signal latency (`--parked N`).
    Parked,
    /// One parent starting and joining `--children N` children, then the
    /// parent's load and replay.
    Children,
    /// `runs` filtered by state, workflow and attribute among
    /// `--search-runs N` finished runs.
    Search,
    /// A loop continuing as new (`--continue-iterations`), then the load
    /// and replay of its chain's first, middle and last run, and of one
    /// run with `--continue-single` iterations in one history.
    Continue,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let get = |k: &str| {
        status.lines().find(|l| l.starts_with(k)).map(|l| l[k.len()..].trim().to_string()).unwrap_or_default()
    };
    format!("rss {} (peak {})", get("VmRSS:"), get("VmHWM:"))
}

async fn phase(c: &Arc<Continuum>, workflow: &str, n: usize, concurrency: usize, label: &str) {
    let instance = c.instance(None).expect("default");
    let before = instance.commits();
    let stats0 = instance.commit_stats();
    let started = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let permit = sem.clone().acquire_owned().await.expect("semaphore");
        let (c, workflow) = (c.clone(), workflow.to_string());
        tasks.push(tokio::spawn(async move {
            let t0 = Instant::now();
            let id = c.start(&workflow, json!({"n": i}), StartOptions::default()).await.expect("start");
            let out = c.await_run(&id, Duration::from_secs(60), CallOptions::default()).await.expect("await");
            assert!(out.output.is_some(), "run {id} did not complete: {:?}", out.error);
            drop(permit);
            t0.elapsed()
        }));
    }
    let mut lat = Vec::with_capacity(n);
    for t in tasks {
        lat.push(t.await.expect("task"));
    }
    let elapsed = started.elapsed();
    lat.sort();
    let after = instance.commits();
    println!(
        "{label}: {n} workflows in {:.2} s = {:.0} workflows/s | latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.9).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    println!("{label}: {:.2} commits per workflow (write transactions, counted by the host)", (after - before) as f64 / n as f64);
    let stats1 = instance.commit_stats();
    let (w, t) = (stats1.0 - stats0.0, stats1.1 - stats0.1);
    println!("{label}: group commit {:.2} run writes per workflow, {:.1} writes per transaction", w as f64 / n as f64, w as f64 / t.max(1) as f64);
    println!("{label}: memory {}", memory());
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    languages::init_tracing();
    if !args.module.exists() {
        eprintln!("{} is missing: build the guests first (cargo run --release -p continuum-guest-build)", args.module.display());
        std::process::exit(2);
    }
    let mut activities = ActivityRegistry::new();
    activities.register("step_one", |v: Value| async move { Ok::<_, ActivityError>(json!({"one": v})) });
    activities.register("step_two", |v: Value| async move { Ok::<_, ActivityError>(json!({"two": v})) });
    // loop-flow's step (the continue phase), as conformance_activities has it.
    activities.register("conf_echo", |v: Value| async move {
        let i = v.get("i").and_then(Value::as_u64).unwrap_or(0);
        Ok::<_, ActivityError>(json!({"i": i, "double": 2 * i}))
    });

    let (url, pg, dbname) = if args.database == "sqlite" {
        let path = std::env::temp_dir().join(format!("continuum-bench-{}.db", uuid::Uuid::new_v4().simple()));
        (format!("sqlite:{}", path.display()), None, None)
    } else {
        let mut conn = sqlx::PgConnection::connect(&args.database)
            .await
            .unwrap_or_else(|e| panic!("Postgres unreachable at {}: {e}", args.database));
        let name = format!("continuum_bench_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create database");
        let base = args.database.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or_default();
        let url = format!("{base}/{name}");
        (url.clone(), Some(url), Some(name))
    };
    if args.http {
        println!("continuum-bench --http: {} | bench-flow + 2 WASM activities in continuum serve | 2 cores", if pg.is_some() { "postgres" } else { "sqlite" });
        let continuum = args.continuum.clone().unwrap_or_else(|| {
            std::env::current_exe().ok().and_then(|e| e.parent().map(|d| d.join("continuum"))).unwrap_or_else(|| PathBuf::from("continuum"))
        });
        http::run(http::HttpBench {
            continuum: &continuum,
            database: &url,
            workflow: &args.module,
            activities: &args.activities_module,
            runs: args.runs,
            concurrency: args.concurrency,
            sequential: args.sequential,
        })
        .await;
        drop_database(&args.database, dbname).await;
        return;
    }
    println!("continuum-bench: {} | bench-flow = 2 native activities | 2 cores", if pg.is_some() { "postgres" } else { "sqlite" });
    let url_of_bench = url.clone();
    let components = args.module.parent().map(PathBuf::from).unwrap_or_default();
    let langs = if args.only.is_none() { languages::pick(&args.languages, &args.module, &components) } else { Vec::new() };
    let mut builder = Instance::builder("default")
        .database(url)
        .max_connections(32)
        .batcher(BatcherConfig { max_batch: 256, writers: args.writers })
        .workflow("bench-flow", &args.module)
        .workflow("long-flow", &args.long_module)
        .activities(activities);
    let parent_module = components.join("parent_flow.wasm");
    let child_module = components.join("child_flow.wasm");
    let children = args.children > 0 && matches!(args.only, None | Some(Only::Children));
    if children {
        for m in [&parent_module, &child_module] {
            if !m.exists() {
                eprintln!("{} is missing: build the guests first (cargo run --release -p continuum-guest-build)", m.display());
                std::process::exit(2);
            }
        }
        builder = builder.workflow("parent-flow", &parent_module).workflow("child-flow", &child_module);
    }
    let loop_module = components.join("loop_flow.wasm");
    let continuing = args.continue_iterations > 0 && matches!(args.only, None | Some(Only::Continue));
    if continuing {
        if !loop_module.exists() {
            eprintln!("{} is missing: build the guests first (cargo run --release -p continuum-guest-build)", loop_module.display());
            std::process::exit(2);
        }
        builder = builder.workflow("loop-flow", &loop_module);
    }
    for lang in langs.iter().filter(|l| l.name != "rust") {
        builder = builder.workflow(lang.workflow.clone(), &lang.module);
    }
    let instance = builder.build().await.expect("build instance");
    let mut c = Continuum::new();
    c.register(instance).expect("register");
    c.start_all();
    let c = Arc::new(c);
    for lang in &langs {
        bench_language(&c, lang, &url_of_bench, &args).await;
    }
    if args.parked > 0 && matches!(args.only, None | Some(Only::Parked)) {
        parked::run(&c, &url_of_bench, args.parked, args.parked_sample).await;
    }
    if children {
        children::run(&c, args.children, &parent_module).await;
    }
    if args.search_runs > 0 && matches!(args.only, None | Some(Only::Search)) {
        search::run(&c, &url_of_bench, args.search_runs).await;
    }
    if continuing {
        continuation::run(&c, args.continue_iterations, args.continue_every.max(1), args.continue_single, &loop_module).await;
    }
    if args.long_run_events > 0 && matches!(args.only, None | Some(Only::Snapshot)) {
        long_run(&c, args.long_run_events, &args.long_module).await;
    }
    c.stop_all().await;
    drop_database(&args.database, dbname).await;
}

/// Drops the bench's own Postgres database, if it made one.
async fn drop_database(server: &str, name: Option<String>) {
    if let Some(name) = name {
        if let Ok(mut conn) = sqlx::PgConnection::connect(server).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
        }
    }
}

/// The bench flow in one language: its component's size, compile times,
/// then warm-up, one in flight and `--concurrency` in flight, and the
/// guest instantiation times seen meanwhile.
async fn bench_language(c: &Arc<Continuum>, lang: &languages::Language, url: &str, args: &Args) {
    let size = std::fs::metadata(&lang.module).map(|m| m.len()).unwrap_or(0);
    let (cold, cached) = languages::compile_times(lang, url).await;
    println!(
        "[{}] component {:.1} MB | instance build with compile {:.0} ms cold, {:.0} ms from the compile cache",
        lang.name,
        size as f64 / 1e6,
        cold.as_secs_f64() * 1e3,
        cached.as_secs_f64() * 1e3
    );
    let label = |what: &str| format!("[{}] {what}", lang.name);
    phase(c, &lang.workflow, 200, 16, &label("warm-up")).await;
    languages::take_instantiations();
    phase(c, &lang.workflow, args.sequential, 1, &label("one in flight")).await;
    phase(c, &lang.workflow, args.runs, args.concurrency, &label(&format!("{} in flight", args.concurrency))).await;
    let inst = languages::take_instantiations();
    println!(
        "[{}] guest instantiation: p50 {:.2} ms, p90 {:.2} ms ({} instantiations)",
        lang.name,
        percentile(&inst, 0.5).as_secs_f64() * 1e3,
        percentile(&inst, 0.9).as_secs_f64() * 1e3,
        inst.len()
    );
}

/// Loads and replays a run with `steps` journal entries, without and with a
/// snapshot, and prints the times.
async fn long_run(c: &Arc<Continuum>, steps: u32, module: &std::path::Path) {
    let call = CallOptions::default;
    let id = c.start("long-flow", json!({ "steps": steps }), StartOptions::default()).await.expect("start");
    loop {
        let run = c.run_info(&id, call()).await.expect("run");
        if run.state == RunState::Suspended {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let time = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let events = c.history(&id, call()).await.expect("load").events.len();
    let load_full = time(t);
    let t = Instant::now();
    let verdicts = c.replay(Some("long-flow"), module, &[id.clone()], call()).await.expect("replay");
    let replay_full = time(t);
    assert!(verdicts[0].1.is_compatible(), "{:?}", verdicts[0].1);
    c.snapshot(&id, call()).await.expect("snapshot");
    let t = Instant::now();
    let history = c.history(&id, call()).await.expect("load history");
    let load_snap = time(t);
    assert_eq!(history.events.len(), events);
    let t = Instant::now();
    let verdicts = c.replay(Some("long-flow"), module, &[id.clone()], call()).await.expect("replay");
    let replay_snap = time(t);
    assert!(verdicts[0].1.is_compatible(), "{:?}", verdicts[0].1);
    println!(
        "long run ({events} journal entries): load {load_full:.1} ms from events, {load_snap:.1} ms from a snapshot; \
         load + replay {replay_full:.1} ms without a snapshot, {replay_snap:.1} ms with one"
    );
    let _ = c.signal(&id, "finish", json!(null), CallOptions::default()).await;
}
