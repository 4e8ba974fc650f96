//! Continuum host: a durable workflow runtime for WebAssembly workflows.
pub mod activities;
pub mod engine;
pub mod journal;
pub mod modules;
