//! Activity policies through the embedding API, with native activities
//! that count their invocations: idempotency keys reuse a completed result
//! instead of running again; retries with backoff until success; a final
//! failure reaches the workflow as a typed error it handles.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use continuum_host::{ActivityError, ActivityRegistry};
use continuum_host::ChildrenConfig;
use continuum_host::{FailureKind, RunState};
use continuum_host::{CallOptions, Continuum, StartOptions};
use continuum_tests::*;
use serde_json::{json, Value};

struct Counters {
    charge: AtomicUsize,
    reserve: AtomicUsize,
}

/// order-flow's five activities as native functions. `reserve_stock` fails
/// (retryably) the first `flaky` times it is called.
fn activities(counters: Arc<Counters>, flaky: usize) -> ActivityRegistry {
    let mut reg = ActivityRegistry::new();
    let c = counters.clone();
    reg.register_json("reserve_stock", move |input: Value| {
        let n = c.reserve.fetch_add(1, Ordering::SeqCst);
        async move {
            if n < flaky {
                return Err(ActivityError::retryable(format!("warehouse busy (call {})", n + 1)));
            }
            Ok(json!({"reservation_id": format!("res-{}", input["order_id"].as_str().unwrap_or(""))}))
        }
    });
    let c = counters.clone();
    reg.register_json("charge_card", move |input: Value| {
        let n = c.charge.fetch_add(1, Ordering::SeqCst);
        async move {
            if input["card"] == "4000-0000-0000-0002" {
                return Err(ActivityError::non_retryable("card declined").with_code("card_declined"));
            }
            Ok(json!({"charge_id": format!("ch-{}-{n}", input["order_id"].as_str().unwrap_or(""))}))
        }
    });
    reg.register_json("ship_order", |_| async { Ok(json!({"tracking": "TRK-1"})) });
    reg.register_json("refund_payment", |_| async { Ok(json!({})) });
    reg.register_json("release_stock", |_| async { Ok(json!({})) });
    reg
}

async fn continuum(dir: &TempDir, counters: Arc<Counters>, flaky: usize) -> Continuum {
    let db = format!("sqlite:{}", dir.0.join("policies.db").display());
    embedded(&db, "order-flow", activities(counters, flaky), ChildrenConfig::default()).await
}

fn order(id: &str, card: &str) -> Value {
    json!({"order_id": id, "sku": "S", "quantity": 1, "amount_cents": 100, "card": card, "review_timeout_ms": 10})
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idempotency_key_reuses_the_completed_result() {
    let dir = TempDir::new();
    let counters = Arc::new(Counters { charge: AtomicUsize::new(0), reserve: AtomicUsize::new(0) });
    let c = continuum(&dir, counters.clone(), 0).await;
    // order-flow charges with the key `charge-<order_id>`: the same order
    // in two runs is charged once.
    let mut charges = Vec::new();
    for _ in 0..2 {
        let id = c.start("order-flow", order("same-order", "4242"), StartOptions::default()).await.unwrap();
        let out = c.await_run(&id, Duration::from_secs(30), CallOptions::default()).await.unwrap();
        assert_eq!(out.state, RunState::Completed, "{out:?}");
        let continuum_host::RunHistory { events, .. } = c.history(&id, CallOptions::default()).await.unwrap();
        let charge = events.iter().find_map(|e| match &e.body {
            continuum_host::EventBody::ActivityCompleted { output, .. } if output.get("charge_id").is_some() => Some(output.clone()),
            _ => None,
        });
        charges.push(charge.expect("a charge result in the journal"));
    }
    assert_eq!(counters.charge.load(Ordering::SeqCst), 1, "the card was charged twice");
    assert_eq!(charges[0], charges[1]);
    // Another order is charged normally.
    let id = c.start("order-flow", order("other-order", "4242"), StartOptions::default()).await.unwrap();
    c.await_run(&id, Duration::from_secs(30), CallOptions::default()).await.unwrap();
    assert_eq!(counters.charge.load(Ordering::SeqCst), 2);
    c.stop_all().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_until_success_and_a_final_failure_is_a_typed_error() {
    let dir = TempDir::new();
    let counters = Arc::new(Counters { charge: AtomicUsize::new(0), reserve: AtomicUsize::new(0) });
    // order-flow retries reserve_stock 3 times with exponential backoff.
    let c = continuum(&dir, counters.clone(), 2).await;
    let id = c.start("order-flow", order("flaky", "4242"), StartOptions::default()).await.unwrap();
    let out = c.await_run(&id, Duration::from_secs(30), CallOptions::default()).await.unwrap();
    assert_eq!(out.state, RunState::Completed, "{out:?}");
    assert_eq!(counters.reserve.load(Ordering::SeqCst), 3, "two failures, then success");
    let continuum_host::RunHistory { events, .. } = c.history(&id, CallOptions::default()).await.unwrap();
    let attempts = events.iter().find_map(|e| match &e.body {
        continuum_host::EventBody::ActivityCompleted { op: 0, attempts, .. } => Some(*attempts),
        _ => None,
    });
    assert_eq!(attempts, Some(3));

    // A non-retryable failure is tried once and handled by the workflow.
    let charges_before = counters.charge.load(Ordering::SeqCst);
    let id = c.start("order-flow", order("declined", "4000-0000-0000-0002"), StartOptions::default()).await.unwrap();
    let out = c.await_run(&id, Duration::from_secs(30), CallOptions::default()).await.unwrap();
    assert_eq!(out.state, RunState::Failed);
    assert_eq!(out.error.unwrap()["code"], "payment_declined");
    assert_eq!(counters.charge.load(Ordering::SeqCst) - charges_before, 1, "a non-retryable failure runs exactly once");
    let continuum_host::RunHistory { events, .. } = c.history(&id, CallOptions::default()).await.unwrap();
    let failure = events.iter().find_map(|e| match &e.body {
        continuum_host::EventBody::ActivityFailed { failure, .. } => Some(failure.clone()),
        _ => None,
    });
    let failure = failure.expect("the charge's failure is journaled");
    assert_eq!((failure.kind, failure.attempts), (FailureKind::ActivityFailed, 1), "{failure:?}");
    c.stop_all().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retryable_failure_that_exhausts_its_attempts_reaches_the_workflow_typed() {
    let dir = TempDir::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let mut reg = ActivityRegistry::new();
    let counted = calls.clone();
    reg.register_json("always_busy", move |_input: Value| {
        let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
        async move { Err::<Value, _>(ActivityError::retryable(format!("busy (call {n})"))) }
    });
    let db = format!("sqlite:{}", dir.0.join("exhaust.db").display());
    let c = embedded(&db, "probe-flow", reg, ChildrenConfig::default()).await;
    let input = json!({"probes": [{"activity": "always_busy", "input": {}, "retry": {"max_attempts": 4, "interval_ms": 20}}]});
    let id = c.start("probe-flow", input, StartOptions::default()).await.unwrap();
    let out = c.await_run(&id, Duration::from_secs(60), CallOptions::default()).await.unwrap();
    assert_eq!(out.state, RunState::Completed, "the workflow handles the failure: {out:?}");
    let result = &out.output.expect("probe-flow's result")[0];
    assert_eq!(result["kind"], "ActivityFailed", "{result}");
    assert_eq!(result["attempts"], 4, "{result}");
    assert_eq!(result["failure"], "busy (call 4)", "the last attempt's error: {result}");
    assert_eq!(calls.load(Ordering::SeqCst), 4, "exactly max_attempts attempts ran");
    c.stop_all().await;
}

/// Counts the attempts of one activity running at once.
#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    max: AtomicUsize,
}

fn slow_activity(reg: &mut ActivityRegistry, name: &str, gauge: Arc<Gauge>) {
    reg.register_json(name.to_string(), move |_input: Value| {
        let gauge = gauge.clone();
        async move {
            let n = gauge.now.fetch_add(1, Ordering::SeqCst) + 1;
            gauge.max.fetch_max(n, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(300)).await;
            gauge.now.fetch_sub(1, Ordering::SeqCst);
            Ok(json!({}))
        }
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn a_queue_with_a_concurrency_limit_never_runs_more_at_once() {
    use continuum_host::{ActivityDispatcherConfig, ActivitySupervisorConfig};
    let dir = TempDir::new();
    let (narrow, wide) = (Arc::new(Gauge::default()), Arc::new(Gauge::default()));
    let mut reg = ActivityRegistry::new();
    slow_activity(&mut reg, "narrow_work", narrow.clone());
    slow_activity(&mut reg, "wide_work", wide.clone());
    let mut children = ChildrenConfig::default();
    children.activity_supervisor = Some(ActivitySupervisorConfig {
        queue_limits: [("narrow".to_string(), 2)].into_iter().collect(),
        ..ActivitySupervisorConfig::default()
    });
    children.activity_dispatcher = Some(ActivityDispatcherConfig {
        queues: vec!["narrow".into(), "wide".into()],
        ..ActivityDispatcherConfig::default()
    });
    let c = embedded(&format!("sqlite:{}", dir.0.join("queues.db").display()), "probe-flow", reg, children).await;

    let mut runs = Vec::new();
    for i in 0..8 {
        for (activity, queue) in [("narrow_work", "narrow"), ("wide_work", "wide")] {
            let input = json!({"probes": [{"activity": activity, "input": {"i": i}, "queue": queue}]});
            runs.push(c.start("probe-flow", input, StartOptions::default()).await.unwrap());
        }
    }
    for id in &runs {
        let out = c.await_run(id, Duration::from_secs(60), CallOptions::default()).await.unwrap();
        assert_eq!(out.state, RunState::Completed, "{out:?}");
    }
    assert_eq!(narrow.max.load(Ordering::SeqCst), 2, "the `narrow` queue runs at most 2 at once, and does run 2");
    assert!(wide.max.load(Ordering::SeqCst) > 2, "a queue without a limit of its own runs more at once");
    c.stop_all().await;
}
