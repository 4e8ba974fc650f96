//! Hot deploy and replay checks through the facade: make a new module
//! version current without a restart, check it against recorded histories
//! first, and migrate runs to it.

use std::path::Path;

use crate::engine::{check_replay, ReplayVerdict};
use crate::journal::{RunKey, RunRecord};
use crate::{CallOptions, Continuum, Error};

/// Which unfinished runs a deploy moves to the new version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Migrate {
    /// None: runs in flight finish on the version they started on.
    #[default]
    None,
    /// Every unfinished run of the workflow.
    All,
    /// These runs.
    Runs(Vec<String>),
}

/// Options of [`Continuum::deploy`].
#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    /// The instance (default instance when `None`).
    pub instance: Option<String>,
    /// Runs to migrate to the new version.
    pub migrate: Migrate,
    /// Replay the runs to migrate on the new version first, and refuse the
    /// deploy if any would diverge.
    pub check: bool,
}

/// What a deploy did.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployReport {
    /// The new current version.
    pub hash: String,
    /// Runs moved to it.
    pub migrated: u64,
    /// The replay check of each run to migrate (empty without `check`).
    pub checks: Vec<(String, ReplayVerdict)>,
}

impl Continuum {
    /// Replays the recorded histories of `runs` (default: every unfinished
    /// run of `workflow`) on the component at `module`, reporting per run
    /// whether it is compatible or where it first diverges.
    pub async fn replay(
        &self,
        workflow: &str,
        module: &Path,
        runs: &[String],
        opts: CallOptions,
    ) -> Result<Vec<(String, ReplayVerdict)>, Error> {
        let inst = self.instance(opts.instance.as_deref())?;
        let candidate = inst.modules().candidate(workflow, module)?;
        let mut out = Vec::new();
        for run in self.runs_to_check(workflow, runs, &opts).await? {
            let history = crate::journal::load_history(inst.journal(), &run.key).await?;
            let verdict = check_replay(inst.shared.run_env(), candidate.clone(), &run, &history.events).await;
            out.push((run.key.run_id.clone(), verdict));
        }
        Ok(out)
    }

    async fn runs_to_check(&self, workflow: &str, runs: &[String], opts: &CallOptions) -> Result<Vec<RunRecord>, Error> {
        let inst = self.instance(opts.instance.as_deref())?;
        let mut out = Vec::new();
        if runs.is_empty() {
            for run in inst.journal().list_runs(inst.name(), i64::MAX).await? {
                if run.workflow == workflow && !run.state.is_final() {
                    out.push(run);
                }
            }
        } else {
            for id in runs {
                let key = RunKey::new(inst.name(), id.clone());
                let run = inst.journal().get_run(&key).await?.ok_or_else(|| Error::UnknownRun {
                    instance: key.instance.clone(),
                    run_id: key.run_id.clone(),
                })?;
                out.push(run);
            }
        }
        Ok(out)
    }

    /// Makes the component at `module` the current version of `workflow`
    /// on every host sharing the instance's database, without a restart;
    /// runs in flight keep their version unless migrated. With
    /// `check`, the runs to migrate are replayed on the new version first
    /// and the deploy is refused ([`Error::DeployRefused`]) if any diverges.
    pub async fn deploy(&self, workflow: &str, module: &Path, opts: DeployOptions) -> Result<DeployReport, Error> {
        let call = CallOptions { instance: opts.instance.clone() };
        let inst = self.instance(opts.instance.as_deref())?;
        let to_migrate: Vec<String> = match &opts.migrate {
            Migrate::None => Vec::new(),
            Migrate::All => Vec::new(),
            Migrate::Runs(ids) => ids.clone(),
        };
        let mut checks = Vec::new();
        if opts.check && opts.migrate != Migrate::None {
            checks = self.replay(workflow, module, &to_migrate, call.clone()).await?;
            let broken: Vec<String> = checks
                .iter()
                .filter(|(_, v)| !v.is_compatible())
                .map(|(id, v)| format!("run {id}: {v}"))
                .collect();
            if !broken.is_empty() {
                return Err(Error::DeployRefused { workflow: workflow.to_string(), reasons: broken.join("; ") });
            }
        }
        let hash = inst.modules().deploy(workflow, module).await?;
        let migrated = match &opts.migrate {
            Migrate::None => 0,
            _ => inst.journal().migrate_runs(inst.name(), workflow, &to_migrate, &hash).await?,
        };
        if migrated > 0 {
            tracing::info!(instance = %inst.name(), workflow, hash = %hash, migrated, "runs migrated to the new version");
        }
        Ok(DeployReport { hash, migrated, checks })
    }
}
