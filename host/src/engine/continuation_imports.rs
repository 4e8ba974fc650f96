//! The `continuation` interface of the WIT contract, implemented on
//! [`RunCtx`]: `continue-as-new` checks the next run's input and version
//! and keeps them; nothing is written until the workflow returns. Then the
//! run ends `continued` and the next run of its chain is created in that
//! same fenced commit (see [`RunCtx::continuation_transition`]): a crash before
//! it leaves the run going (it replays and continues again), a crash after
//! it leaves both done.

use serde_json::Value;

use crate::input_limits;
use crate::journal::{continuation_run_id, Continuation, EventBody, NewRun, RunKey, Transition};
use crate::run_error::RunError;
use crate::telemetry;

use super::bindings::workflow::continuum::workflow::continuation;
use super::interrupt::Interrupt;
use super::run_ctx::RunCtx;

type HostResult<T> = wasmtime::Result<T>;

/// The error code of a continue-as-new the host refuses (input that is
/// not JSON or too large, a version that is not the workflow's, an id
/// that is taken): the run fails with it and no run is created.
pub(crate) const INVALID_CONTINUATION: &str = "invalid_continuation";

fn refused(message: String) -> wasmtime::Error {
    Interrupt::Failed(RunError::new(INVALID_CONTINUATION, message)).trap()
}

impl RunCtx {
    /// `continue-as-new`: checks the input and the version and keeps the
    /// next run to create when the workflow returns.
    async fn continue_as_new(&mut self, input: Vec<u8>, version: Option<String>) -> HostResult<()> {
        self.check_cancel().map_err(Interrupt::trap)?;
        if self.continuation.is_some() {
            return Err(Interrupt::Contract("continue-as-new was called twice in one run".into()).trap());
        }
        let input: Value = serde_json::from_slice(&input)
            .map_err(|e| refused(format!("the input of continue-as-new is not valid JSON: {e}")))?;
        let seq = self.chain_seq.saturating_add(1);
        let run_id = continuation_run_id(&self.chain_root, seq);
        if self.check_only {
            // A replay check: nothing is created; the run ended here.
            self.continuation = Some(self.next_run(run_id, input, String::new(), seq));
            return Ok(());
        }
        if let Err(e) = input_limits::check_payload("input", &input) {
            return Err(refused(format!("the input of continue-as-new is refused: {e}")));
        }
        let module_hash = match version {
            None => self.env.modules.current_hash(&self.workflow).ok_or_else(|| {
                refused(format!("workflow `{}` has no deployed version to continue on", self.workflow))
            })?,
            Some(hash) => {
                let stored = self.env.journal.get_module(&self.env.instance, &hash).await.map_err(|e| Interrupt::Journal(e).trap())?;
                match stored {
                    Some(m) if m.workflow == self.workflow => hash,
                    Some(m) => {
                        return Err(refused(format!(
                            "version `{hash}` is a version of workflow `{}`, not of `{}`",
                            m.workflow, self.workflow
                        )))
                    }
                    None => {
                        return Err(refused(format!(
                            "no version `{hash}` of workflow `{}` is stored in instance `{}` (see `continuum versions`)",
                            self.workflow, self.env.instance
                        )))
                    }
                }
            }
        };
        let key = RunKey::new(self.key.instance.clone(), run_id.clone());
        if self.env.journal.get_run(&key).await.map_err(|e| Interrupt::Journal(e).trap())?.is_some() {
            return Err(refused(format!("the next run's id `{run_id}` is taken by a run that is not of this chain")));
        }
        tracing::info!(next_run_id = %run_id, module_hash = %module_hash, chain_seq = seq, "workflow continues as new");
        self.continuation = Some(self.next_run(run_id, input, module_hash, seq));
        Ok(())
    }

    fn next_run(&self, run_id: String, input: Value, module_hash: String, seq: i64) -> Continuation {
        Continuation {
            run: NewRun {
                key: RunKey::new(self.key.instance.clone(), run_id),
                workflow: self.workflow.clone(),
                module_hash,
                input,
                trace_context: telemetry::current_traceparent(),
            },
            chain_root: self.chain_root.clone(),
            chain_seq: seq,
        }
    }

    /// Once the workflow returned after `continue-as-new`: appends its
    /// event and gives the transition that ends the run `continued` and
    /// creates the next one (`None` when it did not continue).
    pub(super) fn continuation_transition(&mut self) -> Option<(String, Transition)> {
        let next = self.continuation.take()?;
        let run_id = next.run.key.run_id.clone();
        self.append(EventBody::ContinuedAsNew {
            run_id: run_id.clone(),
            input: next.run.input.clone(),
            module_hash: next.run.module_hash.clone(),
        });
        Some((run_id, Transition::Continue { next }))
    }

    /// Refuses a host call made after `continue-as-new` (`what`: names
    /// the call).
    pub(super) fn check_not_continued(&self, what: impl FnOnce() -> String) -> Result<(), Interrupt> {
        match &self.continuation {
            Some(_) => Err(Interrupt::Contract(format!(
                "the workflow called {} after continue-as-new; it must return right after continuing",
                what()
            ))),
            None => Ok(()),
        }
    }
}

impl continuation::Host for RunCtx {
    async fn continue_as_new(&mut self, input: Vec<u8>, version: Option<String>) -> HostResult<()> {
        RunCtx::continue_as_new(self, input, version).await
    }
}
