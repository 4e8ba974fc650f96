//! Instances sharing one database: instance B's lease never fences a write
//! to instance A's run of the same id, even with equal tokens.

use super::*;

async fn create_with_lease(j: &SharedJournal, instance: &str, owner: &str) -> Lease {
    let k = key(instance, "same-id");
    j.create_run(&new_run(&k), None).await.unwrap_or_else(|e| panic!("create {k}: {e}"));
    let (lease, record) = j
        .acquire_lease(&k, owner, Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("acquire the lease of {k}"));
    assert_eq!(record.state, RunState::Running);
    assert_eq!(lease.owner, owner);
    lease
}

fn started(key: &RunKey, lease: &Lease) -> RunWrite {
    let mut w = RunWrite::new(key.clone(), lease.clone());
    w.events.push((1, EventBody::RunStarted { module_hash: "h".repeat(64) }));
    w
}

journal_suite!(a_write_fenced_by_another_instances_lease_is_refused, |j: SharedJournal, _: TestClock| async move {
    let kind = j.kind();
    let a = create_with_lease(&j, "alpha", "node-x/alpha/7").await;
    let b = create_with_lease(&j, "beta", "node-x/beta/7").await;
    assert_eq!(a.token, b.token, "{kind}: both first leases should carry the same token (the case to guard)");
    let key_a = key("alpha", "same-id");
    let key_b = key("beta", "same-id");

    assert_eq!(j.commit(&[started(&key_a, &b)]).await.unwrap(), vec![false], "{kind}: A's write with B's lease was applied");
    // Same owner text, other instance's key: refused too.
    assert_eq!(j.commit(&[started(&key_b, &a)]).await.unwrap(), vec![false], "{kind}: B's write with A's lease was applied");
    assert!(j.load_events(&key_a).await.unwrap().is_empty(), "{kind}: A's journal changed");
    assert!(j.load_events(&key_b).await.unwrap().is_empty(), "{kind}: B's journal changed");

    assert_eq!(j.commit(&[started(&key_a, &a)]).await.unwrap(), vec![true], "{kind}: A's write with its own lease was refused");
    assert_eq!(j.load_events(&key_a).await.unwrap().len(), 1, "{kind}");
    assert!(j.load_events(&key_b).await.unwrap().is_empty(), "{kind}: A's write landed in B's journal");
    assert_eq!(j.commit(&[started(&key_b, &b)]).await.unwrap(), vec![true], "{kind}: B's own write was refused");
});
