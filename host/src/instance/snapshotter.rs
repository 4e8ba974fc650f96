//! The snapshotter: when a suspended run's journal has grown past the
//! threshold since its last snapshot, writes a compacted history prefix so
//! that loading the run reads one row instead of thousands.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::journal::{self, RunKey, SharedJournal};

/// The handle engines use to ask for snapshots.
pub struct Snapshotter {
    threshold: u64,
    tx: mpsc::UnboundedSender<RunKey>,
}

impl Snapshotter {
    /// A snapshotter with its queue; the receiver is run by [`run`].
    pub fn new(threshold: u64) -> (Snapshotter, mpsc::UnboundedReceiver<RunKey>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Snapshotter { threshold: threshold.max(1), tx }, rx)
    }

    /// Queues a snapshot of the run if `since_snapshot` entries passed the
    /// threshold.
    pub fn consider(&self, key: &RunKey, since_snapshot: i64) {
        if since_snapshot >= self.threshold as i64 {
            let _ = self.tx.send(key.clone());
        }
    }
}

/// Writes the snapshots asked for until the instance stops.
pub async fn run(journal: SharedJournal, instance: Arc<str>, mut rx: mpsc::UnboundedReceiver<RunKey>) {
    while let Some(first) = rx.recv().await {
        let mut keys = HashSet::from([first]);
        while let Ok(k) = rx.try_recv() {
            keys.insert(k);
        }
        for key in keys {
            match snapshot(&journal, &key).await {
                Ok(upto) => tracing::info!(instance = %instance, run_id = %key.run_id, upto_seq = upto, "snapshot written"),
                Err(e) => tracing::warn!(instance = %instance, run_id = %key.run_id, error = %e, "snapshot failed"),
            }
        }
    }
}

async fn snapshot(journal: &SharedJournal, key: &RunKey) -> Result<i64, String> {
    let history = journal::load_history(journal, key).await.map_err(|e| e.to_string())?;
    let snapshot = journal::make_snapshot(&history.events).map_err(|e| e.to_string())?;
    journal.put_snapshot(key, &snapshot).await.map_err(|e| e.to_string())?;
    Ok(snapshot.upto_seq)
}
