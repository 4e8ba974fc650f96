//! The check every crash and replay scenario ends with: the journal holds
//! each entry exactly once.

use std::collections::HashMap;

use crate::ShownEvent;

/// Asserts that `events` (a run's whole journal) has every `seq` from 1
/// without gaps or repeats, every `(type, op)` exactly once, and exactly
/// one `run_started`.
pub fn assert_exactly_once(events: &[ShownEvent]) {
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1, "journal has a gap or a repeat: {events:#?}");
    }
    let mut seen: HashMap<(&str, i64), usize> = HashMap::new();
    for e in events {
        if let Some(op) = e.op() {
            *seen.entry((e.kind(), op)).or_default() += 1;
        }
    }
    for ((kind, op), n) in seen {
        assert_eq!(n, 1, "{kind} for op {op} recorded {n} times: {events:#?}");
    }
    let starts = events.iter().filter(|e| e.kind() == "run_started").count();
    assert_eq!(starts, 1, "run_started recorded {starts} times");
}
