//! The timer wheel: sleeps until the instance's next durable timer is due,
//! fires it (marking the row and waking its run) and wakes the dispatcher.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::options::TimerWheelConfig;
use super::Shared;

/// Runs the timer wheel until the instance stops.
pub async fn run(shared: Arc<Shared>, opts: TimerWheelConfig) {
    loop {
        match shared.journal.fire_due_timers(&shared.name, Utc::now()).await {
            Ok(woken) => {
                for w in &woken {
                    tracing::info!(instance = %w.key.instance, run_id = %w.key.run_id, workflow = %w.workflow, "timer fired");
                }
                if !woken.is_empty() {
                    shared.wakeups.dispatcher.notify_one();
                }
            }
            Err(e) => tracing::warn!(instance = %shared.name, error = %e, "firing timers failed"),
        }
        let sleep = match shared.journal.next_timer_at(&shared.name).await {
            Ok(Some(at)) => (at - Utc::now()).to_std().unwrap_or(Duration::ZERO).min(opts.poll_interval),
            Ok(None) => opts.poll_interval,
            Err(e) => {
                tracing::warn!(instance = %shared.name, error = %e, "reading the next timer failed");
                opts.poll_interval
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = shared.wakeups.timers.notified() => {}
        }
    }
}
