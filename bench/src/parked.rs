//! The parked phase: a host holding many runs parked on a signal. Starts
//! `n` long-flow runs (one journaled step, then a wait for `finish`), waits
//! until every one is suspended, prints the process's memory, then signals
//! a sample of them one at a time and prints how long each took from the
//! signal to the run's completion.

use std::sync::Arc;
use std::time::{Duration, Instant};

use continuum_host::{CallOptions, Continuum, StartOptions};
use serde_json::json;
use sqlx::Connection;

use crate::{memory, percentile};

/// Runs the phase with `n` parked runs and `sample` signalled ones.
pub async fn run(c: &Arc<Continuum>, url: &str, n: usize, sample: usize) {
    let started = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(256));
    let mut starts = Vec::with_capacity(n);
    for i in 0..n {
        let Ok(permit) = sem.clone().acquire_owned().await else { break };
        let c = c.clone();
        starts.push(tokio::spawn(async move {
            let id = format!("parked-{i:06}");
            let opts = StartOptions { run_id: Some(id.clone()), ..Default::default() };
            let started = c.start("long-flow", json!({"steps": 1}), opts).await;
            drop(permit);
            started.map(|_| id)
        }));
    }
    let mut ids = Vec::with_capacity(n);
    for s in starts {
        match s.await {
            Ok(Ok(id)) => ids.push(id),
            Ok(Err(e)) => panic!("starting a parked run failed: {e}"),
            Err(e) => panic!("a start task failed: {e}"),
        }
    }
    let created = started.elapsed();
    loop {
        let parked = suspended(url).await;
        if parked >= n as i64 {
            break;
        }
        if started.elapsed() > Duration::from_secs(3600) {
            panic!("only {parked} of {n} runs parked within an hour");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let all_parked = started.elapsed();
    println!(
        "parked: {n} runs started in {:.1} s, all parked on their signal after {:.1} s ({:.0} runs/s)",
        created.as_secs_f64(),
        all_parked.as_secs_f64(),
        n as f64 / all_parked.as_secs_f64()
    );
    // Let the finished attempts' memory go back before measuring.
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!("parked: memory with {n} parked runs: {}", memory());

    let mut latencies = Vec::with_capacity(sample);
    let step = (ids.len() / sample.max(1)).max(1);
    for id in ids.iter().step_by(step).take(sample) {
        let t0 = Instant::now();
        c.signal(id, "finish", json!("go"), CallOptions::default()).await.expect("signal");
        let out = c.await_run(id, Duration::from_secs(60), CallOptions::default()).await.expect("await");
        assert!(out.output.is_some(), "run {id} did not complete: {:?}", out.error);
        latencies.push(t0.elapsed());
    }
    latencies.sort();
    println!(
        "parked: signal to completion of one parked run among {n} ({} sampled): p50 {:.2} ms, p90 {:.2} ms, max {:.2} ms",
        latencies.len(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.9).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    println!("parked: memory after: {}", memory());
}

/// How many runs of the database are suspended.
async fn suspended(url: &str) -> i64 {
    const SQL: &str = "SELECT count(*) FROM runs WHERE state = 'suspended'";
    let counted = if url.starts_with("sqlite:") {
        match sqlx::SqliteConnection::connect(url).await {
            Ok(mut conn) => sqlx::query_scalar::<_, i64>(SQL).fetch_one(&mut conn).await,
            Err(e) => Err(e),
        }
    } else {
        match sqlx::PgConnection::connect(url).await {
            Ok(mut conn) => sqlx::query_scalar::<_, i64>(SQL).fetch_one(&mut conn).await,
            Err(e) => Err(e),
        }
    };
    counted.unwrap_or_else(|e| panic!("counting suspended runs failed: {e}"))
}
