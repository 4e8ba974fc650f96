//! Group commit: engines of many runs hand their [`RunWrite`]s, and
//! `start` calls their new runs, to one writer, which commits whatever has
//! queued up in a single transaction ([`CommitStore::commit`](super::CommitStore::commit),
//! [`RunStore::create_runs`](super::RunStore::create_runs)). With one request in flight it is committed
//! at once (no added latency); with many, they share commits, so the cost
//! in commits per workflow falls as load rises.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, Mutex};

use super::{JournalError, Lease, NewRun, RunRecord, RunWrite, SharedJournal};

/// Tuning of the group commit.
#[derive(Debug, Clone)]
pub struct BatcherConfig {
    /// Most writes (or new runs) in one transaction.
    pub max_batch: usize,
    /// Transactions in flight at once, for writes and for new runs each.
    pub writers: usize,
}

impl Default for BatcherConfig {
    fn default() -> Self {
        Self { max_batch: 256, writers: 2 }
    }
}

/// Counters of the group commit of run writes.
#[derive(Debug, Default)]
pub struct BatcherStats {
    /// Writes committed or refused.
    pub writes: AtomicU64,
    /// Transactions they took.
    pub transactions: AtomicU64,
}

/// A run created: its record as stored, and the lease taken at creation.
type Created = (RunRecord, Option<Lease>);
type WriteRequest = (RunWrite, oneshot::Sender<Result<bool, JournalError>>);
type CreateRequest = (NewRun, Option<(String, Duration)>, oneshot::Sender<Result<Created, JournalError>>);

/// A handle to the group-commit writer of an instance; cheap to clone.
#[derive(Clone)]
pub struct GroupCommit {
    writes: mpsc::UnboundedSender<WriteRequest>,
    creations: mpsc::UnboundedSender<CreateRequest>,
    stats: Arc<BatcherStats>,
}

impl GroupCommit {
    /// Starts the writer tasks of instance `instance` (named in their
    /// telemetry) on the current tokio runtime. They stop when every handle
    /// is dropped.
    pub fn start(instance: Arc<str>, journal: SharedJournal, config: BatcherConfig) -> Self {
        let stats = Arc::new(BatcherStats::default());
        let max = config.max_batch.max(1);
        let writers = config.writers.max(1);
        let commit_stats = stats.clone();
        let writes = spawn_writers(writers, max, journal.clone(), move |journal, batch: Vec<WriteRequest>| {
            let (stats, instance) = (commit_stats.clone(), instance.clone());
            async move { commit_batch(&journal, batch, &stats, &instance).await }
        });
        let creations =
            spawn_writers(writers, max, journal, |journal, batch: Vec<CreateRequest>| async move { create_batch(&journal, batch).await });
        Self { writes, creations, stats }
    }

    /// Writes and transactions so far: their ratio is the batching factor.
    pub fn stats(&self) -> (u64, u64) {
        (self.stats.writes.load(Ordering::Relaxed), self.stats.transactions.load(Ordering::Relaxed))
    }

    /// Commits one run's write, sharing the transaction with whatever else
    /// is queued. Returns whether the fence held and the write was applied.
    pub async fn commit(&self, write: RunWrite) -> Result<bool, JournalError> {
        let (reply, rx) = oneshot::channel();
        self.writes.send((write, reply)).map_err(|_| JournalError::WriterClosed)?;
        rx.await.map_err(|_| JournalError::WriterClosed)?
    }

    /// Inserts `run` (see [`RunStore::create_run`](super::RunStore::create_run)), sharing the
    /// transaction with whatever else is queued; returns the run as stored
    /// and the lease taken for `lease`'s owner, or `RunExists`.
    pub async fn create(&self, run: NewRun, lease: Option<(String, Duration)>) -> Result<Created, JournalError> {
        let (reply, rx) = oneshot::channel();
        self.creations.send((run, lease, reply)).map_err(|_| JournalError::WriterClosed)?;
        rx.await.map_err(|_| JournalError::WriterClosed)?
    }
}

/// Spawns `writers` tasks taking batches of up to `max` requests off one
/// queue and handing each batch to `apply`; returns the queue.
fn spawn_writers<T, F, Fut>(writers: usize, max: usize, journal: SharedJournal, apply: F) -> mpsc::UnboundedSender<T>
where
    T: Send + 'static,
    F: Fn(SharedJournal, Vec<T>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = mpsc::unbounded_channel::<T>();
    let rx = Arc::new(Mutex::new(rx));
    for _ in 0..writers {
        let (rx, journal, apply) = (rx.clone(), journal.clone(), apply.clone());
        tokio::spawn(async move {
            while let Some(batch) = next_batch(&rx, max).await {
                apply(journal.clone(), batch).await;
            }
        });
    }
    tx
}

/// Waits for the next request, then takes whatever else has queued up, up
/// to `max` in all; `None` once every sender is gone.
async fn next_batch<T>(rx: &Mutex<mpsc::UnboundedReceiver<T>>, max: usize) -> Option<Vec<T>> {
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

/// Commits a batch of run writes in one transaction and answers each.
async fn commit_batch(journal: &SharedJournal, batch: Vec<WriteRequest>, stats: &BatcherStats, instance: &str) {
    let (writes, replies): (Vec<RunWrite>, Vec<_>) = batch.into_iter().unzip();
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

/// Inserts a batch of new runs in one transaction and answers each.
async fn create_batch(journal: &SharedJournal, mut batch: Vec<CreateRequest>) {
    if batch.len() == 1 {
        // Alone: the plain one-row insert is the cheaper statement.
        if let Some((run, lease, reply)) = batch.pop() {
            let _ = reply.send(journal.create_run(&run, lease.as_ref().map(|(o, ttl)| (o.as_str(), *ttl))).await);
        }
        return;
    }
    let (runs, replies): (Vec<_>, Vec<_>) = batch.into_iter().map(|(run, lease, reply)| ((run, lease), reply)).unzip();
    match journal.create_runs(&runs).await {
        Ok(created) => {
            for (((run, _), reply), created) in runs.into_iter().zip(replies).zip(created) {
                let _ = reply.send(created.ok_or(JournalError::RunExists(run.key)));
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
