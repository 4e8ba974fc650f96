//! Executing one run: the wasmtime engine and store, the host imports, and
//! the replay cursor.

pub mod bindings;
mod host_imports;
mod interrupt;
pub mod replay;
mod run;
mod run_ctx;
mod wasm;

pub use interrupt::Interrupt;
pub use run::{execute_attempt, AttemptOutcome};
pub use run_ctx::{RunCtx, RunEnv};
pub use wasm::{ActivityCtx, WasmEngine, EPOCH_TICK};
