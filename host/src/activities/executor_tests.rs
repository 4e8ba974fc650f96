//! The executor's heartbeat and cancellation behaviour, with native
//! activities and an in-memory SQLite journal.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::watch;

use super::*;
use crate::activities::{ActivityContext, ActivityError, ActivityRegistry};
use crate::journal::{ActivityOptions, Journal, RetryPolicy, SqliteJournal};

async fn journal() -> SharedJournal {
    let j = SqliteJournal::connect("sqlite::memory:").await.expect("open sqlite");
    j.migrate().await.expect("migrate");
    Arc::new(j)
}

fn retry_twice() -> ActivityOptions {
    ActivityOptions {
        retry: Some(RetryPolicy {
            max_attempts: 2,
            initial_interval_ms: 1,
            backoff_coefficient: 1.0,
            max_interval_ms: 0,
            jitter: 0.0,
            horizon_ms: 0,
            non_retryable_codes: Vec::new(),
        }),
        ..ActivityOptions::default()
    }
}

fn limits() -> ExecutorLimits {
    ExecutorLimits { heartbeat_interval: Duration::from_millis(10), cancel_grace: Duration::from_secs(5), ..ExecutorLimits::default() }
}

#[tokio::test]
async fn a_retry_resumes_from_the_last_heartbeat_which_is_stored_until_the_call_ends() {
    let j = journal().await;
    let mut reg = ActivityRegistry::new();
    reg.register_with_context("count", |_: Value, ctx: ActivityContext| async move {
        if ctx.info().attempt == 1 {
            ctx.heartbeat(&json!({"done": 3}));
            tokio::time::sleep(Duration::from_millis(50)).await;
            return Err(ActivityError::retryable("worker hiccup"));
        }
        Ok::<_, ActivityError>(json!({"resumed": ctx.last_heartbeat().await, "attempt": ctx.info().attempt}))
    });
    reg.register_with_context("peek", |_: Value, ctx: ActivityContext| async move {
        ctx.heartbeat(&"halfway");
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok::<_, ActivityError>(json!(null))
    });
    let exec = Arc::new(ActivityExecutor::with_limits("i".into(), reg, limits()).with_journal(j.clone()));
    let key = RunKey::new("i", "r1");
    let scope = ActivityScope { run_id: Some("r1"), workflow: Some("w"), op: Some(4), trace_context: None };
    let (_keep, cancel) = watch::channel(false);
    let out = exec.execute_for(scope, "count", json!({}), &retry_twice(), cancel.clone()).await;
    assert_eq!(out, TaskOutcome::Completed { output: json!({"resumed": {"done": 3}, "attempt": 2}), attempts: 2 });
    assert!(j.heartbeats(&key).await.unwrap().is_empty(), "forgotten once the call completed");

    // While a call runs, its latest details are stored.
    let e = exec.clone();
    let running = tokio::spawn(async move {
        let scope = ActivityScope { run_id: Some("r1"), workflow: Some("w"), op: Some(5), trace_context: None };
        e.execute_for(scope, "peek", json!({}), &ActivityOptions::default(), cancel).await
    });
    tokio::time::sleep(Duration::from_millis(60)).await;
    let beats = j.heartbeats(&key).await.unwrap();
    assert_eq!(beats.iter().map(|h| (h.op, h.attempt, h.details.clone())).collect::<Vec<_>>(), [(5, 1, json!("halfway"))]);
    assert!(matches!(running.await.unwrap(), TaskOutcome::Completed { .. }));
}

#[tokio::test]
async fn a_cancelled_activity_sees_it_and_one_that_ignores_it_is_stopped_after_the_grace() {
    let mut reg = ActivityRegistry::new();
    let (saw_tx, mut saw_rx) = tokio::sync::mpsc::unbounded_channel();
    reg.register_with_context("polite", move |_: Value, ctx: ActivityContext| {
        let saw = saw_tx.clone();
        async move {
            ctx.cancelled().await;
            let _ = saw.send(ctx.is_cancelled());
            Err::<Value, _>(ActivityError::non_retryable("stopped"))
        }
    });
    reg.register_json("deaf", |_| async {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(json!(null))
    });
    let grace = Duration::from_millis(300);
    let exec = ActivityExecutor::with_limits("i".into(), reg, ExecutorLimits { cancel_grace: grace, ..limits() });

    for name in ["polite", "deaf"] {
        let (cancel_tx, cancel) = watch::channel(false);
        let started = Instant::now();
        let canceller = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            cancel_tx.send_replace(true);
            cancel_tx
        });
        let out = exec.execute(name, json!({}), &ActivityOptions::default(), cancel).await;
        let _tx = canceller.await.unwrap();
        assert!(matches!(&out, TaskOutcome::Failed(f) if f.kind == FailureKind::Cancelled), "{name}: {out:?}");
        let took = started.elapsed();
        if name == "polite" {
            assert_eq!(saw_rx.recv().await, Some(true), "the activity saw its cancellation");
            assert!(took < grace, "returned by itself ({took:?})");
        } else {
            assert!(took >= grace && took < Duration::from_secs(3), "stopped after the grace ({took:?})");
        }
    }
}

#[tokio::test]
async fn an_activity_that_keeps_its_context_past_the_attempt_does_not_hold_up_the_call() {
    let mut reg = ActivityRegistry::new();
    reg.register_with_context("leaky", |_: Value, ctx: ActivityContext| async move {
        tokio::spawn(async move {
            ctx.heartbeat(&"still here");
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(ctx);
        });
        Ok::<_, ActivityError>(json!("done"))
    });
    let exec = ActivityExecutor::with_limits("i".into(), reg, limits());
    let (_keep, cancel) = watch::channel(false);
    let started = Instant::now();
    let out = exec.execute("leaky", json!({}), &ActivityOptions::default(), cancel).await;
    assert_eq!(out, TaskOutcome::Completed { output: json!("done"), attempts: 1 });
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn an_error_code_reaches_the_caller_and_a_listed_code_is_never_retried() {
    let tries = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let mut reg = ActivityRegistry::new();
    let seen = tries.clone();
    reg.register_with_context("charge", move |input: Value, _ctx: ActivityContext| {
        let seen = seen.clone();
        async move {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let code = input["code"].as_str().unwrap_or_default().to_owned();
            Err::<Value, _>(ActivityError::retryable("bank says no").with_code(code))
        }
    });
    let exec = ActivityExecutor::with_limits("i".into(), reg, limits());
    let (_keep, cancel) = watch::channel(false);

    // Not listed: retried until the policy gives up; the code comes along.
    let out = exec.execute("charge", json!({"code": "bank_busy"}), &retry_twice(), cancel.clone()).await;
    let TaskOutcome::Failed(f) = out else { panic!("expected a failure, got {out:?}") };
    assert_eq!((f.kind, f.attempts, f.code.as_deref()), (FailureKind::ActivityFailed, 2, Some("bank_busy")));
    assert_eq!(tries.swap(0, std::sync::atomic::Ordering::SeqCst), 2);

    // Listed in the policy: one attempt, although the error said retryable.
    let mut options = retry_twice();
    if let Some(p) = options.retry.as_mut() {
        p.non_retryable_codes = vec!["card_declined".into()];
    }
    let out = exec.execute("charge", json!({"code": "card_declined"}), &options, cancel).await;
    let TaskOutcome::Failed(f) = out else { panic!("expected a failure, got {out:?}") };
    assert_eq!((f.attempts, f.code.as_deref()), (1, Some("card_declined")));
    assert_eq!(tries.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_attempt_that_stops_heartbeating_times_out_and_is_retried() {
    let mut reg = ActivityRegistry::new();
    reg.register_with_context("stalls_once", |_: Value, ctx: ActivityContext| async move {
        // Attempt 1 beats once, then hangs; attempt 2 beats every 50 ms
        // for 400 ms (longer than the heartbeat timeout in all).
        let beats = if ctx.info().attempt == 1 { 1 } else { 8 };
        for n in 0..beats {
            ctx.heartbeat(&json!({"n": n}));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if ctx.info().attempt == 1 {
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
        Ok::<_, ActivityError>(json!({"attempt": ctx.info().attempt}))
    });
    let exec = ActivityExecutor::with_limits("i".into(), reg, limits());
    let (_keep, cancel) = watch::channel(false);
    let opts = ActivityOptions { heartbeat_timeout_ms: Some(200), ..retry_twice() };
    let t0 = Instant::now();
    let out = exec.execute("stalls_once", json!({}), &opts, cancel.clone()).await;
    assert_eq!(out, TaskOutcome::Completed { output: json!({"attempt": 2}), attempts: 2 });
    assert!(t0.elapsed() < Duration::from_secs(5), "attempt 1 was stopped long before it returned ({:?})", t0.elapsed());

    // Out of attempts, the call fails as timed out.
    let once = ActivityOptions { heartbeat_timeout_ms: Some(200), retry: Some(RetryPolicy { max_attempts: 1, ..retry_twice().retry.unwrap() }), ..ActivityOptions::default() };
    let TaskOutcome::Failed(failure) = exec.execute("stalls_once", json!({}), &once, cancel.clone()).await else {
        panic!("a stalled attempt must fail");
    };
    assert_eq!((failure.kind, failure.attempts), (FailureKind::TimedOut, 1), "{failure:?}");
    assert!(failure.message.contains("sent no heartbeat for 200ms"), "{}", failure.message);
    // Without a heartbeat timeout the same stall is not noticed early.
    let patient = ActivityOptions { attempt_timeout_ms: Some(600), ..once.clone() };
    let patient = ActivityOptions { heartbeat_timeout_ms: None, ..patient };
    let TaskOutcome::Failed(failure) = exec.execute("stalls_once", json!({}), &patient, cancel).await else {
        panic!("the attempt timeout stops it");
    };
    assert!(failure.message.contains("timed out after 600ms"), "{}", failure.message);
}
