//! The lease heartbeater: renews the leases of the runs executing here,
//! stops any run whose lease another engine has taken, and delivers
//! cancellation requests no notification brought (SQLite across processes,
//! a missed Postgres `NOTIFY`).

use std::sync::Arc;

use crate::journal::{Lease, Renewal, RunKey};

use super::options::HeartbeaterConfig;
use super::registry::HeldLease;
use super::Shared;

/// Runs the heartbeater until the instance stops.
pub async fn run(shared: Arc<Shared>, opts: HeartbeaterConfig) {
    let mut tick = tokio::time::interval(opts.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let held = shared.registry.leases(&shared.name);
        if held.is_empty() {
            continue;
        }
        let leases: Vec<(RunKey, Lease)> = held.iter().map(|h| (h.key.clone(), h.lease.clone())).collect();
        let asked_at = std::time::Instant::now();
        match shared.journal.renew_leases(&leases, opts.lease_ttl).await {
            Ok(renewed) => {
                // A renewal that took a quarter of the TTL says the database
                // or this host is overloaded: claim fewer runs at a time.
                // The window halves once per round, whatever went wrong in
                // it and however many leases were lost.
                let mut overloaded = asked_at.elapsed() > opts.lease_ttl / 4;
                if overloaded {
                    tracing::debug!(instance = %shared.name, took_ms = asked_at.elapsed().as_millis() as u64, "lease renewal came back late; claiming fewer runs at a time");
                }
                for (HeldLease { key, lease, workflow, clock }, renewal) in held.iter().zip(renewed) {
                    if let Renewal::Renewed { cancel_requested, graceful_cancel, paused } = renewal {
                        clock.renewed(asked_at, opts.lease_ttl);
                        tracing::trace!(instance = %key.instance, run_id = %key.run_id, %workflow, owner = %lease.owner, "lease renewed");
                        if paused && shared.registry.pause(&key.run_id).is_some() {
                            tracing::debug!(instance = %key.instance, run_id = %key.run_id, %workflow, "pause found at lease renewal");
                        }
                        if cancel_requested && shared.registry.terminate(&key.run_id).is_some() {
                            tracing::debug!(instance = %key.instance, run_id = %key.run_id, %workflow, "termination request found at lease renewal");
                        } else if graceful_cancel && shared.registry.cancel(&key.run_id).is_some() {
                            tracing::debug!(instance = %key.instance, run_id = %key.run_id, %workflow, "cancellation request found at lease renewal");
                        }
                    } else if released_by_its_engine(&shared, key, lease).await {
                        // The run just suspended or ended and gave the lease
                        // up itself (its engine logs `lease released`); its
                        // task is finishing and leaves the registry on its own.
                        tracing::trace!(instance = %key.instance, run_id = %key.run_id, %workflow, owner = %lease.owner, "lease released by the run itself");
                    } else {
                        tracing::warn!(instance = %key.instance, run_id = %key.run_id, %workflow, owner = %lease.owner, "lease lost; stopping the run here");
                        shared.registry.lease_lost(&key.run_id);
                        overloaded = true;
                    }
                }
                if overloaded {
                    shrink_claims(&shared);
                }
            }
            Err(e) => {
                tracing::warn!(instance = %shared.name, error = %e, "lease renewal failed");
                shrink_claims(&shared);
            }
        }
    }
}

/// Halves the dispatcher's claim window (when this host runs runs).
fn shrink_claims(shared: &Shared) {
    if let Some(supervisor) = &shared.run_supervisor {
        supervisor.window().shrink();
    }
}

/// True when nobody holds the run's lease and its token is still ours: only
/// the engine holding this very lease can have released it (every release
/// is fenced by owner and token), so the run was not taken from us.
async fn released_by_its_engine(shared: &Shared, key: &RunKey, lease: &Lease) -> bool {
    match shared.journal.get_run(key).await {
        Ok(Some(run)) => run.lease_owner.is_none() && run.lease_token == lease.token,
        _ => false,
    }
}
