//! The dispatcher: claims the runs that are ready (new, woken by a signal,
//! an activity result or a due timer, or left behind by a dead host), in
//! batches, and hands them to the run supervisor. Woken at once by
//! notifications; otherwise it sleeps until the instance's next timer
//! falls due (so timers fire on time), at most its poll interval.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::options::DispatcherConfig;
use super::Shared;

/// Runs the dispatcher until the instance stops.
pub async fn run(shared: Arc<Shared>, opts: DispatcherConfig) {
    let Some(supervisor) = shared.run_supervisor.as_ref() else { return };
    loop {
        let free = supervisor.available().min(opts.batch_size);
        if free > 0 {
            // Each run claimed gets an owner of its own.
            let owners: Vec<String> = (0..free).map(|_| shared.next_owner()).collect();
            let executing: Vec<String> = shared.registry.leases(&shared.name).into_iter().map(|h| h.key.run_id).collect();
            match shared.journal.claim_runs(&shared.name, &owners, &executing, shared.lease_ttl).await {
                Ok(claimed) => {
                    let all = claimed.len() == free;
                    for (lease, run) in claimed {
                        tracing::debug!(instance = %shared.name, run_id = %run.key.run_id, workflow = %run.workflow, owner = %lease.owner, token = lease.token, "lease acquired; run claimed");
                        supervisor.spawn(shared.clone(), run, lease);
                    }
                    if all {
                        // More may be waiting: go round again at once.
                        tokio::task::yield_now().await;
                        continue;
                    }
                }
                Err(e) => tracing::warn!(instance = %shared.name, error = %e, "dispatcher query failed"),
            }
        }
        let sleep = until_next_wake(&shared, opts.poll_interval).await;
        tokio::select! {
            _ = shared.wakeups.dispatcher.notified() => {}
            _ = tokio::time::sleep(sleep) => {}
        }
    }
}

/// How long to sleep: until the instance's next timer falls due, at most
/// `poll_interval` (the backstop for wake-ups no notification brought).
async fn until_next_wake(shared: &Shared, poll_interval: Duration) -> Duration {
    let now = Utc::now();
    match shared.journal.next_wake_at(&shared.name, now).await {
        Ok(Some(at)) => (at - now).to_std().unwrap_or(Duration::ZERO).min(poll_interval),
        Ok(None) => poll_interval,
        Err(e) => {
            tracing::warn!(instance = %shared.name, error = %e, "reading the next timer failed");
            poll_interval
        }
    }
}
