//! Activities: where side effects live. Native Rust functions and WASM
//! activity components, executed with retries, timeouts, concurrency
//! limits, heartbeats and cancellation.

mod attempt;
mod context;
mod executor;
mod memory_cap;
mod registry;
mod retry;
mod sandbox;
mod wasm;

pub use attempt::{AttemptStart, Step};
pub use context::{ActivityContext, AttemptInfo};
pub use executor::{ActivityExecutor, ActivityScope, ExecutorLimits, Reserved};
pub use memory_cap::MemoryCap;
pub use registry::{Activity, ActivityError, ActivityFuture, ActivityRegistry};
pub use sandbox::{invalid_env_name, AllowedHost, SandboxConfig, SANDBOX_GUEST_PATH};
pub(crate) use wasm::link_activity_component;
pub use wasm::load_activity_component;
