//! The claim window: how many runs the dispatcher may claim in one
//! statement. A host claims runs only into free execution slots (the
//! permits are taken before the claim), and no more at once than it has
//! shown it can execute well inside their lease TTL: the window grows by
//! one with each attempt that ends quickly (within a twentieth of the TTL
//! from its claim), and halves when an attempt took more than a quarter of
//! the TTL, a lease is lost or a lease renewal comes back late (the host's
//! cores or the database are overloaded). Additive increase, multiplicative
//! decrease, as TCP does: a starved host falls back to one run per
//! statement, paced by its own round trips, while a healthy one claims
//! whole batches.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The adaptive limit on runs claimed per statement.
#[derive(Debug)]
pub struct ClaimWindow {
    size: AtomicUsize,
    max: usize,
}

/// The window a host starts with: a few runs per statement until it has
/// shown it keeps their leases.
const INITIAL: usize = 4;

impl ClaimWindow {
    /// A window that never exceeds `max` (the dispatcher's `batch_size`),
    /// nor goes below one.
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Self { size: AtomicUsize::new(INITIAL.min(max)), max }
    }

    /// The most runs to claim in the next statement.
    pub fn size(&self) -> usize {
        self.size.load(Ordering::Relaxed)
    }

    /// An attempt ended `took` after its slot was reserved (its claim);
    /// `lease_lost` if it found its lease taken.
    pub fn attempt_ended(&self, took: Duration, ttl: Duration, lease_lost: bool) {
        if lease_lost || took > ttl / 4 {
            self.shrink();
        } else if took < ttl / 20 {
            self.grow();
        }
    }

    /// One more run per claim.
    pub fn grow(&self) {
        let max = self.max;
        let _ = self.size.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| (s < max).then_some(s + 1));
    }

    /// Half as many runs per claim (a lease was lost or renewed late).
    pub fn shrink(&self) {
        let _ = self.size.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| (s > 1).then_some((s / 2).max(1)));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::ClaimWindow;

    #[test]
    fn grows_by_one_and_halves_within_its_bounds() {
        let w = ClaimWindow::new(10);
        assert_eq!(w.size(), 4);
        for _ in 0..20 {
            w.grow();
        }
        assert_eq!(w.size(), 10);
        w.shrink();
        assert_eq!(w.size(), 5);
        for _ in 0..10 {
            w.shrink();
        }
        assert_eq!(w.size(), 1);
        w.grow();
        assert_eq!(w.size(), 2);
    }

    #[test]
    fn slow_attempts_and_lost_leases_shrink_quick_ones_grow() {
        let ttl = Duration::from_secs(10);
        let w = ClaimWindow::new(64);
        w.attempt_ended(Duration::from_millis(5), ttl, false);
        assert_eq!(w.size(), 5);
        w.attempt_ended(Duration::from_secs(1), ttl, false);
        assert_eq!(w.size(), 5, "neither quick nor slow: unchanged");
        w.attempt_ended(Duration::from_secs(3), ttl, false);
        assert_eq!(w.size(), 2);
        w.attempt_ended(Duration::from_millis(5), ttl, true);
        assert_eq!(w.size(), 1);
    }

    #[test]
    fn a_batch_size_of_one_stays_one() {
        let w = ClaimWindow::new(1);
        assert_eq!(w.size(), 1);
        w.grow();
        assert_eq!(w.size(), 1);
        let zero = ClaimWindow::new(0);
        assert_eq!(zero.size(), 1);
    }
}
