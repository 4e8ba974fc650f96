//! A loaded workflow module: compiled, linked against the host imports and
//! ready to instantiate quickly for each run.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::engine::bindings::workflow::WorkflowPre;
use crate::engine::{RunCtx, WasmEngine};

use super::{foreign_message, read_component, CompileCache, ModuleError};

/// A workflow module ready to run.
pub struct WorkflowModule {
    /// The workflow name it is registered under.
    pub name: String,
    /// Its content hash.
    pub hash: String,
    /// The file it was loaded from.
    #[allow(dead_code)] // no caller left since the API narrowed
    pub path: PathBuf,
    pub(crate) pre: WorkflowPre<RunCtx>,
}

impl std::fmt::Debug for WorkflowModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkflowModule").field("name", &self.name).field("hash", &self.hash).finish()
    }
}

impl WorkflowModule {
    /// Loads and links the component at `path` as workflow `name`.
    #[allow(dead_code)] // no caller left since the API narrowed
    pub fn load(
        engine: &Arc<WasmEngine>,
        cache: &CompileCache,
        name: &str,
        path: &Path,
    ) -> Result<Arc<WorkflowModule>, ModuleError> {
        let bytes = read_component(path)?;
        Self::from_bytes(engine, cache, name, path, &bytes)
    }

    /// Compiles and links component bytes (read from `path`, or from the
    /// database) as workflow `name`.
    pub fn from_bytes(
        engine: &Arc<WasmEngine>,
        cache: &CompileCache,
        name: &str,
        path: &Path,
        bytes: &[u8],
    ) -> Result<Arc<WorkflowModule>, ModuleError> {
        let engine = engine.for_component(bytes).map_err(ModuleError::Engine)?;
        let (hash, component, source) = cache.component_from(&engine.engine, path, bytes)?;
        let wrong = |message: String| ModuleError::WrongWorld { path: path.into(), world: "workflow", message };
        let instance_pre = engine
            .workflow_linker
            .instantiate_pre(&component)
            .map_err(|e| wrong(format!("{} (workflows may import continuum:workflow/host, children, continuation, attributes, queries and updates, and WASI 0.2 but not wasi:http)", foreign_message(&e))))?;
        let pre = WorkflowPre::new(instance_pre).map_err(|e| wrong(foreign_message(&e)))?;
        cache.log_ready(source, &format!("workflow `{name}`"), &hash, path);
        Ok(Arc::new(WorkflowModule { name: name.into(), hash, path: path.into(), pre }))
    }
}
