//! The dispatcher: finds runs that are ready (new, woken by a signal, a
//! timer or an activity result, or left behind by a dead host), takes their
//! lease and hands them to the run supervisor. Woken at once by
//! notifications; polls as a backstop.

use std::sync::Arc;

use chrono::Utc;

use super::options::DispatcherConfig;
use super::Shared;

/// Runs the dispatcher until the instance stops.
pub async fn run(shared: Arc<Shared>, opts: DispatcherConfig) {
    let Some(supervisor) = shared.run_supervisor.as_ref() else { return };
    loop {
        let free = supervisor.available().min(opts.batch_size);
        if free > 0 {
            match shared.journal.find_ready_runs(&shared.name, Utc::now(), free as i64 * 2).await {
                Ok(keys) => {
                    let mut claimed = 0usize;
                    for key in keys {
                        if claimed >= free {
                            break;
                        }
                        if shared.registry.contains(&key.run_id) {
                            continue;
                        }
                        let owner = shared.next_owner();
                        match shared.journal.acquire_lease(&key, &owner, shared.lease_ttl).await {
                            Ok(Some((lease, run))) => {
                                tracing::debug!(instance = %shared.name, run_id = %key.run_id, workflow = %run.workflow, owner = %lease.owner, token = lease.token, "lease acquired; run claimed");
                                claimed += 1;
                                supervisor.spawn(shared.clone(), run, lease);
                            }
                            Ok(None) => {}
                            Err(e) => tracing::warn!(instance = %shared.name, run_id = %key.run_id, error = %e, "lease acquisition failed"),
                        }
                    }
                    if claimed == free {
                        // More may be waiting: go round again at once.
                        tokio::task::yield_now().await;
                        continue;
                    }
                }
                Err(e) => tracing::warn!(instance = %shared.name, error = %e, "dispatcher query failed"),
            }
        }
        tokio::select! {
            _ = shared.wakeups.dispatcher.notified() => {}
            _ = tokio::time::sleep(opts.poll_interval) => {}
        }
    }
}
