//! Replaying a run's recorded history on a module without touching the
//! journal: the guest re-executes until the history runs out (or the run's
//! recorded end), and the engine says whether every step matched. What a
//! match means for a deploy is versioning's business (`crate::versioning`).

use std::sync::Arc;

use tokio::sync::watch;
use wasmtime::Store;

use crate::journal::{Event, Lease, RunRecord};
use crate::modules::WorkflowModule;
use crate::run_error::RunError;

use super::interrupt::Interrupt;
use super::replay::{Drift, History};
use super::run_ctx::{RunCtx, RunEnv};
use super::run_limits;

/// How replaying a history without a journal ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ReplayOnlyEnd {
    /// Every recorded step was replayed identically.
    Matched,
    /// The module asked for a different step than the history holds.
    Drifted(Drift),
    /// The module trapped or failed while replaying.
    Failed(String),
}

/// Replays `events` (the journal of `run`) on `module`.
pub(crate) async fn replay_only(env: RunEnv, module: Arc<WorkflowModule>, run: &RunRecord, events: &[Event]) -> ReplayOnlyEnd {
    let (ctx, result) = match execute_read_only(env, &module, run, events, "replay-check", |_| {}).await {
        Ok(done) => done,
        Err(e) => return ReplayOnlyEnd::Failed(e),
    };
    match result {
        // The run had finished: the module must finish the same way.
        Ok(_) => match ctx.history.finish() {
            Ok(()) => ReplayOnlyEnd::Matched,
            Err(d) => ReplayOnlyEnd::Drifted(d),
        },
        // The run exited (WASI `exit`): an end like returning.
        Err(e) if e.downcast_ref::<wasmtime_wasi::I32Exit>().is_some() => match ctx.history.finish() {
            Ok(()) => ReplayOnlyEnd::Matched,
            Err(d) => ReplayOnlyEnd::Drifted(d),
        },
        Err(e) => match e.downcast::<Interrupt>() {
            Ok(Interrupt::ReplayEnd) => ReplayOnlyEnd::Matched,
            Ok(Interrupt::Drift(d)) => ReplayOnlyEnd::Drifted(d),
            Ok(other) => ReplayOnlyEnd::Failed(other.to_string()),
            Err(_) if ctx.memory.exceeded().is_some() => ReplayOnlyEnd::Failed(
                RunError::memory_limit(ctx.memory.limit(), ctx.memory.exceeded().unwrap_or_default()).message,
            ),
            Err(trap) => ReplayOnlyEnd::Failed(match &ctx.last_panic {
                Some(p) => format!("{p} ({trap:#})"),
                None => format!("{trap:#}"),
            }),
        },
    }
}

/// Executes `run` on `module` read-only with `events` as its history:
/// nothing is journaled or leased (`check_only`; the lease `owner` with
/// token -1, which no lease has), the guest's CPU is metered as a run's.
/// `prepare` sets what else the execution carries (a query). The context
/// and how the guest's `run` ended; an input that cannot be encoded is an
/// error.
pub(super) async fn execute_read_only(
    env: RunEnv,
    module: &WorkflowModule,
    run: &RunRecord,
    events: &[Event],
    owner: &str,
    prepare: impl FnOnce(&mut RunCtx),
) -> Result<(RunCtx, wasmtime::Result<()>), String> {
    let (_keep, stop) = watch::channel(super::StopRequest::None);
    let lease = Lease { owner: owner.into(), token: -1 };
    let mut ctx = RunCtx::new(env, run.key.clone(), run.workflow.clone(), lease, run.wake_gen, History::new(events), stop);
    ctx.check_only = true;
    prepare(&mut ctx);
    let input = serde_json::to_vec(&run.input).map_err(|e| format!("cannot encode the input: {e}"))?;
    let mut store = Store::new(module.pre.engine(), ctx);
    let cpu = run_limits::guard(&mut store);
    let result = match cpu.meter(module.pre.instantiate_async(&mut store)).await {
        Ok(instance) => cpu.meter(instance.call_run(&mut store, &input)).await.map(|_| ()),
        Err(e) => Err(e),
    };
    Ok((store.into_data(), result))
}
