//! The time the SQLite journal stamps and compares with (SQLite has no
//! clock of the database's own): the system clock, moved forward by an
//! offset that only the journal's tests change (they drive the clock
//! instead of sleeping).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::Utc;

/// A clock; clones share their offset.
#[derive(Debug, Clone, Default)]
pub(crate) struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// Milliseconds since the epoch.
    pub(crate) fn now_ms(&self) -> i64 {
        Utc::now().timestamp_millis().saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves the clock forward by `ms` milliseconds.
    #[cfg(test)]
    pub(crate) fn advance_ms(&self, ms: i64) {
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}
