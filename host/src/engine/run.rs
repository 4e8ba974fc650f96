//! One execution attempt of a run, under a lease: load the journal, replay
//! it into a fresh guest, let the guest go on live, and commit how it ended
//! (completed, failed, suspended, cancelled, continued or drifted).

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::watch;
use tracing::Instrument;
use wasmtime::Store;

use crate::journal::{EventBody, Lease, RunRecord, Transition};
use crate::modules::WorkflowModule;
use crate::run_error::RunError;
use crate::telemetry;

use super::interrupt::Interrupt;
use super::lease_clock::LeaseClock;
use super::replay::History;
use super::run_ctx::{LiveOp, RunCtx, RunEnv, TERMINATED_ON_REQUEST};
use super::StopRequest;
use super::run_limits;

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptOutcome {
    /// The workflow returned an output.
    Completed(Value),
    /// The workflow returned an error or trapped; the run failed with it.
    Failed(Value),
    /// The run waits for something; its state is committed.
    Suspended {
        /// Journal entries not covered by the run's snapshot.
        since_snapshot: i64,
    },
    /// The run was cancelled.
    Cancelled,
    /// The workflow continued as new: the run ended `continued`, and the
    /// next run of its chain (this id) was created.
    Continued(String),
    /// The journal no longer matches the module.
    Drifted(Value),
    /// Another engine took the lease; nothing more was written.
    LeaseLost,
    /// The journal failed; the run stays with its lease until it expires
    /// and is then recovered.
    Aborted(String),
    /// The instance's memory budget had no room for the activation: the
    /// run is released, due again 0.5 to 1 s later, with
    /// nothing of this activation committed.
    Deferred(String),
}

/// Executes one attempt of `run` on `module` under `lease`; `lease_clock`
/// says until when this process may count on the lease (renewed by the
/// heartbeater): no activity starts here once it has run out.
pub async fn execute_attempt(
    env: RunEnv,
    module: Arc<WorkflowModule>,
    run: RunRecord,
    lease: Lease,
    lease_clock: LeaseClock,
    stop: watch::Receiver<StopRequest>,
    pause: super::PauseFlag,
) -> AttemptOutcome {
    let span = telemetry::run_attempt_span(&env.instance, &run.key.run_id, &run.workflow, run.trace_context.as_deref());
    let labels = telemetry::metrics::enabled().then(|| (env.instance.clone(), run.workflow.clone(), run.created_at));
    let outcome = attempt(env, module, run, lease, lease_clock, stop, pause).instrument(span.clone()).await;
    let ended = match &outcome {
        AttemptOutcome::Completed(_) => Some("completed"),
        AttemptOutcome::Failed(_) => Some("failed"),
        AttemptOutcome::Cancelled => Some("cancelled"),
        AttemptOutcome::Drifted(_) => Some("drifted"),
        AttemptOutcome::Continued(_) => Some("continued"),
        _ => None,
    };
    if let Some(ended) = ended {
        if ended != "completed" && ended != "continued" {
            telemetry::mark_error(&span, ended);
        }
        if let Some((instance, workflow, created_at)) = labels {
            let elapsed = (chrono::Utc::now() - created_at).to_std().unwrap_or_default();
            telemetry::metrics::run_finished(&instance, &workflow, ended, elapsed);
        }
    }
    outcome
}

async fn attempt(
    env: RunEnv,
    module: Arc<WorkflowModule>,
    run: RunRecord,
    lease: Lease,
    lease_clock: LeaseClock,
    stop: watch::Receiver<StopRequest>,
    pause: super::PauseFlag,
) -> AttemptOutcome {
    // Token 1 is the run's first lease ever, and nothing is journaled
    // without a lease: the journal is empty, no need to read it.
    let (events, snapshot_upto) = if lease.token == 1 {
        (Vec::new(), 0)
    } else {
        match crate::journal::load_history(&env.journal, &run.key).await {
            Ok(h) => (h.events, h.snapshot_upto),
            Err(e) => return AttemptOutcome::Aborted(e.to_string()),
        }
    };
    let history = History::new(&events);
    let first = history.is_empty();
    let mut ctx = RunCtx::new(env.clone(), run.key.clone(), run.workflow.clone(), lease, run.wake_gen, history, stop);
    ctx.lease_clock = lease_clock;
    ctx.pause = pause;
    ctx.cancel_recorded = run.graceful_cancel_at.is_some();
    ctx.has_parent = run.parent_run_id.is_some();
    ctx.chain_root = run.chain_root().to_string();
    ctx.chain_seq = run.chain_seq;
    if run.cancel_requested_at.is_some() {
        return finish(&mut ctx, Interrupt::Terminated(TERMINATED_ON_REQUEST.into()), snapshot_upto).await;
    }
    if first {
        ctx.append(EventBody::RunStarted { module_hash: module.hash.clone() });
        tracing::info!("run started");
        telemetry::metrics::run_started(&env.instance, &run.workflow);
    } else {
        tracing::info!(events = events.len(), "run resumed (replaying)");
    }
    let input = match serde_json::to_vec(&run.input) {
        Ok(b) => b,
        Err(e) => return AttemptOutcome::Aborted(format!("cannot encode the input: {e}")),
    };
    let mut store = Store::new(&module.pre.engine().clone(), ctx);
    let cpu = run_limits::guard(&mut store);
    let t0 = std::time::Instant::now();
    let result = match cpu.meter(module.pre.instantiate_async(&mut store)).await {
        Ok(instance) => {
            tracing::debug!(micros = t0.elapsed().as_micros() as u64, "guest instantiated");
            cpu.meter(instance.call_run(&mut store, &input)).await
        }
        Err(e) => Err(e),
    };
    tracing::debug!(cpu_micros = cpu.used().as_micros() as u64, "guest stopped");
    let mut ctx = store.into_data();
    abort_eager(&mut ctx);
    match result {
        // A workflow told of its cancellation ends cancelled once it has
        // cleaned up, whatever it returns.
        Ok(result) if ctx.history.cancel_deadline_ms().is_some() => match ctx.history.finish() {
            Ok(()) => {
                let how = match result {
                    Ok(_) => "returned",
                    Err(_) => "returned an error",
                };
                tracing::info!(how, "the workflow cleaned up after its cancellation");
                let error = RunError::cancelled().into_value();
                ctx.append(EventBody::RunCancelled { reason: format!("cancelled on request; the workflow cleaned up and {how}") });
                commit_final(&mut ctx, Transition::Cancel { error }, AttemptOutcome::Cancelled).await
            }
            Err(drift) => finish(&mut ctx, Interrupt::Drift(drift), snapshot_upto).await,
        },
        // A workflow that continued as new ends `continued` once it
        // returns, whatever it returns; the next run is created with that
        // commit.
        Ok(_) if ctx.continuation.is_some() => match ctx.history.finish() {
            Ok(()) => match ctx.continuation_transition() {
                Some((next, transition)) => commit_final(&mut ctx, transition, AttemptOutcome::Continued(next)).await,
                None => AttemptOutcome::Aborted("the continuation was lost".into()),
            },
            Err(drift) => finish(&mut ctx, Interrupt::Drift(drift), snapshot_upto).await,
        },
        Ok(Ok(output)) => match serde_json::from_slice::<Value>(&output) {
            Ok(output) => match ctx.history.finish() {
                Ok(()) => {
                    ctx.append(EventBody::RunCompleted { output: output.clone() });
                    commit_final(&mut ctx, Transition::Complete { output: output.clone() }, AttemptOutcome::Completed(output)).await
                }
                Err(drift) => finish(&mut ctx, Interrupt::Drift(drift), snapshot_upto).await,
            },
            Err(e) => fail(&mut ctx, RunError::bad_output(e)).await,
        },
        Ok(Err(werr)) => fail(&mut ctx, RunError::new(werr.code, werr.message)).await,
        Err(err) => match err.downcast::<Interrupt>() {
            Ok(interrupt) => finish(&mut ctx, interrupt, snapshot_upto).await,
            Err(trap) if ctx.memory.budget_refused() && ctx.memory.exceeded().is_none() => {
                tracing::debug!(error = %format!("{trap:#}"), "guest stopped at the instance's memory budget");
                let limit_mb = ctx.env.budget.limit() >> 20;
                tracing::warn!(limit_mb, "activation deferred: the instance's guest memory budget (`run_supervisor.max_guests_memory_mb`) is spent");
                AttemptOutcome::Deferred(format!("the instance's guest memory budget of {limit_mb} MiB is spent"))
            }
            Err(trap) if ctx.memory.exceeded().is_some() => {
                let error = RunError::memory_limit(ctx.memory.limit(), ctx.memory.exceeded().unwrap_or_default());
                tracing::debug!(error = %format!("{trap:#}"), "guest stopped at its memory limit");
                fail(&mut ctx, error).await
            }
            Err(trap) => {
                if let Some(error) = run_limits::store_limit(&trap, ctx.env.limits.store_shape) {
                    return fail(&mut ctx, error).await;
                }
                if let Some(exit) = trap.downcast_ref::<wasmtime_wasi::I32Exit>() {
                    // The guest ended its run itself: like returning, it
                    // must have replayed everything recorded.
                    return match ctx.history.finish() {
                        Ok(()) => fail(&mut ctx, RunError::exited(exit.0)).await,
                        Err(drift) => finish(&mut ctx, Interrupt::Drift(drift), snapshot_upto).await,
                    };
                }
                let mut message = format!("the workflow trapped: {trap:#}");
                if let Some(panic) = &ctx.last_panic {
                    message = format!("{panic} ({message})");
                }
                fail(&mut ctx, RunError::trap(message)).await
            }
        },
    }
}

/// Activities still running here are of no use once the guest is gone:
/// they are stopped, except when the run was cancelled. Those see the
/// cancellation themselves (the executor watches the same flag) and get
/// the activity supervisor's grace period to return.
fn abort_eager(ctx: &mut RunCtx) {
    let terminated = *ctx.stop.borrow() == StopRequest::Terminate;
    if terminated {
        ctx.activity_cancel.send_replace(true);
    }
    for live in ctx.ops.values_mut() {
        if let LiveOp::EagerActivity(Some(h), _) = live {
            if !terminated {
                h.abort();
            }
        }
    }
}

async fn fail(ctx: &mut RunCtx, error: RunError) -> AttemptOutcome {
    let error = error.into_value();
    ctx.append(EventBody::RunFailed { error: error.clone() });
    commit_final(ctx, Transition::Fail { error: error.clone() }, AttemptOutcome::Failed(error)).await
}

async fn finish(ctx: &mut RunCtx, interrupt: Interrupt, snapshot_upto: i64) -> AttemptOutcome {
    match interrupt {
        Interrupt::Suspended => {
            tracing::info!("run suspended");
            lease_released(ctx, "suspended");
            AttemptOutcome::Suspended { since_snapshot: ctx.history.last_seq() - snapshot_upto }
        }
        Interrupt::Terminated(reason) => {
            tracing::info!(%reason, "run terminated");
            let error = RunError::terminated(&reason).into_value();
            ctx.append(EventBody::RunCancelled { reason });
            commit_final(ctx, Transition::Cancel { error }, AttemptOutcome::Cancelled).await
        }
        Interrupt::Drift(drift) => {
            tracing::error!(seq = drift.seq, expected = %drift.expected, found = %drift.found, "replay drift");
            // Nothing the drifted guest appended is kept: the journal stays
            // as it was recorded.
            ctx.pending.events.clear();
            ctx.pending.tasks.clear();
            ctx.pending.consumed_signals.clear();
            ctx.pending.children.clear();
            let error = RunError::replay_drift(&drift).into_value();
            commit_final(ctx, Transition::Drift { error: error.clone() }, AttemptOutcome::Drifted(error)).await
        }
        Interrupt::LeaseLost => {
            tracing::warn!("lease lost; the run is left to its new owner");
            AttemptOutcome::LeaseLost
        }
        Interrupt::Journal(e) => {
            tracing::error!(error = %e, "journal failure; the run will be recovered");
            AttemptOutcome::Aborted(e.to_string())
        }
        Interrupt::ReplayEnd => AttemptOutcome::Aborted("a replay check ended inside a live run".into()),
        deferred @ Interrupt::MemoryDeferred { .. } => {
            tracing::warn!(error = %deferred, "activation deferred: the instance's guest memory budget (`run_supervisor.max_guests_memory_mb`) is spent");
            AttemptOutcome::Deferred(deferred.to_string())
        }
        Interrupt::Contract(message) => fail(ctx, RunError::contract_violation(message)).await,
        Interrupt::Failed(error) => fail(ctx, error).await,
        Interrupt::CpuLimit(limit) => fail(ctx, RunError::cpu_limit(limit)).await,
        Interrupt::JournalLimit(limit) => {
            fail(ctx, RunError::history_limit(limit.key(), limit.value(), limit.to_string())).await
        }
    }
}

async fn commit_final(ctx: &mut RunCtx, transition: Transition, outcome: AttemptOutcome) -> AttemptOutcome {
    match ctx.flush(Some(transition)).await {
        Ok(()) => {
            match &outcome {
                AttemptOutcome::Completed(_) => tracing::info!("run completed"),
                AttemptOutcome::Failed(e) => tracing::warn!(error = %e, "run failed"),
                AttemptOutcome::Cancelled => tracing::info!("run cancelled"),
                AttemptOutcome::Drifted(_) => tracing::error!("run stopped: replay drift"),
                AttemptOutcome::Continued(next) => tracing::info!(next_run_id = %next, "run continued as new"),
                _ => {}
            }
            lease_released(ctx, outcome_name(&outcome));
            outcome
        }
        Err(Interrupt::LeaseLost) => {
            tracing::warn!("lease lost before the run's end could be committed");
            AttemptOutcome::LeaseLost
        }
        Err(e) => AttemptOutcome::Aborted(e.to_string()),
    }
}

/// The committed transition gave the run's lease up (inside the attempt's
/// span: the event carries the run's fields).
fn lease_released(ctx: &RunCtx, reason: &str) {
    tracing::debug!(owner = %ctx.lease.owner, token = ctx.lease.token, reason, "lease released");
}

fn outcome_name(outcome: &AttemptOutcome) -> &'static str {
    match outcome {
        AttemptOutcome::Completed(_) => "completed",
        AttemptOutcome::Failed(_) => "failed",
        AttemptOutcome::Cancelled => "cancelled",
        AttemptOutcome::Drifted(_) => "drifted",
        AttemptOutcome::Continued(_) => "continued",
        AttemptOutcome::Suspended { .. } => "suspended",
        AttemptOutcome::LeaseLost => "lease lost",
        AttemptOutcome::Aborted(_) => "aborted",
        AttemptOutcome::Deferred(_) => "deferred",
    }
}
