//! In-process wake-ups between an instance's children: a child that made
//! work for another (a run became due, a task was queued) wakes it at once instead of leaving it to its next poll.
//! Wake-ups from other processes arrive through the journal's
//! notifications (see the wake router).

use tokio::sync::Notify;

/// The children one can wake.
#[derive(Default)]
pub struct Wakeups {
    /// Wakes the dispatcher (a run may be ready).
    pub dispatcher: Notify,
    /// Wakes the activity dispatcher (a task may be ready).
    pub tasks: Notify,
}
