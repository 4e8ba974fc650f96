//! This process's own view of a run's lease: until when it may count on
//! still holding it. The journal fences every write by the lease token, so
//! a host that lost its lease can never corrupt the journal; but an engine
//! whose heartbeater fell behind (a starved process) would still start
//! side effects after the lease expired and another host took the run.
//! The engine checks this clock before it starts an activity here.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The part of a lease's lifetime this process counts on: the database
/// measures the lease from its own `now()`, a moment after we asked.
const TRUSTED_NUMERATOR: u32 = 9;
const TRUSTED_DENOMINATOR: u32 = 10;

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn millis_since_epoch(at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(epoch()).as_millis()).unwrap_or(u64::MAX)
}

fn trusted(ttl: Duration) -> Duration {
    ttl * TRUSTED_NUMERATOR / TRUSTED_DENOMINATOR
}

/// Until when this process may count on holding a run's lease (shared
/// between the run's engine and the heartbeater that renews it).
#[derive(Debug, Clone)]
pub struct LeaseClock(Arc<AtomicU64>);

impl LeaseClock {
    /// A lease taken just now for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        let clock = LeaseClock(Arc::new(AtomicU64::new(0)));
        clock.renewed(Instant::now(), ttl);
        clock
    }

    /// A clock that never runs out (a replay check, which starts nothing).
    pub fn unbounded() -> Self {
        LeaseClock(Arc::new(AtomicU64::new(u64::MAX)))
    }

    /// The lease was renewed for `ttl` by a request sent at `asked_at`;
    /// the deadline only ever moves forward.
    pub fn renewed(&self, asked_at: Instant, ttl: Duration) {
        let until = millis_since_epoch(asked_at + trusted(ttl));
        self.0.fetch_max(until, Ordering::AcqRel);
    }

    /// True once the lease may have expired without this process knowing
    /// of a renewal.
    pub fn expired(&self) -> bool {
        millis_since_epoch(Instant::now()) >= self.0.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_runs_out_unless_renewed_and_never_moves_back() {
        let clock = LeaseClock::new(Duration::from_millis(100));
        assert!(!clock.expired());
        std::thread::sleep(Duration::from_millis(120));
        assert!(clock.expired(), "90 ms of a 100 ms lease are trusted");
        clock.renewed(Instant::now(), Duration::from_secs(60));
        assert!(!clock.expired());
        // A late answer to an older renewal does not shorten it.
        clock.renewed(Instant::now() - Duration::from_secs(120), Duration::from_secs(60));
        assert!(!clock.expired());
        assert!(LeaseClock::new(Duration::ZERO).expired());
        assert!(!LeaseClock::unbounded().expired());
    }
}
