//! Group commit of new runs: concurrent `start` calls hand their runs to
//! one writer, which inserts whatever has queued up in one transaction
//! ([`Journal::create_runs`](super::Journal::create_runs)). With one start
//! at a time a run is inserted at once; with many, they share commits.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, Mutex};

use super::{JournalError, Lease, NewRun, SharedJournal};

/// Most runs inserted in one transaction.
const MAX_BATCH: usize = 256;
/// Insert transactions in flight at once.
const WRITERS: usize = 2;

type Reply = oneshot::Sender<Result<Option<Lease>, JournalError>>;
type Request = (NewRun, Option<(String, Duration)>, Reply);

/// A handle to the run-creation writer; cheap to clone.
#[derive(Clone)]
pub struct CreationBatcher {
    tx: mpsc::UnboundedSender<Request>,
}

impl CreationBatcher {
    /// Starts the writer tasks on the current tokio runtime; they stop when
    /// every handle is dropped.
    pub fn start(journal: SharedJournal) -> Self {
        let (tx, rx) = mpsc::unbounded_channel::<Request>();
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..WRITERS {
            let (rx, journal) = (rx.clone(), journal.clone());
            tokio::spawn(async move {
                loop {
                    let Some(mut batch) = super::batcher::next_batch(&rx, MAX_BATCH).await else { return };
                    if batch.len() == 1 {
                        // Alone: the plain one-row insert is the cheaper statement.
                        if let Some((run, lease, reply)) = batch.pop() {
                            let result = journal.create_run(&run, lease.as_ref().map(|(o, ttl)| (o.as_str(), *ttl))).await;
                            let _ = reply.send(result);
                        }
                        continue;
                    }
                    let (runs, replies): (Vec<_>, Vec<_>) =
                        batch.into_iter().map(|(run, lease, reply)| ((run, lease), reply)).unzip();
                    match journal.create_runs(&runs).await {
                        Ok(inserted) => {
                            for (((run, lease), reply), ok) in runs.into_iter().zip(replies).zip(inserted) {
                                let result = if ok {
                                    Ok(lease.map(|(owner, _)| Lease { owner, token: 1 }))
                                } else {
                                    Err(JournalError::RunExists(run.key))
                                };
                                let _ = reply.send(result);
                            }
                        }
                        Err(e) => {
                            let e = Arc::new(e);
                            for reply in replies {
                                let _ = reply.send(Err(JournalError::BatchFailed(e.clone())));
                            }
                        }
                    }
                }
            });
        }
        Self { tx }
    }

    /// Inserts `run` (see [`Journal::create_run`](super::Journal::create_run)),
    /// sharing the transaction with whatever else is queued; returns the
    /// lease taken for `lease`'s owner, or `RunExists`.
    pub async fn create(&self, run: NewRun, lease: Option<(String, Duration)>) -> Result<Option<Lease>, JournalError> {
        let (reply, rx) = oneshot::channel();
        self.tx.send((run, lease, reply)).map_err(|_| JournalError::WriterClosed)?;
        rx.await.map_err(|_| JournalError::WriterClosed)?
    }
}
