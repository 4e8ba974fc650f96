//! Executing one run: the wasmtime engine and store, the host imports, and
//! the replay cursor.

pub mod bindings;
mod attribute_imports;
mod child_imports;
mod continuation_imports;
mod cpu_meter;
mod eager_activities;
mod guest_output;
mod host_imports;
mod interrupt;
mod lease_clock;
mod memory_budget;
mod memory_footprint;
mod pause_flag;
mod query_imports;
mod query_replay;
mod update_imports;
pub mod replay;
mod replay_only;
mod run;
mod run_ctx;
mod run_limits;
mod stop_request;
mod wasi_clocks;
mod wasi_random;
mod wasm;
mod workflow_wasi;

pub use lease_clock::LeaseClock;
pub(crate) use replay_only::{replay_only, ReplayOnlyEnd};
pub(crate) use query_imports::QueryAnswer;
pub(crate) use query_replay::{query_replay, QueryEnd};
pub use memory_budget::MemoryBudget;
pub use pause_flag::PauseFlag;
pub(crate) use memory_budget::{defer_delay, BudgetShare};
pub use run::{execute_attempt, AttemptOutcome};
pub use run_ctx::{RunCtx, RunEnv};
pub use run_limits::RunLimits;
pub use stop_request::StopRequest;
pub use wasm::{ActivityCtx, WasmEngine, MAX_GUEST_MEMORY};
