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
    #[cfg(test)]
    pub fn component(&self, engine: &Engine, path: &Path, bytes: &[u8]) -> Result<(String, Component), ModuleError> {
        self.component_from(engine, path, bytes).map(|(hash, c, _)| (hash, c))
    }

    /// The file a component's compiled code is kept in, if the cache has a
    /// directory.
    pub fn file_of(&self, hash: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(format!("{hash}-wasmtime48.cwasm")))
    }

    /// Like [`CompileCache::component`], also telling where the compiled
    /// code came from.
    pub fn component_from(&self, engine: &Engine, path: &Path, bytes: &[u8]) -> Result<(String, Component, Source), ModuleError> {
        let hash = content_hash(bytes);
        if let Ok(memory) = self.memory.lock() {
            if let Some(c) = memory.get(&hash) {
                return Ok((hash, c.clone(), Source::Memory));
            }
        }
        let file = self.file_of(&hash);
        let mut component = None;
        if let Some(file) = file.as_ref().filter(|f| f.exists()) {
            // SAFETY: the file was written by `Component::serialize` of this
            // very cache; wasmtime checks its engine compatibility header and
            // refuses artifacts of another version or configuration.
            match unsafe { Component::deserialize_file(engine, file) } {
                Ok(c) => {
                    tracing::debug!(instance = %self.instance, module_hash = %hash, file = %file.display(), "compile cache entry read");
                    component = Some((c, Source::Disk));
                }
                Err(e) => tracing::debug!(instance = %self.instance, file = %file.display(), error = %e, "stale compile cache entry"),
            }
        }
        let (component, source) = match component {
            Some(found) => found,
            None => {
                let started = std::time::Instant::now();
                let c = Component::new(engine, bytes).map_err(|e| ModuleError::Compile {
                    path: path.into(),
                    message: super::foreign_message(&e),
                })?;
                // Debug only: the caller says at INFO once the component
                // also links against its world (a wrong-world file is
                // refused with one line and no log before it).
                let ms = started.elapsed().as_millis() as u64;
                tracing::debug!(instance = %self.instance, module_hash = %hash, file = %path.display(), ms, "component compiled");
                if let Some(file) = &file {
                    if let Err(e) = write_atomic(file, c.serialize()) {
                        tracing::warn!(instance = %self.instance, file = %file.display(), error = %e, "cannot write the compile cache");
                    }
                }
                (c, Source::Compiled)
            }
        };
        if let Ok(mut memory) = self.memory.lock() {
            memory.insert(hash.clone(), component.clone());
        }
        Ok((hash, component, source))
    }
}

/// Where [`CompileCache::component_from`] found a component's compiled code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// This process had it in memory.
    Memory,
    /// The cache directory had it (written by an earlier compile).
    Disk,
    /// It was compiled now.
    Compiled,
}

impl CompileCache {
    /// Logs, once a component from here linked against its world, where
    /// its compiled code came from (INFO; debug when this process had it).
    pub(crate) fn log_ready(&self, source: Source, what: &str, hash: &str, file: &Path) {
        let (instance, file) = (&self.instance, file.display());
        match source {
            Source::Compiled => tracing::info!(%instance, module_hash = %hash, %file, what, "module compiled"),
            Source::Disk => tracing::info!(%instance, module_hash = %hash, %file, what, "module loaded from the compile cache"),
            Source::Memory => tracing::debug!(%instance, module_hash = %hash, %file, what, "module ready"),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty component with a custom section naming `tag`, so each tag
    /// has a hash of its own.
    fn component_bytes(tag: &str) -> Vec<u8> {
        let mut b = b"\0asm\x0d\x00\x01\x00".to_vec();
        let name = b"continuum-test";
        let payload = tag.as_bytes();
        b.push(0);
        b.push((1 + name.len() + payload.len()) as u8);
        b.push(name.len() as u8);
        b.extend_from_slice(name);
        b.extend_from_slice(payload);
        b
    }

    fn temp_dir() -> PathBuf {
        std::env::temp_dir().join(format!("continuum-cache-test-{}", uuid::Uuid::new_v4().simple()))
    }

    #[test]
    fn a_second_cache_on_the_same_directory_loads_instead_of_compiling() {
        let (engine, dir) = (Engine::default(), temp_dir());
        let bytes = component_bytes("a");
        let first = CompileCache::new("i", Some(dir.clone()));
        let (hash, _, source) = first.component_from(&engine, Path::new("a.wasm"), &bytes).unwrap();
        assert_eq!((hash.clone(), source), (content_hash(&bytes), Source::Compiled));
        assert_eq!(first.component_from(&engine, Path::new("a.wasm"), &bytes).unwrap().2, Source::Memory);
        let file = first.file_of(&hash).unwrap();
        let written = std::fs::metadata(&file).unwrap().modified().unwrap();

        // A restart: a new cache over the same directory.
        let second = CompileCache::new("i", Some(dir.clone()));
        let (_, component, source) = second.component_from(&engine, Path::new("a.wasm"), &bytes).unwrap();
        assert_eq!(source, Source::Disk);
        assert!(component.component_type().imports(&engine).next().is_none());
        assert_eq!(std::fs::metadata(&file).unwrap().modified().unwrap(), written, "not rewritten");
        // Other bytes are other entries.
        let other = second.component_from(&engine, Path::new("b.wasm"), &component_bytes("b")).unwrap();
        assert_eq!(other.2, Source::Compiled);
        assert_ne!(other.0, hash);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_corrupt_entry_is_compiled_again_and_replaced() {
        let (engine, dir) = (Engine::default(), temp_dir());
        let bytes = component_bytes("c");
        let cache = CompileCache::new("i", Some(dir.clone()));
        let file = cache.file_of(&content_hash(&bytes)).unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&file, b"not a compiled artifact").unwrap();
        assert_eq!(cache.component_from(&engine, Path::new("c.wasm"), &bytes).unwrap().2, Source::Compiled);
        let again = CompileCache::new("i", Some(dir.clone()));
        assert_eq!(again.component_from(&engine, Path::new("c.wasm"), &bytes).unwrap().2, Source::Disk, "the entry was replaced");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn without_a_directory_nothing_is_written_and_bad_bytes_are_refused() {
        let engine = Engine::default();
        let cache = CompileCache::new("i", None);
        assert!(cache.file_of("x").is_none());
        let bytes = component_bytes("d");
        assert_eq!(cache.component_from(&engine, Path::new("d.wasm"), &bytes).unwrap().2, Source::Compiled);
        assert_eq!(cache.component_from(&engine, Path::new("d.wasm"), &bytes).unwrap().2, Source::Memory);
        let err = cache.component(&engine, Path::new("bad.wasm"), b"\0asm\x0d\x00\x01\x00\xff").unwrap_err();
        assert!(matches!(err, ModuleError::Compile { .. }), "{err}");
    }
}
