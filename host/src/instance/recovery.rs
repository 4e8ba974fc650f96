//! Recovery: finds runs whose host died (a `running` run whose lease
//! expired) and makes sure the dispatcher picks them up, here or elsewhere.

use std::sync::Arc;

use chrono::Utc;

use crate::journal::RunState;

use super::options::RecoveryConfig;
use super::Shared;

/// Runs recovery until the instance stops.
pub async fn run(shared: Arc<Shared>, opts: RecoveryConfig) {
    let mut tick = tokio::time::interval(opts.interval);
    loop {
        tick.tick().await;
        // Backstop for a missed deploy notification.
        if let Err(e) = shared.modules.refresh().await {
            tracing::warn!(instance = %shared.name, error = %e, "refreshing module versions failed");
        }
        let now = Utc::now();
        match shared.journal.find_ready_runs(&shared.name, now, 256).await {
            Ok(keys) => {
                let mut orphans = 0;
                for key in keys {
                    if shared.registry.contains(&key.run_id) {
                        continue;
                    }
                    if let Ok(Some(run)) = shared.journal.get_run(&key).await {
                        if run.state == RunState::Running && run.lease_expires_at.is_some_and(|t| t < now) {
                            orphans += 1;
                            tracing::info!(instance = %key.instance, run_id = %key.run_id, workflow = %run.workflow,
                                previous_owner = run.lease_owner.as_deref().unwrap_or(""), "recovering a run whose lease expired");
                        }
                    }
                }
                if orphans > 0 {
                    shared.wakeups.dispatcher.notify_one();
                }
            }
            Err(e) => tracing::warn!(instance = %shared.name, error = %e, "recovery scan failed"),
        }
    }
}
