//! Child runs in the journal, on both stores: a parent's write inserts
//! its child with the `child_started` it commits (once: a replay's
//! second insert changes nothing), a child's end wakes its parent in the
//! same commit, and a parent's end applies its children's parent-close
//! policy in the same commit.

use super::*;

fn child(parent: &RunKey, run_id: &str, op: u32, close: ParentClose) -> NewChild {
    NewChild { run: NewRun { workflow: "child".into(), ..new_run(&key(&parent.instance, run_id)) }, parent_op: op, parent_close: close }
}

fn started(op: u32, run_id: &str) -> EventBody {
    EventBody::ChildStarted { op, workflow: "child".into(), run_id: run_id.into(), input: json!({}), options: ChildOptions::default() }
}

/// A parent (leased) that commits the start of children `(run id,
/// policy)`; its lease.
async fn parent_with_children(j: &SharedJournal, parent: &RunKey, children: &[(&str, ParentClose)]) -> Lease {
    let lease = leased(j, parent, "n/a/1", TTL).await;
    let mut w = RunWrite::new(parent.clone(), lease.clone());
    w.family = true;
    for (op, (id, close)) in children.iter().enumerate() {
        w.events.push((op as i64 + 1, started(op as u32, id)));
        w.children.push(child(parent, id, op as u32, *close));
    }
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![true]);
    lease
}

journal_suite!(a_child_run_is_inserted_with_its_start_and_only_once, |j: SharedJournal, _: TestClock| async move {
    let parent = key("a", "p");
    let lease = parent_with_children(&j, &parent, &[("p-child-0", ParentClose::Abandon)]).await;
    let c = run(&j, &key("a", "p-child-0")).await;
    assert_eq!((c.state, c.parent_run_id.as_deref(), c.workflow.as_str()), (RunState::Pending, Some("p"), "child"));
    assert!(c.wake_at.is_some(), "the child is due");
    let listed = j.children(&parent).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].key.run_id.as_str(), listed[0].parent_op, listed[0].parent_close), ("p-child-0", 0, ParentClose::Abandon));

    // A write whose fence fails inserts no child.
    let stale = Lease { owner: lease.owner.clone(), token: lease.token + 5 };
    let mut w = RunWrite::new(parent.clone(), stale);
    w.events.push((2, started(1, "p-child-1")));
    w.children.push(child(&parent, "p-child-1", 1, ParentClose::Cancel));
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![false]);
    assert!(j.get_run(&key("a", "p-child-1")).await.unwrap().is_none(), "a fenced-out write created a child");

    // A second insert of the same child (a replay) keeps the first.
    let mut w = RunWrite::new(parent.clone(), lease.clone());
    w.events.push((2, clock(1)));
    w.children.push(NewChild { run: NewRun { input: json!("other"), ..child(&parent, "p-child-0", 0, ParentClose::Cancel).run }, parent_op: 0, parent_close: ParentClose::Cancel });
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![true]);
    let again = run(&j, &key("a", "p-child-0")).await;
    assert_eq!(again.input, c.input);
    assert_eq!(j.children(&parent).await.unwrap()[0].parent_close, ParentClose::Abandon);
});

journal_suite!(a_childs_end_wakes_its_parent_in_the_same_commit, |j: SharedJournal, _: TestClock| async move {
    let parent = key("a", "p");
    let lease = parent_with_children(&j, &parent, &[("c", ParentClose::Cancel)]).await;
    let mut w = RunWrite::new(parent.clone(), lease);
    w.family = true;
    w.transition = Some(Transition::Suspend { wake_at: None, seen_wake_gen: 0 });
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![true]);
    let before = run(&j, &parent).await;
    assert_eq!((before.state, before.wake_at), (RunState::Suspended, None));

    let ck = key("a", "c");
    let (child_lease, _) = j.acquire_lease(&ck, "n/a/2", TTL).await.unwrap().expect("claim the child");
    let mut w = RunWrite::new(ck.clone(), child_lease);
    w.family = true;
    w.events.push((1, EventBody::RunCompleted { output: json!(7) }));
    w.transition = Some(Transition::Complete { output: json!(7) });
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![true]);
    let after = run(&j, &parent).await;
    assert_eq!(after.wake_gen, before.wake_gen + 1, "the parent was told");
    assert!(after.wake_at.is_some_and(|t| t <= Utc::now() + chrono::Duration::seconds(1)), "the parent is due: {after:?}");
});

journal_suite!(a_parents_end_closes_its_children_by_their_policy, |j: SharedJournal, _: TestClock| async move {
    let parent = key("a", "p");
    let children = [("c-cancel", ParentClose::Cancel), ("c-term", ParentClose::Terminate), ("c-keep", ParentClose::Abandon), ("c-done", ParentClose::Cancel)];
    let lease = parent_with_children(&j, &parent, &children).await;
    // One child has ended already: it is left as it is.
    let done = key("a", "c-done");
    let (dl, _) = j.acquire_lease(&done, "n/a/3", TTL).await.unwrap().expect("claim");
    let mut w = RunWrite::new(done.clone(), dl);
    w.family = true;
    w.transition = Some(Transition::Complete { output: json!(1) });
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![true]);

    // The parent is cancelled.
    let mut w = RunWrite::new(parent.clone(), lease.clone());
    w.family = true;
    w.events.push((5, EventBody::RunCancelled { reason: "test".into() }));
    w.transition = Some(Transition::Cancel { error: json!({"code": "cancelled", "message": "test"}) });
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![true]);

    let c = run(&j, &key("a", "c-cancel")).await;
    assert!(c.graceful_cancel_at.is_some() && c.cancel_requested_at.is_none(), "{c:?}");
    let t = run(&j, &key("a", "c-term")).await;
    assert!(t.cancel_requested_at.is_some() && t.graceful_cancel_at.is_none(), "{t:?}");
    let k = run(&j, &key("a", "c-keep")).await;
    assert!(k.cancel_requested_at.is_none() && k.graceful_cancel_at.is_none(), "{k:?}");
    let d = run(&j, &done).await;
    assert_eq!((d.state, d.graceful_cancel_at), (RunState::Completed, None));
});
