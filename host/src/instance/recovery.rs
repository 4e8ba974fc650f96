//! Recovery: finds runs whose host died (a `running` run whose lease
//! expired) and makes sure the dispatcher picks them up, here or elsewhere;
//! and watches the activity calls no host serves ([`activity_workers`]).

use std::sync::Arc;

use chrono::Utc;

use super::activity_workers::{self, Watch};
use super::options::RecoveryConfig;
use super::Shared;

/// Expired runs looked at per round.
const SCAN_LIMIT: i64 = 256;

/// Runs recovery until the instance stops.
pub async fn run(shared: Arc<Shared>, opts: RecoveryConfig) {
    let mut tick = tokio::time::interval(opts.interval);
    let mut watch = Watch::default();
    loop {
        tick.tick().await;
        activity_workers::watch(&shared, &mut watch).await;
        // Backstop for a missed deploy notification.
        if let Err(e) = shared.modules.refresh().await {
            tracing::warn!(instance = %shared.name, error = %e, "refreshing module versions failed");
        }
        match shared.journal.expired_runs(&shared.name, Utc::now(), SCAN_LIMIT).await {
            Ok(runs) => {
                let mut orphans = 0;
                for run in runs {
                    if shared.registry.contains(&run.key.run_id) {
                        continue;
                    }
                    orphans += 1;
                    tracing::info!(instance = %run.key.instance, run_id = %run.key.run_id, workflow = %run.workflow,
                        previous_owner = run.lease_owner.as_deref().unwrap_or(""), "recovering a run whose lease expired");
                }
                if orphans > 0 {
                    shared.wakeups.dispatcher.notify_one();
                }
            }
            Err(e) => tracing::warn!(instance = %shared.name, error = %e, "recovery scan failed"),
        }
    }
}
