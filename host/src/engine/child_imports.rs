//! The `children` interface of the WIT contract, implemented on
//! [`RunCtx`]: starting a child workflow (journaled as `child_started`;
//! the child's run is created in the transaction that commits it), the
//! child's outcome once it has ended (journaled as `child_completed` or
//! `child_failed` when the parent takes it in), and the typed failure and
//! run id of a child's handle (read from the history: nothing new is
//! journaled for them).

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::input_limits::{self, MAX_RUN_ID_CHARS};
use crate::journal::{
    ChildFailure, ChildFailureKind, ChildOptions, EventBody, NewChild, NewRun, ParentClose, RunKey, RunRecord, RunState,
};
use crate::telemetry;

use super::bindings::workflow::continuum::workflow::children;
use super::interrupt::Interrupt;
use super::replay::{Command, Replayed};
use super::run_ctx::{LiveOp, RunCtx};

type HostResult<T> = wasmtime::Result<T>;

/// The run id of the child a parent's operation `op` starts when the
/// workflow names none: the same on every replay, unique per parent and
/// operation (`<parent>-child-<op>`, or a digest of the parent's id when
/// that would be too long).
pub(crate) fn default_child_run_id(parent: &str, op: u32) -> String {
    let id = format!("{parent}-child-{op}");
    if id.chars().count() <= MAX_RUN_ID_CHARS {
        return id;
    }
    format!("{}-child-{op}", hex::encode(Sha256::digest(parent.as_bytes())))
}

fn to_options(o: children::ChildOptions) -> ChildOptions {
    ChildOptions {
        run_id: o.run_id,
        parent_close: match o.parent_close {
            children::ParentClosePolicy::Cancel => ParentClose::Cancel,
            children::ParentClosePolicy::Terminate => ParentClose::Terminate,
            children::ParentClosePolicy::Abandon => ParentClose::Abandon,
        },
        instance: o.instance,
    }
}

fn to_wit_failure(f: &ChildFailure) -> children::ChildFailure {
    children::ChildFailure {
        kind: match f.kind {
            ChildFailureKind::Failed => children::ChildFailureKind::Failed,
            ChildFailureKind::Cancelled => children::ChildFailureKind::Cancelled,
            ChildFailureKind::Terminated => children::ChildFailureKind::Terminated,
            ChildFailureKind::UnknownWorkflow => children::ChildFailureKind::UnknownWorkflow,
            _ => children::ChildFailureKind::Refused,
        },
        code: f.code.clone(),
        message: f.message.clone(),
    }
}

/// The completion event of operation `op` for its child `run`, which
/// has ended.
fn child_ended(op: u32, run: &RunRecord) -> EventBody {
    let field = |name: &str| run.error.as_ref().and_then(|e| e.get(name)).and_then(Value::as_str).map(str::to_string);
    let code = field("code");
    let message = field("message").unwrap_or_else(|| format!("the child run ended {}", run.state));
    let kind = match run.state {
        RunState::Completed => {
            return EventBody::ChildCompleted { op, output: run.output.clone().unwrap_or(Value::Null) };
        }
        RunState::Cancelled if code.as_deref() == Some("terminated") => ChildFailureKind::Terminated,
        RunState::Cancelled => ChildFailureKind::Cancelled,
        _ => ChildFailureKind::Failed,
    };
    EventBody::ChildFailed { op, failure: ChildFailure { kind, code, message } }
}

impl RunCtx {
    /// Why a child cannot be started, if it cannot: its failure (no run
    /// is created then).
    fn child_refusal(&self, op: u32, workflow: &str, input: &Value, run_id: &str, options: &ChildOptions) -> Option<ChildFailure> {
        let refused = |message: String| Some(ChildFailure::new(ChildFailureKind::Refused, message));
        if let Some(other) = options.instance.as_deref().filter(|i| *i != &*self.env.instance) {
            return refused(format!(
                "a child runs in its parent's instance `{}`; instance `{other}` was asked for",
                self.env.instance
            ));
        }
        if let Err(e) = input_limits::check_run_id(run_id) {
            return refused(format!("the child's run id is not valid: {e}"));
        }
        if run_id == self.key.run_id {
            return refused(format!("the child's run id `{run_id}` is its parent's"));
        }
        if let Some(earlier) = (0..op).find(|o| self.history.child_run_id(*o) == Some(run_id)) {
            return refused(format!("operation {earlier} of this run started a child under run id `{run_id}` already"));
        }
        if let Err(e) = input_limits::check_payload("input", input) {
            return refused(format!("the child's input is refused: {e}"));
        }
        if self.env.modules.current_hash(workflow).is_none() {
            return Some(ChildFailure::new(
                ChildFailureKind::UnknownWorkflow,
                format!(
                    "no workflow `{workflow}` is deployed in instance `{}` (known: {})",
                    self.env.instance,
                    self.env.modules.names()
                ),
            ));
        }
        None
    }

    /// Starts a child (`start-child`): journals it live, with the child's
    /// run to create in the same commit, or takes its recorded start on
    /// replay.
    async fn start_child(&mut self, workflow: String, input: Vec<u8>, options: ChildOptions) -> HostResult<u32> {
        let input: Value =
            RunCtx::decode(&format!("the input of child workflow `{workflow}`"), &input).map_err(Interrupt::trap)?;
        let (op, replayed) = self.command(Command::Child { workflow: workflow.clone() }).map_err(Interrupt::trap)?;
        if let Replayed::Recorded(EventBody::ChildStarted { run_id, .. }) = replayed {
            self.ops.insert(op, LiveOp::Child { run_id });
            return Ok(op);
        }
        let run_id = options.run_id.clone().unwrap_or_else(|| default_child_run_id(&self.key.run_id, op));
        let refusal = self.child_refusal(op, &workflow, &input, &run_id, &options);
        let hash = self.env.modules.current_hash(&workflow);
        self.append(EventBody::ChildStarted {
            op,
            workflow: workflow.clone(),
            run_id: run_id.clone(),
            input: input.clone(),
            options: options.clone(),
        });
        match (refusal, hash) {
            (None, Some(module_hash)) => {
                tracing::info!(op, child_run_id = %run_id, child_workflow = %workflow, "child workflow started");
                self.pending.children.push(NewChild {
                    run: NewRun {
                        key: RunKey::new(self.key.instance.clone(), run_id.clone()),
                        workflow,
                        module_hash,
                        input,
                        trace_context: telemetry::current_traceparent(),
                    },
                    parent_op: op,
                    parent_close: options.parent_close,
                });
            }
            (refusal, _) => {
                let failure = refusal.unwrap_or_else(|| ChildFailure::new(ChildFailureKind::UnknownWorkflow, "unknown workflow"));
                tracing::warn!(op, child_run_id = %run_id, child_workflow = %workflow, reason = %failure.message, "child workflow not started");
                self.append(EventBody::ChildFailed { op, failure });
            }
        }
        self.ops.insert(op, LiveOp::Child { run_id });
        Ok(op)
    }

    /// The completion of child operation `op` (run `run_id`), live: its
    /// event once the child has ended; `None` while it runs (or its run
    /// is not committed yet).
    pub(super) async fn child_outcome(&mut self, op: u32, run_id: &str) -> Result<Option<EventBody>, Interrupt> {
        let key = RunKey::new(self.key.instance.clone(), run_id);
        let Some(mut run) = self.env.journal.get_run(&key).await? else {
            return Ok(None);
        };
        // A child that continued as new ends with the end of its chain.
        while run.state == RunState::Continued {
            let Some(next) = run.continued_to.clone() else { break };
            match self.env.journal.get_run(&RunKey::new(self.key.instance.clone(), next)).await? {
                Some(r) => run = r,
                None => return Ok(None),
            }
        }
        if run.parent_run_id.as_deref() != Some(self.key.run_id.as_str()) {
            // The id was taken by a run that is not this one's child.
            let message = format!("run id `{run_id}` belongs to another run of the instance, not to a child of this one");
            return Ok(Some(EventBody::ChildFailed { op, failure: ChildFailure::new(ChildFailureKind::Refused, message) }));
        }
        if !run.state.is_final() {
            return Ok(None);
        }
        let body = child_ended(op, &run);
        tracing::info!(op, child_run_id = %run_id, child_state = %run.state, "child workflow ended");
        Ok(Some(body))
    }
}

impl children::Host for RunCtx {
    async fn start_child(
        &mut self,
        workflow: String,
        input: Vec<u8>,
        options: children::ChildOptions,
    ) -> HostResult<u32> {
        RunCtx::start_child(self, workflow, input, to_options(options)).await
    }

    async fn child_failure_of(&mut self, op: u32) -> HostResult<Option<children::ChildFailure>> {
        Ok(self.history.child_failure(op).map(to_wit_failure))
    }

    async fn child_run_id(&mut self, op: u32) -> HostResult<Option<String>> {
        Ok(self.history.child_run_id(op).map(str::to_string))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_run_id_is_derived_from_the_parent_and_the_operation() {
        assert_eq!(default_child_run_id("order-7", 3), "order-7-child-3");
        assert_eq!(default_child_run_id("order-7", 3), default_child_run_id("order-7", 3));
        let long = "x".repeat(MAX_RUN_ID_CHARS);
        let id = default_child_run_id(&long, 12);
        assert!(id.chars().count() <= MAX_RUN_ID_CHARS, "{id}");
        assert_ne!(id, default_child_run_id(&"y".repeat(MAX_RUN_ID_CHARS), 12));
    }
}
