//! Statistics that keep the journal's cached plans right while its tables
//! grow.
//!
//! The journal's statements run as generic plans, made once per
//! connection (planning the batched commit costs more than executing it).
//! A generic plan is made for the table sizes of its first execution: on a
//! new database that is an empty `runs` table, where a sequential scan
//! and any index look alike. After a burst of starts such a plan scanned
//! all of `runs` for every run of a batch: group commits of 256 runs took
//! 1-4 s and lease renewals waited seconds behind them, until autovacuum
//! (which naps a minute) analyzed the table. An `ANALYZE` makes Postgres
//! plan every statement on those tables again. So the journal analyzes its
//! tables itself each time the runs it created doubled (from
//! [`FIRST_REFRESH`] on): a few times in a table's life, each in the
//! background.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use sqlx::PgPool;

/// Runs created before the first refresh.
pub const FIRST_REFRESH: u64 = 1_000;

/// The tables whose statistics are refreshed.
const TABLES: &str = "runs, events, activity_tasks, signals";

/// Counts the runs this journal created and refreshes the statistics when
/// the count doubles.
#[derive(Debug)]
pub struct PlanRefresh {
    created: AtomicU64,
    next: AtomicU64,
    running: AtomicBool,
}

impl Default for PlanRefresh {
    fn default() -> Self {
        Self { created: AtomicU64::new(0), next: AtomicU64::new(FIRST_REFRESH), running: AtomicBool::new(false) }
    }
}

impl PlanRefresh {
    /// Counts `n` runs created; true when the count reached the next
    /// refresh (which is then set to twice the count).
    fn grew(&self, n: u64) -> bool {
        let created = self.created.fetch_add(n, Ordering::Relaxed) + n;
        let next = self.next.load(Ordering::Relaxed);
        created >= next
            && self.next.compare_exchange(next, created.saturating_mul(2), Ordering::Relaxed, Ordering::Relaxed).is_ok()
    }

    /// Counts `n` runs created in `pool`'s database and, when they doubled
    /// since the last refresh, analyzes the journal's tables in the
    /// background (one refresh at a time; a failure is logged, nothing
    /// else depends on it).
    pub fn created(self: &std::sync::Arc<Self>, n: u64, pool: &PgPool) {
        if !self.grew(n) || self.running.swap(true, Ordering::AcqRel) {
            return;
        }
        let (me, pool) = (self.clone(), pool.clone());
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            match sqlx::query(&format!("ANALYZE {TABLES}")).execute(&pool).await {
                Ok(_) => tracing::debug!(
                    runs_created = me.created.load(Ordering::Relaxed),
                    ms = started.elapsed().as_millis() as u64,
                    "journal statistics refreshed"
                ),
                Err(e) => tracing::warn!(error = %e, "refreshing the journal's statistics failed"),
            }
            me.running.store(false, Ordering::Release);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_come_each_time_the_count_doubles() {
        let r = PlanRefresh::default();
        let mut at = Vec::new();
        for i in 1..=20_000u64 {
            if r.grew(1) {
                at.push(i);
            }
        }
        assert_eq!(at, [1_000, 2_000, 4_000, 8_000, 16_000]);
        // A batch that jumps past the threshold counts once, at its end.
        let r = PlanRefresh::default();
        assert!(!r.grew(999));
        assert!(r.grew(300));
        assert!(!r.grew(1_000));
        assert!(r.grew(1_300));
    }
}
