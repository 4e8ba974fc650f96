//! Answering a query: the run's journal is replayed read-only into a fresh
//! guest (like a replay check: nothing journaled, no lease, nothing
//! written, nothing executed beyond the journal) until the guest reaches
//! the point where the recorded run is and asks `pending-query` there; its
//! handler's answer is the query's. What the guest starts beyond the
//! journal is neither recorded nor executed.

use std::sync::Arc;

use serde_json::Value;
use crate::journal::{Event, RunRecord};
use crate::modules::WorkflowModule;

use super::interrupt::Interrupt;
use super::query_imports::{QueryAnswer, QueryExec};
use super::replay_only::execute_read_only;
use super::run_ctx::{RunCtx, RunEnv};

/// How a query execution ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum QueryEnd {
    /// The workflow answered (or said it has no such query, or its
    /// handler failed).
    Answered(QueryAnswer),
    /// The guest reached the recorded run's point (or returned) without
    /// asking for a query: it does not answer queries.
    Unsupported,
    /// The replay failed (a trap, a drift).
    Failed(String),
}

/// Executes the query `name(args)` against `run`, whose journal is `events`,
/// on its module.
pub(crate) async fn query_replay(
    env: RunEnv,
    module: Arc<WorkflowModule>,
    run: &RunRecord,
    events: &[Event],
    name: &str,
    args: Value,
) -> QueryEnd {
    let prepare = |ctx: &mut RunCtx| {
        ctx.query = Some(QueryExec::new(name.to_string(), args));
        ctx.has_parent = run.parent_run_id.is_some();
        ctx.chain_root = run.chain_root().to_string();
        ctx.chain_seq = run.chain_seq;
    };
    let (ctx, result) = match execute_read_only(env, &module, run, events, "query", prepare).await {
        Ok(done) => done,
        Err(e) => return QueryEnd::Failed(e),
    };
    if let Some(answer) = ctx.query.as_ref().and_then(|q| q.answer.clone()) {
        return QueryEnd::Answered(answer);
    }
    match result {
        Ok(_) => QueryEnd::Unsupported,
        Err(e) if e.downcast_ref::<wasmtime_wasi::I32Exit>().is_some() => QueryEnd::Unsupported,
        Err(e) => match e.downcast::<Interrupt>() {
            Ok(Interrupt::ReplayEnd) => QueryEnd::Unsupported,
            Ok(other) => QueryEnd::Failed(other.to_string()),
            Err(trap) => QueryEnd::Failed(match &ctx.last_panic {
                Some(p) => format!("{p} ({trap:#})"),
                None => format!("the workflow trapped: {trap:#}"),
            }),
        },
    }
}
