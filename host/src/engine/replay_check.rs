//! Replay checks: replays a run's recorded history against a candidate
//! module, without touching the journal, and says whether the module takes
//! the same path (compatible) or where it first diverges.

use std::sync::Arc;

use tokio::sync::watch;
use wasmtime::{Store, StoreLimitsBuilder};

use crate::journal::{Event, Lease, RunRecord};
use crate::modules::WorkflowModule;

use super::interrupt::Interrupt;
use super::replay::{Drift, History};
use super::run_ctx::{RunCtx, RunEnv};

/// The result of replaying one run's history on a candidate module.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ReplayVerdict {
    /// Every recorded step was replayed identically.
    Compatible {
        /// Journal entries replayed.
        events: usize,
    },
    /// The module diverges from the history at this step.
    Incompatible(Drift),
    /// The module trapped or failed while replaying.
    Failed(String),
}

impl ReplayVerdict {
    /// True for [`ReplayVerdict::Compatible`].
    pub fn is_compatible(&self) -> bool {
        matches!(self, ReplayVerdict::Compatible { .. })
    }
}

impl std::fmt::Display for ReplayVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayVerdict::Compatible { events } => write!(f, "compatible ({events} journal entries replayed)"),
            ReplayVerdict::Incompatible(d) => write!(f, "incompatible: {d}"),
            ReplayVerdict::Failed(m) => write!(f, "incompatible: the module failed while replaying: {m}"),
        }
    }
}

/// Replays `events` (the journal of `run`) on `module`.
pub async fn check_replay(env: RunEnv, module: Arc<WorkflowModule>, run: &RunRecord, events: &[Event]) -> ReplayVerdict {
    let (_keep, cancel) = watch::channel(false);
    let limits = StoreLimitsBuilder::new().memory_size(64 << 20).instances(4).build();
    let lease = Lease { owner: "replay-check".into(), token: -1 };
    let mut ctx = RunCtx::new(env, run.key.clone(), run.workflow.clone(), lease, run.wake_gen, History::new(events), cancel, limits);
    ctx.check_only = true;
    let input = match serde_json::to_vec(&run.input) {
        Ok(b) => b,
        Err(e) => return ReplayVerdict::Failed(format!("cannot encode the input: {e}")),
    };
    let mut store = Store::new(module.pre.engine(), ctx);
    store.limiter(|c| &mut c.limits);
    store.epoch_deadline_async_yield_and_update(1);
    let result = match module.pre.instantiate_async(&mut store).await {
        Ok(instance) => instance.call_run(&mut store, &input).await,
        Err(e) => Err(e),
    };
    let ctx = store.into_data();
    match result {
        // The run had finished: the module must finish the same way.
        Ok(_) => match ctx.history.finish() {
            Ok(()) => ReplayVerdict::Compatible { events: events.len() },
            Err(d) => ReplayVerdict::Incompatible(d),
        },
        Err(e) => match e.downcast::<Interrupt>() {
            Ok(Interrupt::ReplayEnd) => ReplayVerdict::Compatible { events: events.len() },
            Ok(Interrupt::Drift(d)) => ReplayVerdict::Incompatible(d),
            Ok(other) => ReplayVerdict::Failed(other.to_string()),
            Err(trap) => ReplayVerdict::Failed(match &ctx.last_panic {
                Some(p) => format!("{p} ({trap:#})"),
                None => format!("{trap:#}"),
            }),
        },
    }
}
