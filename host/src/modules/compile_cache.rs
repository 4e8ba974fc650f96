//! Compiled components, kept in memory per process and serialized on disk
//! by content hash, so restarting a host (or starting a test's host) does
//! not compile the same module again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use wasmtime::component::Component;
use wasmtime::Engine;

use super::{content_hash, ModuleError};

/// A compile cache rooted at a directory.
pub struct CompileCache {
    instance: String,
    dir: Option<PathBuf>,
    memory: Mutex<HashMap<String, Component>>,
}

impl CompileCache {
    /// The cache of instance `instance` (named in its telemetry), writing
    /// to `dir` (created when needed); `None` keeps it in memory only.
    pub fn new(instance: &str, dir: Option<PathBuf>) -> Arc<Self> {
        Arc::new(Self { instance: instance.to_string(), dir, memory: Mutex::new(HashMap::new()) })
    }

    /// The cache directory named by `CONTINUUM_CACHE_DIR`, else `fallback`.
    pub fn dir_from_env(fallback: &Path) -> PathBuf {
        std::env::var_os("CONTINUUM_CACHE_DIR").map(PathBuf::from).unwrap_or_else(|| fallback.to_path_buf())
    }

    /// Compiles (or loads) the component with these bytes.
    pub fn component(&self, engine: &Engine, path: &Path, bytes: &[u8]) -> Result<(String, Component), ModuleError> {
        let hash = content_hash(bytes);
        if let Ok(memory) = self.memory.lock() {
            if let Some(c) = memory.get(&hash) {
                return Ok((hash, c.clone()));
            }
        }
        let file = self.dir.as_ref().map(|d| d.join(format!("{hash}-wasmtime48.cwasm")));
        let mut component = None;
        if let Some(file) = file.as_ref().filter(|f| f.exists()) {
            // SAFETY: the file was written by `Component::serialize` of this
            // very cache; wasmtime checks its engine compatibility header and
            // refuses artifacts of another version or configuration.
            match unsafe { Component::deserialize_file(engine, file) } {
                Ok(c) => component = Some(c),
                Err(e) => tracing::debug!(instance = %self.instance, file = %file.display(), error = %e, "stale compile cache entry"),
            }
        }
        let component = match component {
            Some(c) => c,
            None => {
                let c = Component::new(engine, bytes).map_err(|e| ModuleError::Compile {
                    path: path.into(),
                    message: format!("{e:#}"),
                })?;
                if let Some(file) = &file {
                    if let Err(e) = write_atomic(file, c.serialize()) {
                        tracing::warn!(instance = %self.instance, file = %file.display(), error = %e, "cannot write the compile cache");
                    }
                }
                c
            }
        };
        if let Ok(mut memory) = self.memory.lock() {
            memory.insert(hash.clone(), component.clone());
        }
        Ok((hash, component))
    }
}

fn write_atomic(file: &Path, bytes: wasmtime::Result<Vec<u8>>) -> std::io::Result<()> {
    let bytes = bytes.map_err(|e| std::io::Error::other(e.to_string()))?;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(tmp, file)
}
