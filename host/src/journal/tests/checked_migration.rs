//! `migrate_checked_runs`: a compare-and-set per run on the history a
//! replay check saw, so no run is moved to a new version unchecked.

use super::*;

/// Creates a run, commits `events` clock entries under a fresh lease and,
/// with `transition`, ends the attempt with it.
async fn recorded(j: &SharedJournal, k: &RunKey, events: i64, transition: Option<Transition>) -> Lease {
    let lease = leased(j, k, "n/a/1", TTL).await;
    let mut w = RunWrite::new(k.clone(), lease.clone());
    for seq in 1..=events {
        w.events.push((seq, clock(seq as u64)));
    }
    w.transition = transition;
    assert_eq!(j.commit(&[w]).await.unwrap(), [true]);
    lease
}

fn checked(run_id: &str, last_seq: i64) -> CheckedRun {
    CheckedRun { run_id: run_id.into(), last_seq }
}

fn suspend() -> Option<Transition> {
    Some(Transition::Suspend { wake_at: None, seen_wake_gen: 0 })
}

journal_suite!(checked_migration_is_a_compare_and_set_per_run, |j: SharedJournal, _: TestClock| async move {
    let (quiet, grown, busy, done) = (key("a", "quiet"), key("a", "grown"), key("a", "busy"), key("a", "done"));
    recorded(&j, &quiet, 2, suspend()).await;
    recorded(&j, &grown, 2, suspend()).await;
    recorded(&j, &busy, 1, None).await;
    recorded(&j, &done, 1, Some(Transition::Complete { output: json!(1) })).await;

    let runs = [checked("quiet", 2), checked("grown", 1), checked("busy", 1), checked("done", 1), checked("missing", 0)];
    let got = j.migrate_checked_runs("a", "wf", &runs, "h2").await.unwrap();
    use MigrationOutcome::*;
    assert_eq!(got, [Migrated, HistoryGrew { last_seq: 2 }, Leased, Gone, Gone]);
    let hashes = |j: SharedJournal| async move {
        let mut out = Vec::new();
        for id in ["quiet", "grown", "busy", "done"] {
            out.push(run(&j, &key("a", id)).await.module_hash);
        }
        out
    };
    assert_eq!(hashes(j.clone()).await, ["h2", "hash", "hash", "hash"], "only the unchanged, unleased run moved");

    // Another workflow's run is never moved, whatever its history.
    assert_eq!(j.migrate_checked_runs("a", "other", &[checked("grown", 2)], "h2").await.unwrap(), [Gone]);
    // Checked again on the history it has now, the grown run moves.
    assert_eq!(j.migrate_checked_runs("a", "wf", &[checked("grown", 2)], "h2").await.unwrap(), [Migrated]);
    assert_eq!(run(&j, &grown).await.module_hash, "h2");
});

journal_suite!(checked_migration_fences_off_an_expired_lease_and_wakes_a_parked_run, |j: SharedJournal, time: TestClock| async move {
    let (orphan, parked) = (key("a", "orphan"), key("a", "parked"));
    let stale = leased(&j, &orphan, "n/a/1", Duration::from_millis(100)).await;
    let mut w = RunWrite::new(orphan.clone(), stale.clone());
    w.events.push((1, clock(1)));
    assert_eq!(j.commit(&[w]).await.unwrap(), [true]);
    let park = Transition::Park { error: crate::RunError::new("module_version_unknown", "gone").into_value(), seen_wake_gen: 0 };
    recorded(&j, &parked, 1, Some(park)).await;
    time.advance(Duration::from_millis(200)).await;

    let got = j.migrate_checked_runs("a", "wf", &[checked("orphan", 1), checked("parked", 1)], "h2").await.unwrap();
    assert_eq!(got, [MigrationOutcome::Migrated, MigrationOutcome::Migrated]);
    // The holder of the expired lease can no longer record on the old version.
    let mut late = RunWrite::new(orphan.clone(), stale);
    late.events.push((2, clock(2)));
    assert_eq!(j.commit(&[late]).await.unwrap(), [false]);
    assert_eq!(j.load_events(&orphan).await.unwrap().len(), 1);
    // Both are due for a host, on the new version.
    let mut ready = j.find_ready_runs("a", Utc::now() + chrono::Duration::seconds(1), 10).await.unwrap();
    ready.sort();
    assert_eq!(ready, [orphan.clone(), parked.clone()]);
    let (_, record) = j.acquire_lease(&orphan, "n/a/2", TTL).await.unwrap().expect("the orphan can be leased again");
    assert_eq!(record.module_hash, "h2");
});
