//! Executing one run: the wasmtime engine and store, the host imports, and
//! the replay cursor.

pub mod bindings;
mod host_imports;
mod interrupt;
mod lease_clock;
pub mod replay;
mod replay_check;
mod run;
mod run_ctx;
mod wasm;


pub use lease_clock::LeaseClock;
pub use replay_check::{check_replay, ReplayVerdict};
pub use run::{execute_attempt, AttemptOutcome};
pub use run_ctx::{RunCtx, RunEnv};
pub use wasm::{ActivityCtx, WasmEngine};
