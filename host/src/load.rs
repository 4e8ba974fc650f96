//! Building a [`Continuum`] from a manifest (`instances.toml`).

use crate::instance::Instance;
use crate::manifest::{ChildrenConfig, Manifest, ManifestError};
use crate::{Continuum, Error};

/// What this process does for the manifest's instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// Run every child the manifest enables (a host: `continuum serve`).
    Serve,
    /// Run no child: only talk to the journals (the CLI's verbs).
    Client,
}

impl Continuum {
    /// Builds the manifest's instances (all of them, or those in `only`).
    /// Applies each database's migrations. A database that cannot be opened
    /// within the instance's `connect_timeout_ms` is refused as
    /// [`ManifestError::UnreachableDatabase`] (file, instance and key named).
    pub async fn from_manifest(manifest: &Manifest, mode: Mode, only: &[String]) -> Result<Continuum, Error> {
        let mut continuum = Continuum::new();
        for name in only {
            if manifest.instance(name).is_none() {
                return Err(Error::InstanceNotRegistered(name.clone()));
            }
        }
        for (name, cfg) in &manifest.instances {
            if !only.is_empty() && !only.contains(name) {
                continue;
            }
            let children = match mode {
                Mode::Serve => cfg.children.clone(),
                Mode::Client => ChildrenConfig::client_only(),
            };
            let mut builder = Instance::builder(name.clone())
                .database(cfg.database.clone())
                .max_connections(cfg.max_connections)
                .connect_timeout(cfg.connect_timeout)
                .node(manifest.node.clone())
                .children(children)
                .sandbox(cfg.sandbox.clone())
                .cache_dir(crate::modules::CompileCache::dir_from_env(&manifest.data_dir.join("cache")));
            for (wf, path) in &cfg.workflows {
                builder = builder.workflow(wf.clone(), path.clone());
            }
            for path in cfg.activities.values() {
                builder = builder.activity_component(path.clone());
            }
            let instance = builder.build().await.map_err(|e| match e {
                Error::DatabaseUnreachable { instance, source } => {
                    Error::Manifest(Box::new(ManifestError::UnreachableDatabase {
                        file: manifest.path.clone(),
                        key: format!("instances.{instance}.database"),
                        instance,
                        reason: source.to_string(),
                    }))
                }
                other => other,
            })?;
            if mode == Mode::Serve {
                instance.declare_schedules(&cfg.schedules).await?;
            }
            continuum.register(instance)?;
        }
        Ok(continuum)
    }
}
