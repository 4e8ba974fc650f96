//! The count of write transactions a journal has committed in this
//! process: every transaction or autocommit statement that may write
//! (a run created, a batch of run writes, a claim, a lease renewal, a task
//! outcome...), counted when the database confirmed it, including claims
//! and polls that found nothing to change. It is exact for any window an
//! observer picks, unlike `pg_stat_database`, whose backends report at most
//! once a second (and up to ten seconds late when idle). Reads are not
//! counted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A shared, monotonic count of committed write transactions; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct CommitCounter(Arc<AtomicU64>);

impl CommitCounter {
    /// Counts one committed transaction.
    pub fn add(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one when `result` is a success (the database committed it),
    /// and hands the result back.
    pub fn counted<T, E>(&self, result: Result<T, E>) -> Result<T, E> {
        if result.is_ok() {
            self.add();
        }
        result
    }

    /// Transactions committed so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}
