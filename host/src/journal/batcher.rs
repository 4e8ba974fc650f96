//! Group commit: engines of many runs hand their [`RunWrite`]s to one
//! batcher, which commits whatever has queued up in a single transaction.
//! With one run in flight a write is committed at once (no added latency);
//! with many, they share commits, so the cost in commits per workflow falls
//! as load rises.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Mutex};

use super::{JournalError, RunWrite, SharedJournal};

/// Waits for the next request, then takes whatever else has queued up, up
/// to `max` in all; `None` once every sender is gone.
pub(super) async fn next_batch<T>(rx: &Mutex<mpsc::UnboundedReceiver<T>>, max: usize) -> Option<Vec<T>> {
    let mut rx = rx.lock().await;
    let mut batch = vec![rx.recv().await?];
    while batch.len() < max {
        match rx.try_recv() {
            Ok(item) => batch.push(item),
            Err(_) => break,
        }
    }
    Some(batch)
}

/// Tuning of the group commit.
#[derive(Debug, Clone)]
pub struct BatcherConfig {
    /// Most writes in one transaction.
    pub max_batch: usize,
    /// Transactions in flight at once.
    pub writers: usize,
}

impl Default for BatcherConfig {
    fn default() -> Self {
        Self { max_batch: 256, writers: 2 }
    }
}

type Reply = oneshot::Sender<Result<bool, JournalError>>;

/// Counters of the group commit.
#[derive(Debug, Default)]
pub struct BatcherStats {
    /// Writes committed or refused.
    pub writes: AtomicU64,
    /// Transactions they took.
    pub transactions: AtomicU64,
}

/// A handle to the group-commit writer; cheap to clone.
#[derive(Clone)]
pub struct Batcher {
    tx: mpsc::UnboundedSender<(RunWrite, Reply)>,
    stats: Arc<BatcherStats>,
}

impl Batcher {
    /// Starts the writer tasks of instance `instance` (named in their
    /// telemetry) on the current tokio runtime. They stop when every handle
    /// is dropped.
    pub fn start(instance: Arc<str>, journal: SharedJournal, config: BatcherConfig) -> Self {
        let (tx, rx) = mpsc::unbounded_channel::<(RunWrite, Reply)>();
        let rx = Arc::new(Mutex::new(rx));
        let stats = Arc::new(BatcherStats::default());
        for _ in 0..config.writers.max(1) {
            let rx = rx.clone();
            let stats = stats.clone();
            let journal = journal.clone();
            let instance = instance.clone();
            let max = config.max_batch.max(1);
            tokio::spawn(async move {
                loop {
                    let Some(batch) = next_batch(&rx, max).await else { return };
                    let (writes, replies): (Vec<RunWrite>, Vec<Reply>) = batch.into_iter().unzip();
                    stats.writes.fetch_add(writes.len() as u64, Ordering::Relaxed);
                    stats.transactions.fetch_add(1, Ordering::Relaxed);
                    match journal.commit(&writes).await {
                        Ok(applied) => {
                            for (reply, ok) in replies.into_iter().zip(applied) {
                                let _ = reply.send(Ok(ok));
                            }
                        }
                        Err(e) => {
                            tracing::warn!(instance = %instance, error = %e, writes = writes.len(), "group commit failed");
                            let e = Arc::new(e);
                            for reply in replies {
                                let _ = reply.send(Err(JournalError::BatchFailed(e.clone())));
                            }
                        }
                    }
                }
            });
        }
        Self { tx, stats }
    }

    /// Writes and transactions so far: their ratio is the batching factor.
    pub fn stats(&self) -> (u64, u64) {
        (self.stats.writes.load(Ordering::Relaxed), self.stats.transactions.load(Ordering::Relaxed))
    }

    /// Commits one run's write, sharing the transaction with whatever else
    /// is queued. Returns whether the fence held and the write was applied.
    pub async fn commit(&self, write: RunWrite) -> Result<bool, JournalError> {
        let (reply, rx) = oneshot::channel();
        self.tx.send((write, reply)).map_err(|_| JournalError::WriterClosed)?;
        rx.await.map_err(|_| JournalError::WriterClosed)?
    }
}
