//! An instance's workflow module versions. Versions are content-addressed
//! and stored in the database, so any host can load the exact version a run
//! recorded; the instance's *current* version of each workflow (the one new
//! runs start on) is kept in the database too and changed by deploying.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use crate::engine::WasmEngine;
use crate::journal::{Publish, SharedJournal};
use crate::input_limits::check_workflow_name;
use crate::Error;

use super::{read_component, CompileCache, ModuleError, WorkflowModule};

#[derive(Default)]
struct State {
    current: BTreeMap<String, String>,
    compiled: HashMap<String, Arc<WorkflowModule>>,
}

/// The workflow module versions of one instance.
pub struct ModuleRegistry {
    instance: Arc<str>,
    journal: SharedJournal,
    engine: Option<Arc<WasmEngine>>,
    cache: Arc<CompileCache>,
    state: RwLock<State>,
}

impl std::fmt::Debug for ModuleRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModuleRegistry").field("instance", &self.instance).finish()
    }
}

impl ModuleRegistry {
    /// Loads the manifest's workflow files. Every file is first read,
    /// compiled and linked against the `workflow` world (whether or not
    /// this process executes runs): a file that does not fit is refused
    /// ([`Error::WorkflowModule`], naming the workflow and the file) before
    /// anything is written, so no current version changes. A client fails
    /// on it; a host (`publish`) logs the refusal as an error and goes on
    /// with the other files, serving that workflow at its current version
    /// when it has one.
    /// Then, with `publish` (a host), a file becomes its workflow's current
    /// version unless it is the very file a host published from its
    /// manifest before (so a restart does not undo a `deploy` made since);
    /// otherwise (a client) a file is stored only for a workflow that has
    /// no version yet.
    pub(crate) async fn load(
        instance: Arc<str>,
        journal: SharedJournal,
        engine: Option<Arc<WasmEngine>>,
        cache: Arc<CompileCache>,
        files: &[(String, PathBuf)],
        publish: bool,
    ) -> Result<ModuleRegistry, Error> {
        let registry = ModuleRegistry { instance, journal, engine, cache, state: RwLock::new(State::default()) };
        let mut checked = Vec::with_capacity(files.len());
        for (workflow, path) in files {
            check_workflow_name(workflow)?;
            match registry.checked(workflow, path) {
                Ok((module, bytes)) => checked.push((workflow, path, (module.hash.clone(), bytes))),
                // A host goes on serving its other workflows, and this one
                // at its current version if it has one.
                Err(e) if publish => {
                    tracing::error!(instance = %registry.instance, workflow = %workflow, file = %path.display(),
                        "{e}; the file is refused and the workflow keeps its current version (if it has one)");
                }
                Err(e) => return Err(e),
            }
        }
        let heads: BTreeMap<String, String> = registry.journal.current_modules(&registry.instance).await?.into_iter().collect();
        for (workflow, _, (hash, bytes)) in &checked {
            if publish {
                registry.journal.put_module(&registry.instance, workflow, hash, bytes, Publish::FromManifest).await?;
            } else if !heads.contains_key(*workflow) {
                registry.journal.put_module(&registry.instance, workflow, hash, bytes, Publish::MakeCurrent).await?;
            }
        }
        registry.refresh().await?;
        for (workflow, path, _) in &checked {
            let now = registry.current_hash(workflow);
            if publish && now.is_some() && heads.get(*workflow) != now.as_ref() {
                tracing::info!(instance = %registry.instance, workflow = %workflow, hash = now.as_deref().unwrap_or(""), file = %path.display(), "manifest module deployed as the current version");
            }
        }
        Ok(registry)
    }

    /// Reads the file and checks it against the `workflow` world: the
    /// module and its bytes. Errors name the instance, the workflow and the
    /// file.
    fn checked(&self, workflow: &str, path: &Path) -> Result<(Arc<WorkflowModule>, Vec<u8>), Error> {
        let refused = |source| Error::WorkflowModule { instance: self.instance.to_string(), workflow: workflow.to_string(), source };
        let bytes = read_component(path).map_err(refused)?;
        let module = self.compile(workflow, path, &bytes).map_err(refused)?;
        Ok((module, bytes))
    }

    fn compile(&self, workflow: &str, path: &Path, bytes: &[u8]) -> Result<Arc<WorkflowModule>, ModuleError> {
        // A client (no runs executed here) compiles only what it checks.
        let engine = match &self.engine {
            Some(e) => e.clone(),
            None => WasmEngine::shared().map_err(ModuleError::Engine)?,
        };
        let module = WorkflowModule::from_bytes(&engine, &self.cache, workflow, path, bytes)?;
        if let Ok(mut s) = self.state.write() {
            s.compiled.insert(module.hash.clone(), module.clone());
        }
        Ok(module)
    }

    /// Re-reads the current versions from the database (after a deploy).
    pub async fn refresh(&self) -> Result<(), Error> {
        let heads = self.journal.current_modules(&self.instance).await?;
        if let Ok(mut s) = self.state.write() {
            s.current = heads.into_iter().collect();
        }
        Ok(())
    }

    /// The current version of a workflow, if it has one.
    pub fn current_hash(&self, workflow: &str) -> Option<String> {
        self.state.read().ok().and_then(|s| s.current.get(workflow).cloned())
    }

    /// The workflow names, comma-separated (for messages).
    pub fn names(&self) -> String {
        let names: Vec<String> = self.state.read().map(|s| s.current.keys().cloned().collect()).unwrap_or_default();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    }

    /// True if this process has compiled the version.
    pub fn is_loaded(&self, hash: &str) -> bool {
        self.state.read().is_ok_and(|s| s.compiled.contains_key(hash))
    }

    /// The compiled module of a version: from memory, else loaded from the
    /// database and compiled (the disk cache makes that cheap). `None` when
    /// the instance has no such version.
    pub async fn module(&self, hash: &str) -> Result<Option<Arc<WorkflowModule>>, Error> {
        if let Some(m) = self.state.read().ok().and_then(|s| s.compiled.get(hash).cloned()) {
            return Ok(Some(m));
        }
        let Some(stored) = self.journal.get_module(&self.instance, hash).await? else {
            return Ok(None);
        };
        let origin = PathBuf::from(format!("<database: instance {} module {}>", self.instance, hash));
        let module = self.compile(&stored.workflow, &origin, &stored.bytes)?;
        if module.hash != hash {
            return Err(Error::Module(ModuleError::Compile {
                path: origin,
                message: format!("stored bytes hash to {}, not {hash}", module.hash),
            }));
        }
        Ok(Some(module))
    }

    /// Compiles a candidate component for `workflow` without deploying it.
    pub fn candidate(&self, workflow: &str, path: &Path) -> Result<Arc<WorkflowModule>, Error> {
        Ok(self.checked(workflow, path)?.0)
    }

    /// Deploys the component at `path` as the current version of
    /// `workflow` on every host sharing the database; returns its hash.
    /// The file is checked against the `workflow` world first
    /// ([`Error::WorkflowModule`]); a refused file changes nothing.
    pub async fn deploy(&self, workflow: &str, path: &Path) -> Result<String, Error> {
        let (module, bytes) = self.checked(workflow, path)?;
        self.journal.put_module(&self.instance, workflow, &module.hash, &bytes, Publish::MakeCurrent).await?;
        self.refresh().await?;
        tracing::info!(instance = %self.instance, workflow, hash = %module.hash, "module deployed");
        Ok(module.hash.clone())
    }
}
