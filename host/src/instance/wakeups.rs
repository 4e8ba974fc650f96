//! In-process wake-ups between an instance's children: a child that made
//! work for another (a run became due, a task was queued) wakes it at once instead of leaving it to its next poll.
//! Wake-ups from other processes arrive through the journal's
//! notifications (see the wake router).

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// The children one can wake.
#[derive(Default)]
pub struct Wakeups {
    /// Wakes the dispatcher (a run may be ready).
    pub dispatcher: Notify,
    /// Wakes the activity dispatcher (a task may be ready).
    pub tasks: Notify,
    /// Wakes the scheduler (a schedule was created, changed or resumed).
    pub scheduler: Notify,
    /// Set when a run suspended here (it may have set a timer): the
    /// dispatcher reads the instance's next timer again.
    timer_set: AtomicBool,
}

impl Wakeups {
    /// A run suspended here, maybe with a timer: tells the dispatcher to
    /// read the next timer again, and wakes it.
    pub fn run_suspended(&self) {
        self.timer_set.store(true, Ordering::Release);
        self.dispatcher.notify_one();
    }

    /// Whether a run suspended since the last call (and clears it).
    pub fn take_timer_set(&self) -> bool {
        self.timer_set.swap(false, Ordering::AcqRel)
    }
}
