//! The continue phase: one `loop-flow` chain of `n` iterations (one
//! native `conf_echo` activity each) that continues as new every `every`
//! iterations, so no run's history grows past `every` activity calls.
//! Prints the chain's wall time, then the time to load and replay the
//! first, the middle and the last run of the chain (flat: each holds
//! `every` iterations), and for contrast one run of `single` iterations in
//! one history (no continuation), loaded and replayed the same way.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use continuum_host::{CallOptions, Continuum, StartOptions};
use serde_json::{json, Value};

/// Runs the phase: a chain of `n` iterations continuing every `every`,
/// and one run of `single` iterations in one history; `module` is the
/// `loop-flow` component the instance registered.
pub async fn run(c: &Arc<Continuum>, n: u64, every: u64, single: u64, module: &Path) {
    let t = Instant::now();
    let root = c.start("loop-flow", json!({"n": n, "every": every}), StartOptions::default()).await.expect("start the chain");
    let out = c.await_run(&root, Duration::from_secs(3600), CallOptions::default()).await.expect("await the chain");
    let elapsed = t.elapsed();
    check(out.output.as_ref(), n, &root);
    let runs = n.div_ceil(every);
    println!(
        "continue: {n} iterations continuing as new every {every} ({runs} runs): {:.2} s ({:.0} iterations/s)",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    let chain = c.history(&root, CallOptions::default()).await.expect("the chain").chain;
    assert_eq!(chain.len() as u64, runs, "the chain has {} runs, not {runs}", chain.len());
    let picks = [("first", 0), ("middle", chain.len() / 2), ("last", chain.len() - 1)];
    for (name, i) in picks {
        let id = chain[i].key.run_id.clone();
        let (events, load, replay) = load_and_replay(c, &id, module).await;
        println!("continue: the {name} run of the chain ({id}, {events} journal entries): load {load:.1} ms, load + replay {replay:.1} ms");
    }

    let t = Instant::now();
    let id = c.start("loop-flow", json!({"n": single, "every": single}), StartOptions::default()).await.expect("start the single run");
    let out = c.await_run(&id, Duration::from_secs(3600), CallOptions::default()).await.expect("await the single run");
    check(out.output.as_ref(), single, &id);
    let elapsed = t.elapsed();
    let (events, load, replay) = load_and_replay(c, &id, module).await;
    println!(
        "continue: for contrast, {single} iterations in one history ({events} journal entries, {:.2} s to run): load {load:.1} ms, load + replay {replay:.1} ms",
        elapsed.as_secs_f64()
    );
}

/// The run's journal entries, and the times to load its history and to
/// load and replay it, in ms.
async fn load_and_replay(c: &Arc<Continuum>, id: &str, module: &Path) -> (usize, f64, f64) {
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let events = c.history(id, CallOptions::default()).await.expect("load the history").events.len();
    let load = ms(t);
    let t = Instant::now();
    let verdicts = c.replay(Some("loop-flow"), module, &[id.to_string()], CallOptions::default()).await.expect("replay");
    let replay = ms(t);
    match verdicts.first() {
        Some((_, verdict)) => assert!(verdict.is_compatible(), "run {id}'s replay diverged: {verdict:?}"),
        None => panic!("replay returned no verdict for {id}"),
    }
    (events, load, replay)
}

/// Panics unless `output` is the loop's: `n` iterations, each adding 2i.
fn check(output: Option<&Value>, n: u64, id: &str) {
    let sum: u64 = (0..n).map(|i| 2 * i).sum();
    let output = output.unwrap_or_else(|| panic!("{id} did not complete"));
    assert_eq!(output.get("count").and_then(Value::as_u64), Some(n), "{id}: {output}");
    assert_eq!(output.get("sum").and_then(Value::as_u64), Some(sum), "{id}: {output}");
}
