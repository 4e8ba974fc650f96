//! The activity worker supervisor: owns the instance's activity executor
//! (native and WASM activities, concurrency limit, default timeout).

use std::sync::Arc;

use crate::activities::{ActivityExecutor, ActivityRegistry};
use crate::journal::SharedJournal;

use super::options::ActivitySupervisorConfig;

/// Builds the executor the supervisor runs activities with; results of
/// calls with an idempotency key are kept in the instance's journal.
pub fn build(
    instance: Arc<str>,
    registry: ActivityRegistry,
    opts: &ActivitySupervisorConfig,
    journal: SharedJournal,
) -> Arc<ActivityExecutor> {
    Arc::new(
        ActivityExecutor::new(instance, registry, opts.max_concurrent, opts.default_attempt_timeout)
            .with_idempotency_store(journal),
    )
}
