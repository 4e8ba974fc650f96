//! Workflow and activity modules: reading component files, their content
//! hashes, and compiling them once (cached on disk by hash).

mod compile_cache;
mod registry;
mod workflow_module;

use std::path::PathBuf;

use sha2::{Digest, Sha256};

pub use compile_cache::CompileCache;
pub use registry::ModuleRegistry;
pub use workflow_module::WorkflowModule;

/// Errors loading a module.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModuleError {
    /// The file could not be read.
    #[error("cannot read module file `{path}`: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not WebAssembly at all.
    #[error("`{path}` is not a WebAssembly component (no `\\0asm` header)")]
    NotWasm {
        /// The file.
        path: PathBuf,
    },
    /// The file is a core module, not a component.
    #[error("`{path}` is a core WebAssembly module, not a component; build it with `cargo run -p continuum-guest-build` (or wrap it with wit-component)")]
    CoreModule {
        /// The file.
        path: PathBuf,
    },
    /// wasmtime could not compile it.
    #[error("cannot compile `{path}`: {message}")]
    Compile {
        /// The file.
        path: PathBuf,
        /// wasmtime's message.
        message: String,
    },
    /// It does not target the expected world.
    #[error("`{path}` does not fit the `{world}` world of continuum:workflow: {message}")]
    WrongWorld {
        /// The file.
        path: PathBuf,
        /// The world expected.
        world: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The wasmtime engine could not be set up.
    #[error("wasm engine unavailable: {0}")]
    Engine(String),
}

/// The longest part of a wasmtime error a [`ModuleError`] quotes.
const FOREIGN_MESSAGE_CHARS: usize = 300;

/// wasmtime's error with its causes, as one line of at most 300
/// characters (a parse or link error can run to thousands).
pub(crate) fn foreign_message(e: &wasmtime::Error) -> String {
    crate::input_limits::one_line(&format!("{e:#}"), FOREIGN_MESSAGE_CHARS)
}

/// The content hash of a module: hex SHA-256 of its bytes.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Reads a component file and checks it is a component.
pub fn read_component(path: &std::path::Path) -> Result<Vec<u8>, ModuleError> {
    let bytes = std::fs::read(path).map_err(|source| ModuleError::Read { path: path.into(), source })?;
    if bytes.len() < 8 || &bytes[0..4] != b"\0asm" {
        return Err(ModuleError::NotWasm { path: path.into() });
    }
    // Core modules carry version 1 and layer 0; components layer 1.
    if bytes[6..8] == [0, 0] {
        return Err(ModuleError::CoreModule { path: path.into() });
    }
    Ok(bytes)
}
