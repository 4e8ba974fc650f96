//! Run attributes and the listing's filters, on both stores: a write's
//! `attribute_set` events store the attributes in the same commit (a key
//! set again gets the new value, within a write and across writes; a
//! write whose fence fails stores none), and `query_runs` filters by
//! attributes (AND), by parent, and by them together with state,
//! workflow and creation time, a page at a time after a cursor.

use super::*;

fn set(k: &str, v: &str) -> EventBody {
    EventBody::AttributeSet { key: k.into(), value: v.into() }
}

fn attrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Commits `events` (numbered from `first_seq`) to the leased run, with
/// `transition`; whether the fence held.
async fn write(j: &SharedJournal, k: &RunKey, lease: &Lease, first_seq: i64, events: Vec<EventBody>, transition: Option<Transition>) -> bool {
    let mut w = RunWrite::new(k.clone(), lease.clone());
    w.events = events.into_iter().enumerate().map(|(i, e)| (first_seq + i as i64, e)).collect();
    w.transition = transition;
    j.commit(&[w]).await.unwrap()[0]
}

journal_suite!(attributes_are_stored_with_their_events_and_filter_listings, |j: SharedJournal, time: TestClock| async move {
    // Six runs of i1, a moment apart: customers c-1 and c-2, tiers, two
    // workflows; r6 is a child of r1. A run of i2 with the same attribute.
    let runs = [
        ("r1", "wf", "c-1", "gold"),
        ("r2", "wf", "c-2", "gold"),
        ("r3", "wf2", "c-1", "silver"),
        ("r4", "wf", "c-1", "gold"),
        ("r5", "wf2", "c-2", "silver"),
    ];
    let mut leases = Vec::new();
    for (id, wf, customer, tier) in runs {
        let k = key("i1", id);
        let lease = j.create_run(&NewRun { workflow: wf.into(), ..new_run(&k) }, Some(("n/i1/1", TTL))).await.unwrap().1.unwrap();
        // One write sets the customer twice (the last value counts).
        let events = vec![set("customer", "nobody"), set("customer", customer), set("tier", tier)];
        // r1 (a parent, below) and r4 go on running.
        let done = (!matches!(id, "r1" | "r4")).then(|| Transition::Complete { output: json!(1) });
        assert!(write(&j, &k, &lease, 1, events, done).await);
        leases.push((k, lease));
        time.advance(Duration::from_millis(5)).await;
    }
    let parent = key("i1", "r1");
    let child = key("i1", "r6");
    let mut w = RunWrite::new(parent.clone(), leases[0].1.clone());
    w.family = true;
    w.events.push((4, EventBody::ChildStarted { op: 0, workflow: "wf".into(), run_id: "r6".into(), input: json!({}), options: ChildOptions::default() }));
    w.children.push(NewChild { run: new_run(&child), parent_op: 0, parent_close: ParentClose::Abandon });
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![true]);
    assert!(write(&j, &parent, &leases[0].1, 5, vec![], Some(Transition::Complete { output: json!(1) })).await);
    let i2 = key("i2", "r1");
    let l2 = leased(&j, &i2, "n/i2/1", TTL).await;
    assert!(write(&j, &i2, &l2, 1, vec![set("customer", "c-1")], None).await);

    let ids = |runs: Vec<RunRecord>| runs.into_iter().map(|r| r.key.run_id).collect::<Vec<_>>();
    let q = |pairs: &[(&str, &str)]| RunQuery { attributes: attrs(pairs), limit: 10, ..RunQuery::default() };
    let got = j.attributes("i1", &["r1".into(), "r4".into(), "nope".into()]).await.unwrap();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got["r1"].get("customer").map(String::as_str), Some("c-1"), "the last value a write sets counts");
    assert_eq!(got["r4"].get("tier").map(String::as_str), Some("gold"));

    // By one attribute, by two (AND), with state, workflow, time, parent.
    assert_eq!(ids(j.query_runs("i1", &q(&[("customer", "c-1")])).await.unwrap()), ["r4", "r3", "r1"]);
    assert_eq!(ids(j.query_runs("i1", &q(&[("customer", "c-1"), ("tier", "gold")])).await.unwrap()), ["r4", "r1"]);
    assert_eq!(ids(j.query_runs("i1", &q(&[("tier", "gold"), ("customer", "c-1")])).await.unwrap()), ["r4", "r1"]);
    assert!(j.query_runs("i1", &q(&[("customer", "nobody")])).await.unwrap().is_empty(), "a replaced value is gone");
    assert!(j.query_runs("i1", &q(&[("customer", "c-1"), ("tier", "bronze")])).await.unwrap().is_empty());
    let completed_wf = RunQuery { state: Some(RunState::Completed), workflow: Some("wf".into()), ..q(&[("customer", "c-1")]) };
    assert_eq!(ids(j.query_runs("i1", &completed_wf).await.unwrap()), ["r1"]);
    let r3 = run(&j, &key("i1", "r3")).await.created_at;
    let since = RunQuery { created_since: Some(r3), ..q(&[("customer", "c-1")]) };
    assert_eq!(ids(j.query_runs("i1", &since).await.unwrap()), ["r4", "r3"]);
    let until = RunQuery { created_until: Some(r3), ..q(&[("tier", "gold")]) };
    assert_eq!(ids(j.query_runs("i1", &until).await.unwrap()), ["r2", "r1"]);
    let children = RunQuery { parent: Some("r1".into()), ..q(&[]) };
    assert_eq!(ids(j.query_runs("i1", &children).await.unwrap()), ["r6"]);
    assert!(j.query_runs("i1", &RunQuery { parent: Some("r2".into()), ..q(&[]) }).await.unwrap().is_empty());
    assert!(j.query_runs("i1", &RunQuery { parent: Some("r1".into()), ..q(&[("customer", "c-1")]) }).await.unwrap().is_empty());
    assert_eq!(ids(j.query_runs("i2", &q(&[("customer", "c-1")])).await.unwrap()), ["r1"], "by instance");

    // Set again in a later write: the new value replaces the old one.
    let (r4, l4) = &leases[3];
    assert!(write(&j, r4, l4, 4, vec![set("customer", "c-2")], None).await);
    assert_eq!(ids(j.query_runs("i1", &q(&[("customer", "c-1")])).await.unwrap()), ["r3", "r1"]);
    assert_eq!(ids(j.query_runs("i1", &q(&[("customer", "c-2")])).await.unwrap()), ["r5", "r4", "r2"]);
    // A write whose fence fails stores no attribute.
    let stale = Lease { owner: l4.owner.clone(), token: l4.token + 7 };
    assert!(!write(&j, r4, &stale, 5, vec![set("region", "eu")], None).await);
    assert!(j.query_runs("i1", &q(&[("region", "eu")])).await.unwrap().is_empty());

    // Pages of one through an attribute's runs, each after the last of
    // the page before: every run once, in order.
    let mut paged = Vec::new();
    let mut query = RunQuery { limit: 1, ..q(&[("customer", "c-2")]) };
    while let Some(last) = j.query_runs("i1", &query).await.unwrap().pop() {
        query.before = Some((last.created_at, last.key.run_id.clone()));
        paged.push(last.key.run_id);
        assert!(paged.len() <= 3, "the pages go on: {paged:?}");
    }
    assert_eq!(paged, ["r5", "r4", "r2"]);
});
