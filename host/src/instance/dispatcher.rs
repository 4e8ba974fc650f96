//! The dispatcher: claims the runs that are ready (new, woken by a signal,
//! an activity result or a due timer, or left behind by a dead host), in
//! batches of one statement (`FOR UPDATE SKIP LOCKED` on Postgres) sized by
//! the free execution slots and the claim window, and hands them to the run
//! supervisor. Woken at once by notifications; otherwise it sleeps until
//! the instance's next timer falls due (so timers fire on time), at most its
//! poll interval.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::options::DispatcherConfig;
use super::Shared;

/// Runs the dispatcher until the instance stops.
pub async fn run(shared: Arc<Shared>, opts: DispatcherConfig) {
    let Some(supervisor) = shared.run_supervisor.as_ref() else { return };
    // The instance's next timer as last read, and whether to read it again:
    // after each sleep that ran out (a timer fell due, or the poll interval
    // passed: timers set by other hosts), and when a run suspended here (it
    // may have set one). A wake-up that only brought due runs keeps it, so a
    // busy dispatcher does not read it at every claim.
    let mut next_wake: Option<DateTime<Utc>> = None;
    let mut stale = true;
    loop {
        // Slots first, then the claim: every run claimed starts at once, and
        // a host never claims more than it has free slots for nor more than
        // its claim window (which shrinks when leases are lost or renewed
        // late), so an overloaded host does not take runs it cannot keep.
        let slots = supervisor.reserve(opts.batch_size);
        if !slots.is_empty() {
            let wanted = slots.len();
            let executing: Vec<String> = shared.registry.leases(&shared.name).into_iter().map(|h| h.key.run_id).collect();
            let owners: Vec<String> = (0..wanted).map(|_| shared.next_owner()).collect();
            match shared.journal.claim_runs(&shared.name, &owners, &executing, shared.lease_ttl).await {
                Ok(runs) => {
                    let claimed = runs.len();
                    for ((lease, run), slot) in runs.into_iter().zip(slots) {
                        tracing::debug!(instance = %shared.name, run_id = %run.key.run_id, workflow = %run.workflow, owner = %lease.owner, token = lease.token, "lease acquired; run claimed");
                        supervisor.spawn(shared.clone(), run, lease, slot);
                    }
                    if claimed == wanted {
                        // More may be waiting: go round again at once.
                        tokio::task::yield_now().await;
                        continue;
                    }
                }
                Err(e) => tracing::warn!(instance = %shared.name, error = %e, "dispatcher query failed"),
            }
        }
        if std::mem::take(&mut stale) | shared.wakeups.take_timer_set() {
            next_wake = read_next_wake(&shared).await;
        }
        let now = Utc::now();
        let sleep = match next_wake {
            Some(at) if at > now => (at - now).to_std().unwrap_or(Duration::ZERO).min(opts.poll_interval),
            // It fell due since it was read: claim again at once, then read
            // the next one (the query only returns times still to come, so
            // this does not spin).
            Some(_) => {
                stale = true;
                next_wake = None;
                continue;
            }
            None => opts.poll_interval,
        };
        tokio::select! {
            _ = shared.wakeups.dispatcher.notified() => {}
            // Every slot was busy and one freed: ready runs may be waiting.
            _ = supervisor.slot_freed() => {}
            _ = tokio::time::sleep(sleep) => stale = true,
        }
    }
}

/// The instance's next timer (the earliest `wake_at` still to come); `None`
/// when there is none or it could not be read (then the poll interval
/// bounds the sleep).
async fn read_next_wake(shared: &Shared) -> Option<DateTime<Utc>> {
    match shared.journal.next_wake_at(&shared.name, Utc::now()).await {
        Ok(at) => at,
        Err(e) => {
            tracing::warn!(instance = %shared.name, error = %e, "reading the next timer failed");
            None
        }
    }
}
