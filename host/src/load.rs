//! Building a [`Continuum`] from a manifest (`instances.toml`).

use crate::instance::{ChildrenConfig, Instance};
use crate::manifest::Manifest;
use crate::{Continuum, Error};

/// What this process does for the manifest's instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Run every child the manifest enables (a host: `continuum serve`).
    Serve,
    /// Run no child: only talk to the journals (the CLI's verbs).
    Client,
}

impl Continuum {
    /// Builds the manifest's instances (all of them, or those in `only`).
    /// Applies each database's migrations.
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
            continuum.register(builder.build().await?)?;
        }
        Ok(continuum)
    }
}
