//! Scenarios that keep a core busy (a guest spinning in an activity, many
//! hosts at once) take turns: all the tests share one process, and on a
//! small machine two of them at once starve each other's deadlines.

use tokio::sync::{Mutex, MutexGuard};

/// Waits until no other CPU-heavy scenario runs in this test process and
/// returns the turn; hold it for the whole scenario.
pub async fn cpu_heavy() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::const_new(());
    TURN.lock().await
}
