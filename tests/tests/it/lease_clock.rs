//! A host that cannot renew its lease in time (here: a heartbeater that
//! renews every 60 s, for leases of 1 s, as a starved process would) must
//! not start side effects once the lease may have expired: the engine stops
//! the run before its next activity, and the run's next owner (here the
//! same host, re-acquiring the expired lease) runs it. Without the check,
//! the run would go on in one attempt under its first, expired lease.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use continuum_host::{ActivityError, ActivityRegistry};
use continuum_host::HeartbeaterConfig;
use continuum_host::ChildrenConfig;
use continuum_host::{EventBody, RunState};
use continuum_host::{CallOptions, StartOptions};
use continuum_tests::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_activity_starts_after_the_lease_may_have_expired() {
    let released = Arc::new(AtomicUsize::new(0));
    let mut reg = ActivityRegistry::new();
    reg.register_json("reserve_stock", |_| async { Ok(json!({"reservation_id": "res-1"})) });
    // Longer than the lease: by its end the lease has run out unrenewed.
    reg.register_json("charge_card", |_| async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        Err::<serde_json::Value, _>(ActivityError::non_retryable("card declined").with_code("card_declined"))
    });
    let r = released.clone();
    reg.register_json("release_stock", move |_| {
        r.fetch_add(1, Ordering::SeqCst);
        async { Ok(json!({})) }
    });
    let dir = TempDir::new();
    let children = ChildrenConfig {
        heartbeater: Some(HeartbeaterConfig { interval: Duration::from_secs(60), lease_ttl: Duration::from_secs(1) }),
        ..ChildrenConfig::default()
    };
    let c = embedded(&format!("sqlite:{}", dir.0.join("lease.db").display()), "order-flow", reg, children).await;

    let input = json!({"order_id": "o-1", "sku": "BOOK", "quantity": 1, "amount_cents": 1, "card": "4000-0000-0000-0002"});
    let id = c.start("order-flow", input, StartOptions::default()).await.expect("start");
    let out = c.await_run(&id, Duration::from_secs(60), CallOptions::default()).await.expect("await");
    assert_eq!(out.state, RunState::Failed, "{out:?}");
    assert_eq!(out.error.as_ref().map(|e| e["code"].clone()), Some(json!("payment_declined")), "{out:?}");
    assert_eq!(released.load(Ordering::SeqCst), 1, "release_stock runs once, by the run's next owner");

    let continuum_host::RunHistory { run, events, .. } = c.history(&id, CallOptions::default()).await.expect("show");
    assert!(run.lease_token >= 2, "the run went on under its first, expired lease (token {})", run.lease_token);
    let scheduled: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::ActivityScheduled { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(scheduled, ["reserve_stock", "charge_card", "release_stock"], "each call scheduled once");
    c.stop_all().await;
}
