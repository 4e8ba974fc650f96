//! Activity workers' announcements and the tasks waiting for one: live and
//! expired announcements, the schedule-to-start deadline, failing a task no
//! attempt of which started (and never one that started), and the open
//! calls `show` lists.

use super::*;

fn timed_task(op: u32, name: &str, start_within_ms: u64) -> NewActivityTask {
    let options = ActivityOptions { schedule_to_start_timeout_ms: Some(start_within_ms), ..Default::default() };
    NewActivityTask::new(op, name, json!({"op": op}), options)
}

journal_suite!(workers_announce_renew_expire_and_withdraw, |j: SharedJournal, time: TestClock| async move {
    let (acts, queues) = (vec!["a".to_string(), "b".to_string()], vec!["default".to_string()]);
    j.announce_worker("i1", "w1", &acts, &queues, Duration::from_millis(500)).await.unwrap();
    j.announce_worker("i1", "w2", &["c".to_string()], &["slow".to_string()], Duration::from_secs(60)).await.unwrap();
    j.announce_worker("i2", "w3", &["z".to_string()], &queues, Duration::from_secs(60)).await.unwrap();
    let live = j.live_workers("i1").await.unwrap();
    assert_eq!(live.iter().map(|w| w.owner.as_str()).collect::<Vec<_>>(), ["w1", "w2"]);
    assert!(served(&live, "a", "default") && served(&live, "c", "slow"));
    assert!(!served(&live, "c", "default") && !served(&live, "z", "default"), "queue and instance matter");

    time.advance(Duration::from_millis(700)).await;
    let live = j.live_workers("i1").await.unwrap();
    assert_eq!(live.iter().map(|w| w.owner.as_str()).collect::<Vec<_>>(), ["w2"], "w1 expired");
    j.announce_worker("i1", "w1", &acts, &queues, Duration::from_secs(60)).await.unwrap();
    assert_eq!(j.live_workers("i1").await.unwrap().len(), 2, "renewed");
    j.withdraw_worker("i1", "w2").await.unwrap();
    assert_eq!(j.live_workers("i1").await.unwrap().iter().map(|w| w.owner.as_str()).collect::<Vec<_>>(), ["w1"]);
});

journal_suite!(a_task_past_its_start_deadline_fails_once_unless_it_started, |j: SharedJournal, time: TestClock| async move {
    let k = key("i1", "late");
    let lease = leased(&j, &k, "n/i1/1", TTL).await;
    let mut w = RunWrite::new(k.clone(), lease);
    w.tasks = vec![timed_task(1, "nobody", 1_000), timed_task(2, "act", 1_000), task(3, "act", None, 0)];
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![true]);
    assert!(j.past_start_deadline("i1", 10).await.unwrap().is_empty(), "not yet");
    let open = j.open_tasks(&k).await.unwrap();
    assert_eq!(open.iter().map(|t| (t.op, t.name.as_str(), t.state.as_str())).collect::<Vec<_>>(),
        [(1, "nobody", "pending"), (2, "act", "pending"), (3, "act", "pending")]);

    // Op 2 starts before its deadline; op 1 never does.
    let claimed = j.claim_tasks("i1", &["default".into()], &["act".into()], "w", TTL, 1).await.unwrap();
    let op2 = claimed.iter().find(|t| t.op == 2).expect("op 2 first: it was written first");
    assert!(j.start_task(&k, 2, op2.claim_token).await.unwrap());
    time.advance(Duration::from_millis(1_500)).await;
    let late = j.past_start_deadline("i1", 10).await.unwrap();
    assert_eq!(late.iter().map(|t| (t.op, t.name.as_str(), t.queue.as_str())).collect::<Vec<_>>(), [(1, "nobody", "default")]);
    assert_eq!(j.long_waiting("i1", Duration::from_millis(1_000), 10).await.unwrap().iter().map(|t| t.op).collect::<Vec<_>>(), [1, 3]);

    let wake_gen = run(&j, &k).await.wake_gen;
    let failure = Failure::new(FailureKind::UnknownActivity, "no host serves it", 0);
    assert!(j.fail_unstarted(&k, 1, &failure).await.unwrap());
    assert!(!j.fail_unstarted(&k, 1, &failure).await.unwrap(), "once");
    assert!(!j.fail_unstarted(&k, 2, &failure).await.unwrap(), "an attempt started");
    assert_eq!(run(&j, &k).await.wake_gen, wake_gen + 1, "the run is woken");
    assert_eq!(j.task_outcomes(&k).await.unwrap(), [(1, TaskOutcome::Failed(failure))]);
    assert!(j.past_start_deadline("i1", 10).await.unwrap().is_empty());
    assert_eq!(j.open_tasks(&k).await.unwrap().iter().map(|t| t.op).collect::<Vec<_>>(), [2, 3]);
});
