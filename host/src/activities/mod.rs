//! Activities: where side effects live. Native Rust functions and WASM
//! activity components, executed with retries, timeouts and a concurrency
//! limit.

mod executor;
mod registry;
mod retry;
mod wasm;

pub use executor::{ActivityExecutor, ActivityScope};
pub use registry::{Activity, ActivityError, ActivityFuture, ActivityRegistry};
pub use retry::{default_policy, next_delay};
pub use wasm::load_activity_component;
