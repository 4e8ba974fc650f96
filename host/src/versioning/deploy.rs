//! Hot deploy through the facade: make a new module version current
//! without a restart, after checking it against the recorded histories of
//! the runs to migrate, and migrate exactly those runs whose history is
//! still the one checked.

use std::path::Path;
use std::time::Duration;

use super::compatibility::{check_run, runs_to_check, ReplayVerdict, RunCheck};
use crate::input_limits::{check_run_id, check_workflow_name};
use crate::journal::{CheckedRun, MigrationOutcome, RunKey};
use crate::{Continuum, Error};

/// How many times a checked deploy re-checks the runs that recorded more
/// steps (or were executing) between their check and their migration.
const MIGRATION_ROUNDS: u32 = 6;
/// The wait before the first re-check of a run that was executing; doubled
/// each round.
const FIRST_RETRY_WAIT: Duration = Duration::from_millis(100);

/// Which unfinished runs a deploy moves to the new version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Migrate {
    /// None: runs in flight finish on the version they started on.
    #[default]
    None,
    /// Every unfinished run of the workflow (with `check`: every one the
    /// check saw; runs started later stay on the version they started on).
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
    /// The replay check of each run to migrate (empty without `check`); a
    /// run checked again holds its last verdict.
    pub checks: Vec<(String, ReplayVerdict)>,
    /// Runs to migrate left unfinished on their version, and why (with
    /// `check`: they kept recording steps, or stopped replaying cleanly,
    /// between check and migration). Deploying again retries them.
    pub not_migrated: Vec<(String, String)>,
    /// Runs to migrate that finished on their version first.
    pub finished: Vec<String>,
}

impl Continuum {
    /// Makes the component at `module` the current version of `workflow`
    /// on every host sharing the instance's database, without a restart;
    /// runs in flight keep their version unless migrated.
    ///
    /// With `check`, the runs to migrate are replayed on the new version
    /// first and the deploy is refused ([`Error::DeployRefused`]) if any
    /// diverges. Only the runs checked are migrated, each only if its
    /// journal still ends where the check stopped and no engine is
    /// executing it (a compare-and-set in the journal); a run that moved on
    /// meanwhile is checked again, and left on its version (reported in
    /// [`DeployReport::not_migrated`]) if it no longer replays cleanly or
    /// keeps moving. Without `check`, the migration is forced.
    ///
    /// The component is checked against the `workflow` world first; a file
    /// that is not a component, does not compile or does not fit is refused
    /// ([`Error::WorkflowModule`]) and the current version stays as it was.
    /// The workflow name and the run ids are checked as well
    /// ([`Error::InvalidName`]).
    pub async fn deploy(&self, workflow: &str, module: &Path, opts: DeployOptions) -> Result<DeployReport, Error> {
        check_workflow_name(workflow)?;
        let inst = self.instance(opts.instance.as_deref())?;
        let ids: &[String] = match &opts.migrate {
            Migrate::Runs(ids) => ids,
            _ => &[],
        };
        for id in ids {
            check_run_id(id)?;
        }
        if !opts.check || opts.migrate == Migrate::None {
            // Runs named to migrate must exist and be runs of the workflow,
            // or nothing is deployed (as with `check`).
            if !ids.is_empty() {
                runs_to_check(inst, Some(workflow), ids).await?;
            }
            let hash = inst.modules().deploy(workflow, module).await?;
            let migrated = match &opts.migrate {
                Migrate::None => 0,
                _ => inst.journal().migrate_runs(inst.name(), workflow, ids, &hash).await?,
            };
            log_migrated(inst.name(), workflow, &hash, migrated);
            let report = DeployReport { hash, migrated, checks: Vec::new(), not_migrated: Vec::new(), finished: Vec::new() };
            return Ok(report);
        }
        let (_, records) = runs_to_check(inst, Some(workflow), ids).await?;
        let candidate = inst.modules().candidate(workflow, module)?;
        let mut checks = Vec::new();
        for run in records {
            checks.push(check_run(inst, &candidate, run).await?);
        }
        let broken: Vec<String> = checks
            .iter()
            .filter(|c| !c.verdict.is_compatible())
            .map(|c| format!("run {}: {}", c.run.key.run_id, c.verdict))
            .collect();
        if !broken.is_empty() {
            return Err(Error::DeployRefused { workflow: workflow.to_string(), reasons: broken.join("; ") });
        }
        let hash = inst.modules().deploy(workflow, module).await?;
        let mut report = DeployReport { hash, migrated: 0, checks: Vec::new(), not_migrated: Vec::new(), finished: Vec::new() };
        let mut wait = FIRST_RETRY_WAIT;
        for round in 1..=MIGRATION_ROUNDS {
            let approved: Vec<CheckedRun> = checks
                .iter()
                .filter(|c| c.verdict.is_compatible())
                .map(|c| CheckedRun { run_id: c.run.key.run_id.clone(), last_seq: c.last_seq })
                .collect();
            for c in checks.iter().filter(|c| !c.verdict.is_compatible()) {
                let why = format!("no longer replays on the new version after recording more steps: {}", c.verdict);
                report.not_migrated.push((c.run.key.run_id.clone(), why));
            }
            record_verdicts(&mut report.checks, &checks);
            let outcomes = inst.journal().migrate_checked_runs(inst.name(), workflow, &approved, &report.hash).await?;
            let mut again = Vec::new();
            let mut executing = false;
            for (run, outcome) in approved.into_iter().zip(outcomes) {
                match outcome {
                    MigrationOutcome::Migrated => report.migrated += 1,
                    MigrationOutcome::Gone => report.finished.push(run.run_id),
                    MigrationOutcome::HistoryGrew { .. } => again.push(run.run_id),
                    MigrationOutcome::Leased => {
                        executing = true;
                        again.push(run.run_id);
                    }
                }
            }
            if again.is_empty() {
                break;
            }
            if round == MIGRATION_ROUNDS {
                for id in again {
                    let why = "kept executing or recording steps on its version; deploy again to retry".to_string();
                    report.not_migrated.push((id, why));
                }
                break;
            }
            if executing {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            checks = Vec::new();
            for id in again {
                match inst.journal().get_run(&RunKey::new(inst.name(), id.clone())).await? {
                    Some(run) if !run.state.is_final() => checks.push(check_run(inst, &candidate, run).await?),
                    _ => report.finished.push(id),
                }
            }
        }
        log_migrated(inst.name(), workflow, &report.hash, report.migrated);
        for (run_id, reason) in &report.not_migrated {
            tracing::warn!(instance = %inst.name(), workflow, run_id = %run_id, reason = %reason, "run not migrated");
        }
        Ok(report)
    }
}

/// Keeps the latest verdict of each run, in the order first checked.
fn record_verdicts(into: &mut Vec<(String, ReplayVerdict)>, checks: &[RunCheck]) {
    for c in checks {
        let id = &c.run.key.run_id;
        match into.iter_mut().find(|(r, _)| r == id) {
            Some(slot) => slot.1 = c.verdict.clone(),
            None => into.push((id.clone(), c.verdict.clone())),
        }
    }
}

fn log_migrated(instance: &str, workflow: &str, hash: &str, migrated: u64) {
    if migrated > 0 {
        tracing::info!(instance = %instance, workflow, hash = %hash, migrated, "runs migrated to the new version");
    }
}
