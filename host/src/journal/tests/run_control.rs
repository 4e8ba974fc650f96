//! Run control in the journal, on both stores: a paused run is claimed by
//! nobody until it is resumed (and still receives signals); a reset moves
//! the entries after its point to the reset's history, makes the run
//! pending under a new lease token (the old holder's writes are fenced
//! out), drops later snapshots, and writes the reopened calls' tasks anew;
//! a reset planned on a journal that moved since changes nothing.

use super::*;

fn plan(to_seq: i64, token: i64, last: i64, reopened: Vec<NewActivityTask>) -> ResetPlan {
    ResetPlan {
        kind: "retry",
        to_seq,
        reason: Some("test".into()),
        previous_state: RunState::Failed,
        expected_token: token,
        expected_last_seq: last,
        keep_paused: false,
        dropped_ops: Vec::new(),
        reopened,
    }
}

journal_suite!(a_paused_run_is_claimed_by_nobody_until_resumed, |j: SharedJournal, _: TestClock| async move {
    let a = key("i1", "run-a");
    j.create_run(&new_run(&a), None).await.unwrap();
    let paused = j.pause_run(&a).await.unwrap().expect("paused");
    assert!(paused.paused_at.is_some());
    assert!(j.pause_run(&a).await.unwrap().is_none(), "paused twice");
    assert!(j.find_ready_runs("i1", Utc::now() + chrono::Duration::seconds(1), 10).await.unwrap().is_empty());
    assert!(j.claim_runs("i1", &["n/i1/1".into()], &[], TTL).await.unwrap().is_empty(), "a paused run was claimed");
    // A signal still arrives and waits.
    j.send_signal(&a, "go", &json!(1), None).await.unwrap();
    assert_eq!(j.inbox(&a).await.unwrap().len(), 1);
    assert!(j.claim_runs("i1", &["n/i1/1".into()], &[], TTL).await.unwrap().is_empty());
    let resumed = j.resume_run(&a).await.unwrap().expect("resumed");
    assert_eq!(resumed.paused_at, None);
    assert!(j.resume_run(&a).await.unwrap().is_none(), "resumed twice");
    let claimed = j.claim_runs("i1", &["n/i1/1".into()], &[], TTL).await.unwrap();
    assert_eq!(claimed.len(), 1);
    // A final run is neither paused nor resumed.
    let lease = claimed[0].0.clone();
    let mut w = RunWrite::new(a.clone(), lease);
    w.transition = Some(Transition::Complete { output: json!(1) });
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![true]);
    assert!(j.pause_run(&a).await.unwrap().is_none());
    assert!(j.pause_run(&key("i1", "nope")).await.unwrap().is_none());

    // The engine holding a run learns of its pause at its lease renewal.
    let b = key("i1", "run-b");
    let lease = leased(&j, &b, "n/i1/2", TTL).await;
    j.pause_run(&b).await.unwrap().expect("paused while leased");
    let renewed = j.renew_leases(&[(b.clone(), lease)], TTL).await.unwrap();
    assert_eq!(renewed, [Renewal::Renewed { cancel_requested: false, graceful_cancel: false, paused: true }]);
});

journal_suite!(a_reset_supersedes_later_entries_and_fences_the_old_lease, |j: SharedJournal, _: TestClock| async move {
    let a = key("i1", "run-a");
    let lease = leased(&j, &a, "n/i1/1", TTL).await;
    let call = task(0, "act", None, 0);
    let mut w = RunWrite::new(a.clone(), lease.clone());
    w.events.push((1, EventBody::RunStarted { module_hash: "hash".into() }));
    w.events.push((2, EventBody::ActivityScheduled { op: 0, name: "act".into(), input: call.input.clone(), options: call.options.clone(), eager: false }));
    w.tasks.push(call.clone());
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![true]);
    // The call fails for good; the run fails.
    let claimed = j.claim_tasks("i1", &["default".into()], &["act".into()], "w", TTL, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let failure = Failure::new(FailureKind::ActivityFailed, "boom", 1);
    assert!(j.complete_task(&a, 0, claimed[0].claim_token, &TaskOutcome::Failed(failure.clone())).await.unwrap());
    let mut w = RunWrite::new(a.clone(), lease.clone());
    w.events.push((3, EventBody::ActivityFailed { op: 0, failure }));
    w.events.push((4, clock(7)));
    w.events.push((5, EventBody::RunFailed { error: json!({"code": "boom", "message": "boom"}) }));
    w.transition = Some(Transition::Fail { error: json!({"code": "boom", "message": "boom"}) });
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![true]);
    let all = j.load_events(&a).await.unwrap();
    j.put_snapshot(&a, &crate::journal::make_snapshot(&all[..4]).unwrap()).await.unwrap();
    let failed = run(&j, &a).await;
    assert_eq!(failed.state, RunState::Failed);

    // A plan made on another journal end, or another token, changes nothing.
    assert_eq!(j.reset_run(&a, &plan(2, failed.lease_token, 4, vec![call.clone()])).await.unwrap(), None);
    assert_eq!(j.reset_run(&a, &plan(2, failed.lease_token + 1, 5, vec![call.clone()])).await.unwrap(), None);
    assert_eq!(j.load_events(&a).await.unwrap().len(), 5);

    assert_eq!(j.reset_run(&a, &plan(2, failed.lease_token, 5, vec![call.clone()])).await.unwrap(), Some(1));
    let seqs: Vec<i64> = j.load_events(&a).await.unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2]);
    let resets = j.resets(&a).await.unwrap();
    assert_eq!(resets.len(), 1);
    assert_eq!((resets[0].reset_id, resets[0].kind.as_str(), resets[0].to_seq), (1, "retry", 2));
    assert_eq!((resets[0].reason.as_deref(), resets[0].previous_state.as_str()), (Some("test"), "failed"));
    let superseded: Vec<i64> = resets[0].superseded.iter().map(|e| e.seq).collect();
    assert_eq!(superseded, [3, 4, 5]);
    assert!(matches!(resets[0].superseded[2].body, EventBody::RunFailed { .. }));
    assert_eq!(j.get_snapshot(&a).await.unwrap(), None, "a snapshot past the point survived");
    // A snapshot of the old entries written after the reset (a snapshotter
    // racing it) is not written: the journal no longer holds its last entry.
    j.put_snapshot(&a, &crate::journal::make_snapshot(&all[..4]).unwrap()).await.unwrap();
    let h = crate::journal::load_history(&j, &a).await.unwrap();
    assert_eq!((h.snapshot_upto, h.events.len()), (0, 2));
    assert_eq!(j.get_snapshot(&a).await.unwrap(), None);

    let r = run(&j, &a).await;
    assert_eq!((r.state, r.output.as_ref(), r.error.as_ref(), r.lease_owner.as_deref()), (RunState::Pending, None, None, None));
    assert_eq!(r.lease_token, failed.lease_token + 1);
    // The old holder is fenced out.
    let mut w = RunWrite::new(a.clone(), lease.clone());
    w.events.push((3, clock(9)));
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![false]);
    // The call is a new task: no outcome, its first attempt again.
    assert!(j.task_outcomes(&a).await.unwrap().is_empty());
    let again = j.claim_tasks("i1", &["default".into()], &["act".into()], "w", TTL, 10).await.unwrap();
    assert_eq!((again.len(), again[0].attempt), (1, 1));
    // The run is due: a dispatcher takes it, with a newer token.
    let claimed = j.claim_runs("i1", &["n/i1/2".into()], &[], TTL).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(claimed[0].0.token > failed.lease_token);

    // A second reset is numbered after the first.
    let now = run(&j, &a).await;
    let mut second = plan(1, now.lease_token, 2, Vec::new());
    second.kind = "reset";
    second.previous_state = now.state;
    second.dropped_ops = vec![0];
    assert_eq!(j.reset_run(&a, &second).await.unwrap(), Some(2));
    assert_eq!(j.resets(&a).await.unwrap()[1].superseded.len(), 1);
    assert!(j.claim_tasks("i1", &["default".into()], &["act".into()], "w", TTL, 10).await.unwrap().is_empty(), "a dropped call kept its task");
    // The new path's call of the same operation replaces the superseded
    // task, with a claim token past every earlier claim's.
    let (lease, _) = j.claim_runs("i1", &["n/i1/3".into()], &[], TTL).await.unwrap().pop().expect("due after the reset");
    let mut w = RunWrite::new(a.clone(), lease);
    w.events.push((2, EventBody::ActivityScheduled { op: 0, name: "other".into(), input: json!({}), options: ActivityOptions::default(), eager: false }));
    w.tasks.push(NewActivityTask::new(0, "other", json!({}), ActivityOptions::default()));
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![true]);
    let new = j.claim_tasks("i1", &["default".into()], &["other".into()], "w", TTL, 10).await.unwrap();
    assert_eq!((new.len(), new[0].attempt), (1, 1));
    assert!(new[0].claim_token > again[0].claim_token, "{} <= {}", new[0].claim_token, again[0].claim_token);
    // A worker still holding the superseded claim completes nothing.
    assert!(!j.complete_task(&a, 0, again[0].claim_token, &TaskOutcome::Completed { output: json!(1), attempts: 1 }).await.unwrap());
});
