//! The activity worker supervisor: owns the instance's activity executor
//! (native and WASM activities, concurrency limits per instance and per
//! queue, default timeout, heartbeats, cancellation grace).

use std::sync::Arc;

use crate::activities::{ActivityExecutor, ActivityRegistry, ExecutorLimits};
use crate::journal::SharedJournal;

use super::options::ActivitySupervisorConfig;

/// Builds the executor the supervisor runs activities with; results of
/// calls with an idempotency key and heartbeats are kept in the instance's
/// journal.
pub fn build(
    instance: Arc<str>,
    registry: ActivityRegistry,
    opts: &ActivitySupervisorConfig,
    journal: SharedJournal,
) -> Arc<ActivityExecutor> {
    Arc::new(
        ActivityExecutor::with_limits(
            instance,
            registry,
            ExecutorLimits {
                max_concurrent: opts.max_concurrent,
                queue_limits: opts.queue_limits.iter().map(|(q, n)| (q.clone(), *n)).collect(),
                default_timeout: opts.default_attempt_timeout,
                heartbeat_interval: opts.heartbeat_interval,
                cancel_grace: opts.cancel_grace,
            },
        )
        .with_journal(journal),
    )
}
