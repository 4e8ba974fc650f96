//! Updates in the store, on both stores: a signal sent with an update's
//! idempotency key comes back from the inbox with its update id (a plain
//! signal, keyed or not, with none), is stored once however often it is
//! sent, and the `update_replied` entry a write commits is read back from
//! the run's journal (where a waiting sender finds it), with the signal
//! received beside it.

use super::*;

journal_suite!(updates_are_signals_with_an_id_and_replies_are_journaled, |j: SharedJournal, _time: TestClock| async move {
    let k = key("i1", "u1");
    let lease = leased(&j, &k, "n/i1/1", TTL).await;
    let update_key = format!("{UPDATE_KEY_PREFIX}0f0e-id");
    j.send_signal(&k, "add", &json!(1), None).await.unwrap();
    j.send_signal(&k, "add", &json!(2), Some("plain-key")).await.unwrap();
    let first = j.send_signal(&k, "add", &json!(3), Some(&update_key)).await.unwrap();
    let again = j.send_signal(&k, "add", &json!(3), Some(&update_key)).await.unwrap();
    assert!(!first.duplicate && again.duplicate && again.id == first.id, "an update is stored once: {first:?} {again:?}");
    let inbox = j.inbox(&k).await.unwrap();
    let ids: Vec<Option<&str>> = inbox.iter().map(|s| s.update_id.as_deref()).collect();
    assert_eq!(ids, [None, None, Some("0f0e-id")], "{inbox:?}");

    // The run receives the update and replies in one write.
    let mut w = RunWrite::new(k.clone(), lease.clone());
    w.events.push((1, EventBody::SignalRequested { op: 0, name: "add".into() }));
    w.events.push((2, EventBody::SignalReceived { op: 0, name: "add".into(), payload: json!(3), signal_id: first.id, update_id: Some("0f0e-id".into()) }));
    w.events.push((3, EventBody::UpdateReplied { update_id: "0f0e-id".into(), reply: Some(json!({"total": 3})), error: None }));
    w.consumed_signals.push(first.id);
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![true]);
    let events = j.events_page(&k, 0, 100).await.unwrap();
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(
        events[2].body,
        EventBody::UpdateReplied { update_id: "0f0e-id".into(), reply: Some(json!({"total": 3})), error: None }
    );
    match &events[1].body {
        EventBody::SignalReceived { update_id, .. } => assert_eq!(update_id.as_deref(), Some("0f0e-id")),
        other => panic!("not a signal receipt: {other:?}"),
    }
    // A plain receipt is stored without the field, and read back as none.
    let inbox = j.inbox(&k).await.unwrap();
    assert_eq!(inbox.len(), 2, "the update left the inbox: {inbox:?}");
    // A rejection round-trips too.
    let mut w = RunWrite::new(k.clone(), lease.clone());
    w.events.push((4, EventBody::UpdateReplied { update_id: "other".into(), reply: None, error: Some("no".into()) }));
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![true]);
    let events = j.events_page(&k, 3, 100).await.unwrap();
    assert_eq!(events[0].body, EventBody::UpdateReplied { update_id: "other".into(), reply: None, error: Some("no".into()) });
});
