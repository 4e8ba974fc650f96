//! Continuum host: a durable workflow runtime for WebAssembly workflows.
pub mod activities;
pub mod engine;
mod error;
pub mod instance;
pub mod journal;
pub mod modules;

pub use error::Error;
