//! The memory all workflow guests of one instance may hold at once on a
//! host (`run_supervisor.max_guests_memory_mb`): their linear memory and
//! the journal data they recorded but have not committed yet.
//!
//! Each run's own limits (`max_memory_mb`, `max_activation_mb`) bound one
//! guest; this budget bounds them all together, so the host's memory stays
//! bounded however many runs execute and whatever their guests do. An
//! activation takes its share as it grows (a `memory.grow`, a journal
//! step) and gives it back when it ends. When the budget has no room left
//! the activation is deferred, not failed: the run did nothing wrong, its
//! lease is released and it is picked up again a little later
//! ([`DEFER`]), replaying what it committed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long a run deferred for want of memory waits before it is due
/// again, at least: [`defer_delay`] spreads the deferred runs over the
/// half second after it, so that they do not all come back together.
pub const DEFER: Duration = Duration::from_millis(500);

/// The delay of one deferral: [`DEFER`] and up to as much again.
pub fn defer_delay() -> Duration {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    DEFER + Duration::from_millis(u64::from(nanos) % DEFER.as_millis() as u64)
}

/// One instance's budget of guest memory on this host, in bytes.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: usize,
    used: AtomicUsize,
}

impl MemoryBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self { limit, used: AtomicUsize::new(0) })
    }

    /// A budget that never runs out.
    #[cfg(test)]
    pub fn unbounded() -> Arc<Self> {
        Self::new(usize::MAX)
    }

    /// The budget, in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// What the executing guests hold now, in bytes.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Takes `bytes` if they fit.
    fn take(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|total| *total <= self.limit)
            })
            .is_ok()
    }

    fn give_back(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::AcqRel);
    }
}

/// What one activation holds of its instance's [`MemoryBudget`]: its
/// guest's linear memory and its uncommitted journal data. Dropping it
/// gives everything back.
#[derive(Debug)]
pub(crate) struct BudgetShare {
    budget: Arc<MemoryBudget>,
    memory: usize,
    journal: usize,
    /// The activation asked for more than the budget had left.
    refused: bool,
}

impl BudgetShare {
    /// An empty share of `budget`.
    pub fn new(budget: Arc<MemoryBudget>) -> Self {
        Self { budget, memory: 0, journal: 0, refused: false }
    }

    /// The guest's linear memory grows by `bytes`; false (and remembered)
    /// when the budget has no room for them.
    pub fn grow_memory(&mut self, bytes: usize) -> bool {
        if self.budget.take(bytes) {
            self.memory += bytes;
            true
        } else {
            self.refused = true;
            false
        }
    }

    /// The activation's uncommitted journal data is now `bytes` (it grows
    /// with each step and falls to zero at each commit); false (and
    /// remembered) when the budget has no room for the growth.
    pub fn set_journal(&mut self, bytes: usize) -> bool {
        if bytes <= self.journal {
            self.budget.give_back(self.journal - bytes);
            self.journal = bytes;
            return true;
        }
        if self.budget.take(bytes - self.journal) {
            self.journal = bytes;
            true
        } else {
            self.refused = true;
            false
        }
    }

    /// Whether the budget refused this activation something.
    pub fn refused(&self) -> bool {
        self.refused
    }

    /// The budget this share is of.
    pub fn budget(&self) -> &MemoryBudget {
        &self.budget
    }
}

impl Drop for BudgetShare {
    fn drop(&mut self) {
        self.budget.give_back(self.memory + self.journal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_take_what_fits_and_give_it_back_when_dropped() {
        let budget = MemoryBudget::new(100);
        let mut a = BudgetShare::new(budget.clone());
        let mut b = BudgetShare::new(budget.clone());
        assert!(a.grow_memory(60));
        assert!(a.set_journal(10));
        assert!(!b.grow_memory(31), "70 + 31 is past 100");
        assert!(b.refused() && !a.refused());
        assert!(b.grow_memory(30));
        assert_eq!(budget.used(), 100);
        assert!(a.set_journal(0), "a commit gives the journal's share back");
        assert_eq!(budget.used(), 90);
        assert!(!a.set_journal(11));
        drop(a);
        assert_eq!(budget.used(), 30);
        drop(b);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn an_unbounded_budget_never_refuses() {
        let mut share = BudgetShare::new(MemoryBudget::unbounded());
        assert!(share.grow_memory(usize::MAX / 2));
        assert!(share.set_journal(usize::MAX / 4));
        assert!(!share.refused());
    }
}
