//! The lease heartbeater: renews the leases of the runs executing here, and
//! stops any run whose lease another engine has taken.

use std::sync::Arc;

use super::options::HeartbeaterConfig;
use super::Shared;

/// Runs the heartbeater until the instance stops.
pub async fn run(shared: Arc<Shared>, opts: HeartbeaterConfig) {
    let mut tick = tokio::time::interval(opts.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let leases = shared.registry.leases(&shared.name);
        if leases.is_empty() {
            continue;
        }
        match shared.journal.renew_leases(&leases, opts.lease_ttl).await {
            Ok(renewed) => {
                for ((key, lease), ok) in leases.iter().zip(renewed) {
                    if ok {
                        tracing::trace!(instance = %key.instance, run_id = %key.run_id, owner = %lease.owner, "lease renewed");
                    } else {
                        tracing::warn!(instance = %key.instance, run_id = %key.run_id, owner = %lease.owner, "lease lost; stopping the run here");
                        shared.registry.lease_lost(&key.run_id);
                    }
                }
            }
            Err(e) => tracing::warn!(instance = %shared.name, error = %e, "lease renewal failed"),
        }
    }
}
