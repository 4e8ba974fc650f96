//! Continuum host: a durable workflow runtime for WebAssembly workflows.
pub mod journal;
pub mod manifest;
