//! The children phase: one `parent-flow` run in `join` mode that starts `n`
//! `child-flow` children which do not sleep, and joins them. Prints the
//! wall time from the parent's start to its completion, checks that every
//! child's output is in the parent's, then prints the time to load the
//! parent's history and to load and replay it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use continuum_host::{CallOptions, Continuum, StartOptions};
use serde_json::{json, Value};

/// Runs the phase with `n` children; `parent_module` is the `parent-flow`
/// component the instance registered, replayed against the parent's
/// history.
pub async fn run(c: &Arc<Continuum>, n: usize, parent_module: &Path) {
    let call = CallOptions::default;
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
    let input = json!({"mode": "join", "n": n, "sleep_ms": 0});
    let t = Instant::now();
    let id = c.start("parent-flow", input, StartOptions::default()).await.expect("start the parent");
    let out = c.await_run(&id, Duration::from_secs(600), call()).await.expect("await the parent");
    let elapsed = t.elapsed();
    let output = out.output.unwrap_or_else(|| panic!("parent {id} did not complete: {:?} {:?}", out.state, out.error));
    check(&output, n);
    println!(
        "children: a parent starting and joining {n} children: {:.2} s from its start to its completion ({:.0} children/s)",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64().max(1e-9)
    );

    let t = Instant::now();
    let events = c.history(&id, call()).await.expect("load the parent's history").events.len();
    let load = ms(t);
    let t = Instant::now();
    let verdicts = c.replay(Some("parent-flow"), parent_module, std::slice::from_ref(&id), call()).await.expect("replay the parent");
    let replay = ms(t);
    match verdicts.first() {
        Some((_, verdict)) => assert!(verdict.is_compatible(), "the parent's replay diverged: {verdict:?}"),
        None => panic!("replay returned no verdict for the parent {id}"),
    }
    println!("children: the parent's history ({events} journal entries): load {load:.1} ms, load + replay {replay:.1} ms");
}

/// Panics unless `output` (the parent's) holds `n` child outputs, child i's
/// being `{"value": i, "doubled": 2i}`, and `n` child run ids.
fn check(output: &Value, n: usize) {
    let results = output.get("results").and_then(Value::as_array).unwrap_or_else(|| panic!("no results in {output}"));
    assert_eq!(results.len(), n, "the parent joined {} children, not {n}", results.len());
    for (i, r) in results.iter().enumerate() {
        let ok = r.get("value").and_then(Value::as_u64) == Some(i as u64)
            && r.get("doubled").and_then(Value::as_u64) == Some(2 * i as u64);
        assert!(ok, "child {i}'s output is missing or wrong: {r}");
    }
    let ids = output.get("child_run_ids").and_then(Value::as_array).map_or(0, Vec::len);
    assert_eq!(ids, n, "the parent reported {ids} child run ids, not {n}");
}
