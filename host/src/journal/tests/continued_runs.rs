//! Continue-as-new in the journal, on both stores: the write that ends a
//! run `continued` creates the next run of its chain in the same commit
//! (with the ended run's parent link and pending cancellation, the signals
//! it did not take moved to it), or nothing at all when its fence fails;
//! the chain lists in order.

use super::*;

fn continuation(k: &RunKey, root: &str, seq: i64) -> Continuation {
    Continuation {
        run: NewRun { input: json!({"i": seq}), ..new_run(&key(&k.instance, &continuation_run_id(root, seq))) },
        chain_root: root.into(),
        chain_seq: seq,
    }
}

fn continue_write(k: &RunKey, lease: &Lease, seq: i64, next: Continuation) -> RunWrite {
    let mut w = RunWrite::new(k.clone(), lease.clone());
    let body = EventBody::ContinuedAsNew {
        run_id: next.run.key.run_id.clone(),
        input: next.run.input.clone(),
        module_hash: next.run.module_hash.clone(),
    };
    w.events.push((seq, body));
    w.transition = Some(Transition::Continue { next });
    w
}

journal_suite!(a_continuation_creates_the_next_run_in_the_same_commit, |j: SharedJournal, _: TestClock| async move {
    let first = key("a", "loop");
    let lease = leased(&j, &first, "n/a/1", TTL).await;
    j.send_signal(&first, "later", &json!(1), None).await.unwrap();

    // A write whose fence fails creates nothing and ends nothing.
    let stale = Lease { owner: lease.owner.clone(), token: lease.token + 5 };
    assert_eq!(j.commit(&[continue_write(&first, &stale, 1, continuation(&first, "loop", 1))]).await.unwrap(), vec![false]);
    assert!(j.get_run(&key("a", "loop-can-1")).await.unwrap().is_none(), "a fenced-out write created a run");
    assert_eq!(run(&j, &first).await.state, RunState::Running);

    assert_eq!(j.commit(&[continue_write(&first, &lease, 1, continuation(&first, "loop", 1))]).await.unwrap(), vec![true]);
    let ended = run(&j, &first).await;
    assert_eq!((ended.state, ended.continued_to.as_deref(), ended.lease_owner.as_deref()), (RunState::Continued, Some("loop-can-1"), None));
    let next = run(&j, &key("a", "loop-can-1")).await;
    assert_eq!(next.state, RunState::Pending);
    assert_eq!((next.continued_from.as_deref(), next.chain_root.as_deref(), next.chain_seq), (Some("loop"), Some("loop"), 1));
    assert_eq!((next.input.clone(), next.workflow.as_str()), (json!({"i": 1}), "wf"));
    assert!(next.wake_at.is_some(), "the next run is due");
    // The signal the first run did not take moved on.
    assert!(j.inbox(&first).await.unwrap().is_empty());
    assert_eq!(j.inbox(&next.key).await.unwrap().len(), 1);
    // A signal to the ended run is refused as to a finished one.
    match j.send_signal(&first, "s", &json!(1), None).await {
        Err(JournalError::RunFinished { state: RunState::Continued, .. }) => {}
        other => panic!("a signal to a continued run: {other:?}"),
    }

    // The chain goes on; it lists in order from any of its runs' root.
    let (l2, _) = j.acquire_lease(&next.key, "n/a/2", TTL).await.unwrap().expect("claim the next run");
    assert_eq!(j.commit(&[continue_write(&next.key, &l2, 1, continuation(&next.key, "loop", 2))]).await.unwrap(), vec![true]);
    let chain = j.chain("a", "loop").await.unwrap();
    let listed: Vec<(&str, i64, RunState)> = chain.iter().map(|c| (c.key.run_id.as_str(), c.chain_seq, c.state)).collect();
    assert_eq!(listed, [("loop", 0, RunState::Continued), ("loop-can-1", 1, RunState::Continued), ("loop-can-2", 2, RunState::Pending)]);
    assert_eq!(j.chain("a", "nothing").await.unwrap().len(), 0);
});

journal_suite!(a_continuation_keeps_the_parent_link_and_a_pending_cancellation, |j: SharedJournal, _: TestClock| async move {
    let parent = key("a", "p");
    let plase = leased(&j, &parent, "n/a/1", TTL).await;
    let mut w = RunWrite::new(parent.clone(), plase);
    w.family = true;
    w.events.push((1, EventBody::ChildStarted { op: 0, workflow: "wf".into(), run_id: "c".into(), input: json!({}), options: ChildOptions::default() }));
    w.children.push(NewChild { run: new_run(&key("a", "c")), parent_op: 0, parent_close: ParentClose::Terminate });
    w.transition = Some(Transition::Suspend { wake_at: None, seen_wake_gen: 0 });
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![true]);
    let before = run(&j, &parent).await;

    let child = key("a", "c");
    let (cl, _) = j.acquire_lease(&child, "n/a/2", TTL).await.unwrap().expect("claim the child");
    assert!(matches!(j.request_cancel(&child, CancelKind::Graceful).await.unwrap(), CancelRequest::Requested));
    let mut w = continue_write(&child, &cl, 1, continuation(&child, "c", 1));
    w.family = true;
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![true]);
    let next = run(&j, &key("a", "c-can-1")).await;
    assert_eq!(next.parent_run_id.as_deref(), Some("p"), "the chain keeps its parent");
    assert!(next.graceful_cancel_at.is_some(), "the cancellation asked of the ended run carries over: {next:?}");
    let listed = j.children(&parent).await.unwrap();
    assert!(listed.iter().any(|c| c.key.run_id == "c-can-1" && c.parent_close == ParentClose::Terminate && c.parent_op == 0), "{listed:?}");
    // The continued child woke its parent, which sees the chain go on.
    assert!(run(&j, &parent).await.wake_gen > before.wake_gen);
});
