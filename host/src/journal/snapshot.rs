//! Snapshots: a run's journal prefix compacted into one row, so loading a
//! long run reads one row and the entries after it. A snapshot is used only
//! if its digest matches and it holds exactly the entries 1 to `upto_seq`;
//! otherwise the full journal is read. Replay then checks every command of
//! the loaded history against the module as usual.

use sha2::{Digest, Sha256};

use super::{Event, JournalError, RunKey, SharedJournal, Snapshot};

/// A run's loaded history.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// Every entry, in order.
    pub events: Vec<Event>,
    /// The last `seq` covered by the snapshot used (0: none).
    pub snapshot_upto: i64,
}

/// Builds a snapshot of `events` (entries 1 to n, in order).
pub fn make(events: &[Event]) -> Result<Snapshot, serde_json::Error> {
    let body = serde_json::to_string(events)?;
    let digest = hex::encode(Sha256::digest(body.as_bytes()));
    Ok(Snapshot { upto_seq: events.last().map(|e| e.seq).unwrap_or(0), digest, body })
}

fn decode(snapshot: &Snapshot) -> Option<Vec<Event>> {
    if hex::encode(Sha256::digest(snapshot.body.as_bytes())) != snapshot.digest {
        return None;
    }
    let events: Vec<Event> = serde_json::from_str(&snapshot.body).ok()?;
    let contiguous = events.iter().enumerate().all(|(i, e)| e.seq == i as i64 + 1);
    (contiguous && events.last().map(|e| e.seq).unwrap_or(0) == snapshot.upto_seq).then_some(events)
}

/// Loads a run's history, through its snapshot when it has a sound one.
pub async fn load_history(journal: &SharedJournal, key: &RunKey) -> Result<History, JournalError> {
    if let Some(snapshot) = journal.get_snapshot(key).await? {
        match decode(&snapshot) {
            Some(mut events) => {
                events.extend(journal.load_events_after(key, snapshot.upto_seq).await?);
                return Ok(History { events, snapshot_upto: snapshot.upto_seq });
            }
            None => tracing::warn!(instance = %key.instance, run_id = %key.run_id, "snapshot does not verify; reading the full journal"),
        }
    }
    Ok(History { events: journal.load_events(key).await?, snapshot_upto: 0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::EventBody;

    fn ev(seq: i64) -> Event {
        Event { seq, body: EventBody::RandomDrawn { value: seq as u64 }, recorded_at: chrono::Utc::now() }
    }

    #[test]
    fn a_tampered_or_gappy_snapshot_is_refused() {
        let s = make(&[ev(1), ev(2)]).unwrap();
        assert_eq!(decode(&s).map(|e| e.len()), Some(2));
        let mut bad = s.clone();
        bad.body = bad.body.replace(r#""value":2"#, r#""value":3"#);
        assert!(decode(&bad).is_none());
        let gappy = make(&[ev(1), ev(3)]).unwrap();
        assert!(decode(&gappy).is_none());
    }
}
