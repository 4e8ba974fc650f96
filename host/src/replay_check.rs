//! Replay checks through the facade: replay recorded histories on a
//! candidate module and report, per run, whether it is compatible or where
//! it first diverges.

use std::path::Path;

use crate::engine::{check_replay, ReplayVerdict};
use crate::instance::Instance;
use crate::journal::{RunKey, RunRecord};
use crate::{CallOptions, Continuum, Error};

/// One run's replay check, with the history it covered.
pub(crate) struct RunCheck {
    /// The run as it was read before the check.
    pub run: RunRecord,
    /// The verdict.
    pub verdict: ReplayVerdict,
    /// The last journal `seq` replayed (0: an empty journal).
    pub last_seq: i64,
}

impl Continuum {
    /// Replays the recorded histories of `runs` on the component at
    /// `module`, reporting per run whether it is compatible or where it
    /// first diverges. `workflow` names the workflow the module is a version
    /// of: without runs, every unfinished run of it is checked; with runs,
    /// each must be a run of it. Without `workflow`, it is taken from the
    /// runs (which must then be given, all of one workflow).
    pub async fn replay(
        &self,
        workflow: Option<&str>,
        module: &Path,
        runs: &[String],
        opts: CallOptions,
    ) -> Result<Vec<(String, ReplayVerdict)>, Error> {
        let inst = self.instance(opts.instance.as_deref())?;
        let (workflow, records) = runs_to_check(inst, workflow, runs).await?;
        let candidate = inst.modules().candidate(&workflow, module)?;
        let mut out = Vec::new();
        for run in records {
            let check = check_run(inst, &candidate, run).await?;
            out.push((check.run.key.run_id.clone(), check.verdict));
        }
        Ok(out)
    }
}

/// Replays one run's current history on `candidate`.
pub(crate) async fn check_run(
    inst: &Instance,
    candidate: &std::sync::Arc<crate::modules::WorkflowModule>,
    run: RunRecord,
) -> Result<RunCheck, Error> {
    let history = crate::journal::load_history(inst.journal(), &run.key).await?;
    let last_seq = history.events.last().map(|e| e.seq).unwrap_or(0);
    let verdict = check_replay(inst.shared.run_env(), candidate.clone(), &run, &history.events).await;
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
