//! The `replay` verb of the facade: check recorded histories against a
//! candidate module and report, per run, whether it is compatible or where
//! it first diverges. Nothing is deployed or written.

use std::path::Path;

use super::compatibility::{check_run, runs_to_check, ReplayVerdict};
use crate::input_limits::{check_run_id, check_workflow_name};
use crate::{CallOptions, Continuum, Error};

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
        if let Some(workflow) = workflow {
            check_workflow_name(workflow)?;
        }
        for id in runs {
            check_run_id(id)?;
        }
        let inst = self.instance(opts.instance.as_deref())?;
        if let (Some(workflow), true) = (workflow, runs.is_empty()) {
            // Nothing to compare a candidate of a workflow the instance does not have with.
            if inst.current_version(workflow).is_none() {
                return Err(Error::UnknownWorkflow {
                    instance: inst.name().to_string(),
                    workflow: workflow.to_string(),
                    known: inst.modules().names(),
                });
            }
        }
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
