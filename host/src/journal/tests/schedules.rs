//! The schedules table: create once per name, list and read back, the due
//! ones and the next tick, the compare-and-set that moves a schedule past
//! a tick (one winner), pause and resume, redefine and delete; instances
//! are isolated.

use super::*;

fn schedule(instance: &str, name: &str, next_ms: i64) -> ScheduleRow {
    ScheduleRow {
        instance: instance.into(),
        name: name.into(),
        workflow: "wf".into(),
        input: json!({"n": 1}),
        cron: Some("*/5 * * * * *".into()),
        time_zone: "Europe/Paris".into(),
        at_ms: None,
        overlap: "skip".into(),
        catch_up_ms: 60_000,
        paused: false,
        next_fire_ms: Some(next_ms),
        last_run_id: None,
        fired: 0,
        skipped: 0,
        origin: ORIGIN_API.into(),
    }
}

journal_suite!(schedules_fire_once_per_tick_by_compare_and_set, |j: SharedJournal, _: TestClock| async move {
    let a = schedule("i1", "a", 1_000);
    assert!(j.create_schedule(&a).await.unwrap());
    assert!(!j.create_schedule(&schedule("i1", "a", 5)).await.unwrap(), "a name is taken once");
    assert!(j.create_schedule(&schedule("i1", "b", 3_000)).await.unwrap());
    assert!(j.create_schedule(&schedule("i2", "a", 500)).await.unwrap());
    assert_eq!(j.get_schedule("i1", "a").await.unwrap(), Some(a.clone()));
    assert_eq!(j.list_schedules("i1").await.unwrap().iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(j.next_schedule_tick("i1").await.unwrap(), Some(1_000));
    assert_eq!(j.due_schedules("i1", 2_000, 10).await.unwrap().iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["a"]);

    // Two hosts handle tick 1000: one compare-and-set wins.
    let step = Advance { from_ms: 1_000, to_ms: Some(6_000), run_id: Some("a@t1"), skipped: 2 };
    assert!(j.advance_schedule("i1", "a", &step).await.unwrap());
    assert!(!j.advance_schedule("i1", "a", &step).await.unwrap());
    let s = j.get_schedule("i1", "a").await.unwrap().unwrap();
    assert_eq!((s.next_fire_ms, s.fired, s.skipped, s.last_run_id.as_deref()), (Some(6_000), 1, 2, Some("a@t1")));
    // A skipped tick keeps the last run.
    let skip = Advance { from_ms: 6_000, to_ms: None, run_id: None, skipped: 1 };
    assert!(j.advance_schedule("i1", "a", &skip).await.unwrap());
    let s = j.get_schedule("i1", "a").await.unwrap().unwrap();
    assert_eq!((s.next_fire_ms, s.fired, s.skipped, s.last_run_id.as_deref()), (None, 1, 3, Some("a@t1")));
    assert_eq!(j.next_schedule_tick("i1").await.unwrap(), Some(3_000));

    // Paused: not due, and no tick moves it; resumed at a new tick.
    assert!(j.set_schedule_paused("i1", "b", true, None).await.unwrap());
    assert!(j.due_schedules("i1", 10_000, 10).await.unwrap().is_empty());
    assert_eq!(j.next_schedule_tick("i1").await.unwrap(), None);
    let b_step = Advance { from_ms: 3_000, to_ms: Some(4_000), run_id: None, skipped: 0 };
    assert!(!j.advance_schedule("i1", "b", &b_step).await.unwrap());
    assert!(j.set_schedule_paused("i1", "b", false, Some(9_000)).await.unwrap());
    assert_eq!(j.next_schedule_tick("i1").await.unwrap(), Some(9_000));
    assert!(!j.set_schedule_paused("i1", "nope", true, None).await.unwrap());

    // Redefined: the counters stay.
    let mut changed = schedule("i1", "a", 20_000);
    changed.cron = Some("0 * * * *".into());
    changed.input = json!(null);
    assert!(j.redefine_schedule(&changed).await.unwrap());
    let s = j.get_schedule("i1", "a").await.unwrap().unwrap();
    assert_eq!((s.cron.as_deref(), s.input.clone(), s.next_fire_ms, s.fired), (Some("0 * * * *"), json!(null), Some(20_000), 1));

    assert!(j.delete_schedule("i1", "a").await.unwrap());
    assert!(!j.delete_schedule("i1", "a").await.unwrap());
    assert_eq!(j.get_schedule("i1", "a").await.unwrap(), None);
    assert_eq!(j.list_schedules("i2").await.unwrap().len(), 1, "the other instance's schedule stays");
});

journal_suite!(a_schedule_change_wakes_the_instance, |j: SharedJournal, _: TestClock| async move {
    let mut wakes = j.listen("i1").await.unwrap();
    assert!(j.create_schedule(&schedule("i1", "a", 1_000)).await.unwrap());
    let wake = next_wake(&mut wakes).await.unwrap();
    assert_eq!((wake.instance.as_str(), wake.kind), ("i1", WakeKind::Schedule));
});
