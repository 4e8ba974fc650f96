//! Compatibility of a run with a candidate version: replay the run's
//! recorded history on the candidate module (through the engine, without
//! touching the journal) and say whether it takes the same path or where
//! it first diverges. Also which runs a check covers.

use std::sync::Arc;

use crate::engine::{replay_only, ReplayOnlyEnd};
use crate::instance::Instance;
use crate::journal::{RunKey, RunRecord};
use crate::modules::WorkflowModule;
use crate::Error;

pub use crate::engine::replay::Drift;

/// The result of replaying one run's history on a candidate module.
#[derive(Debug, Clone, PartialEq)]
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

/// One run's compatibility check, with the history it covered.
pub(crate) struct RunCheck {
    /// The run as it was read before the check.
    pub run: RunRecord,
    /// The verdict.
    pub verdict: ReplayVerdict,
    /// The last journal `seq` replayed (0: an empty journal).
    pub last_seq: i64,
}

/// Replays one run's current history on `candidate`.
pub(crate) async fn check_run(inst: &Instance, candidate: &Arc<WorkflowModule>, run: RunRecord) -> Result<RunCheck, Error> {
    let history = crate::journal::load_history(inst.journal(), &run.key).await?;
    let last_seq = history.events.last().map(|e| e.seq).unwrap_or(0);
    let verdict = match replay_only(inst.shared.run_env(), candidate.clone(), &run, &history.events).await {
        ReplayOnlyEnd::Matched => ReplayVerdict::Compatible { events: history.events.len() },
        ReplayOnlyEnd::Drifted(d) => ReplayVerdict::Incompatible(d),
        ReplayOnlyEnd::Failed(m) => ReplayVerdict::Failed(m),
    };
    Ok(RunCheck { run, verdict, last_seq })
}

/// The workflow checked and the runs to check: the runs named (each must
/// exist and be a run of the workflow, given or taken from the first run),
/// or, with none named, every unfinished run of `workflow`.
pub(crate) async fn runs_to_check(
    inst: &Instance,
    workflow: Option<&str>,
    runs: &[String],
) -> Result<(String, Vec<RunRecord>), Error> {
    if runs.is_empty() {
        let workflow = workflow.ok_or(Error::NothingToReplay)?;
        let mut out = Vec::new();
        for run in inst.journal().list_runs(inst.name(), i64::MAX).await? {
            if run.workflow == workflow && !run.state.is_final() {
                out.push(run);
            }
        }
        return Ok((workflow.to_string(), out));
    }
    let mut expected = workflow.map(str::to_string);
    let mut out = Vec::new();
    for id in runs {
        let key = RunKey::new(inst.name(), id.clone());
        let run = inst.journal().get_run(&key).await?.ok_or_else(|| Error::UnknownRun {
            instance: key.instance.clone(),
            run_id: key.run_id.clone(),
        })?;
        let want = expected.get_or_insert_with(|| run.workflow.clone());
        if *want != run.workflow {
            return Err(Error::WorkflowMismatch {
                instance: key.instance,
                run_id: key.run_id,
                found: run.workflow,
                expected: want.clone(),
            });
        }
        out.push(run);
    }
    Ok((expected.unwrap_or_default(), out))
}
