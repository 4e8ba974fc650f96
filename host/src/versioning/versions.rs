//! The versions of an instance's workflows, as stored in its database:
//! each workflow's current version (the one new runs start on) and every
//! version deployed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{CallOptions, Continuum, Error};

/// One stored version of a workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct WorkflowVersion {
    /// Content hash (hex SHA-256) of the module.
    pub hash: String,
    /// When it was first stored.
    pub deployed_at: DateTime<Utc>,
}

/// A workflow and its versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct WorkflowVersions {
    /// The workflow name.
    pub workflow: String,
    /// The version new runs start on, if one is current.
    pub current: Option<String>,
    /// Every version stored, oldest first.
    pub versions: Vec<WorkflowVersion>,
}

impl Continuum {
    /// The instance's workflows (those with a version in its database), by
    /// name, each with its current version and every version stored.
    pub async fn workflows(&self, opts: CallOptions) -> Result<Vec<WorkflowVersions>, Error> {
        let inst = self.instance(opts.instance.as_deref())?;
        let journal = inst.journal();
        let heads = journal.current_modules(inst.name()).await?;
        let mut out: Vec<WorkflowVersions> = Vec::new();
        for (workflow, hash, deployed_at) in journal.module_versions(inst.name()).await? {
            let version = WorkflowVersion { hash, deployed_at };
            match out.last_mut() {
                Some(last) if last.workflow == workflow => last.versions.push(version),
                _ => {
                    let current = heads.iter().find(|(w, _)| *w == workflow).map(|(_, h)| h.clone());
                    out.push(WorkflowVersions { workflow, current, versions: vec![version] });
                }
            }
        }
        Ok(out)
    }
}
