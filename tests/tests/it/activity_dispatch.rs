//! Where activity calls run (issue 4), with native activities on hosts
//! sharing one Postgres database through the embedding API:
//!
//! - a call names its task queue: a host that has the activity but does not
//!   serve that queue leaves the call to the hosts that do;
//! - a worker claims only the tasks it can start now: with
//!   `max_concurrent = 1` it never runs two attempts at once, and the tasks
//!   it cannot start are left for another worker.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use continuum_host::ActivityRegistry;
use continuum_host::{ActivityDispatcherConfig, ActivitySupervisorConfig, ChildrenConfig};
use continuum_host::{EventBody, RunState};
use continuum_host::{CallOptions, Continuum, StartOptions};
use continuum_tests::*;
use serde_json::{json, Value};

/// Attempts of one host's `work` activity: running now, most at once, in all.
#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    max: AtomicUsize,
    total: AtomicUsize,
}

fn work(gauge: Arc<Gauge>, ms: u64) -> ActivityRegistry {
    let mut reg = ActivityRegistry::new();
    reg.register_json("work", move |_input: Value| {
        let gauge = gauge.clone();
        async move {
            gauge.total.fetch_add(1, Ordering::SeqCst);
            let n = gauge.now.fetch_add(1, Ordering::SeqCst) + 1;
            gauge.max.fetch_max(n, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            gauge.now.fetch_sub(1, Ordering::SeqCst);
            Ok(json!({}))
        }
    });
    reg
}

/// A host of the instance `default` on `db`, started.
async fn host(db: &str, children: ChildrenConfig, activities: Option<ActivityRegistry>) -> Continuum {
    embedded(db, "probe-flow", activities.unwrap_or_default(), children).await
}

/// A host that only runs activities, serving `queues` with at most
/// `max_concurrent` attempts at once.
fn worker_children(queues: &[&str], max_concurrent: usize) -> ChildrenConfig {
    let mut children = ChildrenConfig::client_only();
    children.activity_supervisor = Some(ActivitySupervisorConfig { max_concurrent, ..ActivitySupervisorConfig::default() });
    children.activity_dispatcher = Some(ActivityDispatcherConfig {
        poll_interval: Duration::from_millis(100),
        queues: queues.iter().map(|q| q.to_string()).collect(),
        ..ActivityDispatcherConfig::default()
    });
    children
}

fn probe(queue: &str) -> Value {
    json!({"probes": [{"activity": "work", "input": {}, "queue": queue}]})
}

async fn completes(c: &Continuum, id: &str) {
    let out = c.await_run(id, Duration::from_secs(60), CallOptions::default()).await.unwrap();
    assert_eq!(out.state, RunState::Completed, "{out:?}");
    assert!(out.output.as_ref().is_some_and(|o| o[0].get("result").is_some()), "{out:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_on_a_queue_this_host_does_not_serve_is_left_to_the_host_that_does() {
    let db = PgDb::create().await;
    let (here, there) = (Arc::new(Gauge::default()), Arc::new(Gauge::default()));
    // This host runs workflows and has `work`, serving only `default`.
    let mut children = ChildrenConfig::default();
    children.activity_dispatcher = Some(ActivityDispatcherConfig { poll_interval: Duration::from_millis(100), ..ActivityDispatcherConfig::default() });
    let main = host(&db.url, children, Some(work(here.clone(), 10))).await;
    let elsewhere = host(&db.url, worker_children(&["elsewhere"], 4), Some(work(there.clone(), 10))).await;

    let id = main.start("probe-flow", probe("elsewhere"), StartOptions::default()).await.unwrap();
    completes(&main, &id).await;
    assert_eq!((here.total.load(Ordering::SeqCst), there.total.load(Ordering::SeqCst)), (0, 1), "run by the host serving `elsewhere`");
    let continuum_host::RunHistory { events, .. } = main.history(&id, CallOptions::default()).await.unwrap();
    assert!(
        events.iter().any(|e| matches!(&e.body, EventBody::ActivityScheduled { eager: false, .. })),
        "scheduled as a durable task: {events:?}"
    );

    // A call on a queue this host serves runs here.
    let id = main.start("probe-flow", probe("default"), StartOptions::default()).await.unwrap();
    completes(&main, &id).await;
    assert_eq!((here.total.load(Ordering::SeqCst), there.total.load(Ordering::SeqCst)), (1, 1));
    main.stop_all().await;
    elsewhere.stop_all().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_claims_only_what_it_can_start_and_max_concurrent_holds() {
    let db = PgDb::create().await;
    // Workflows only: every call is a durable task.
    let mut children = ChildrenConfig::default();
    children.activity_supervisor = None;
    children.activity_dispatcher = None;
    let main = host(&db.url, children, None).await;
    let mut runs = Vec::new();
    for _ in 0..4 {
        runs.push(main.start("probe-flow", probe("default"), StartOptions::default()).await.unwrap());
    }
    // All four tasks are waiting before any worker starts.
    for id in &runs {
        let parked = eventually(Duration::from_secs(30), || async {
            let continuum_host::RunHistory { run,  .. } = main.history(id, CallOptions::default()).await.ok()?;
            (run.state == RunState::Suspended).then_some(())
        })
        .await;
        assert!(parked.is_some(), "run {id} never waited for its task");
    }

    let (a, b) = (Arc::new(Gauge::default()), Arc::new(Gauge::default()));
    let worker_a = host(&db.url, worker_children(&["default"], 1), Some(work(a.clone(), 800))).await;
    let started = eventually(Duration::from_secs(30), || async { (a.total.load(Ordering::SeqCst) > 0).then_some(()) }).await;
    assert!(started.is_some(), "worker A never ran a task");
    // Worker A holds one task; the three others are still there to take.
    let worker_b = host(&db.url, worker_children(&["default"], 1), Some(work(b.clone(), 800))).await;
    for id in &runs {
        completes(&main, id).await;
    }
    assert_eq!(a.max.load(Ordering::SeqCst), 1, "max_concurrent = 1 holds on worker A");
    assert_eq!(b.max.load(Ordering::SeqCst), 1, "max_concurrent = 1 holds on worker B");
    assert_eq!(a.total.load(Ordering::SeqCst) + b.total.load(Ordering::SeqCst), 4);
    assert!(b.total.load(Ordering::SeqCst) >= 1, "worker A left the tasks it could not start to worker B");
    for c in [main, worker_a, worker_b] {
        c.stop_all().await;
    }
}
