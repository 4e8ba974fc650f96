//! The snapshotter: when a suspended run's journal has grown past the
//! threshold since its last snapshot, writes a compacted history prefix so
//! that loading the run reads one row instead of thousands.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::journal::{self, RunKey, SharedJournal};

/// The runs to snapshot, with their workflow (for the events about them).
pub type SnapshotQueue = mpsc::UnboundedReceiver<(RunKey, String)>;

/// The handle engines use to ask for snapshots.
pub struct Snapshotter {
    threshold: u64,
    tx: mpsc::UnboundedSender<(RunKey, String)>,
}

impl Snapshotter {
    /// A snapshotter with its queue; the receiver is run by [`run`].
    pub fn new(threshold: u64) -> (Snapshotter, SnapshotQueue) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Snapshotter { threshold: threshold.max(1), tx }, rx)
    }

    /// Queues a snapshot of the run (of `workflow`) if `since_snapshot`
    /// entries passed the threshold.
    pub fn consider(&self, key: &RunKey, workflow: &str, since_snapshot: i64) {
        if since_snapshot >= self.threshold as i64 {
            let _ = self.tx.send((key.clone(), workflow.to_string()));
        }
    }
}

/// Writes the snapshots asked for until the instance stops.
pub async fn run(journal: SharedJournal, instance: Arc<str>, mut rx: SnapshotQueue) {
    while let Some((key, workflow)) = rx.recv().await {
        let mut runs = HashMap::from([(key, workflow)]);
        while let Ok((k, w)) = rx.try_recv() {
            runs.insert(k, w);
        }
        for (key, workflow) in runs {
            match snapshot(&journal, &key).await {
                Ok(upto) => tracing::info!(instance = %instance, run_id = %key.run_id, %workflow, upto_seq = upto, "snapshot written"),
                Err(e) => tracing::warn!(instance = %instance, run_id = %key.run_id, %workflow, error = %e, "snapshot failed"),
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
