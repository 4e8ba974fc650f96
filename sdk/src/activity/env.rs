//! Environment variables, over `wasi:cli/environment`: only those the
//! manifest lists (`env = [...]`) are visible, with the host's values.

use crate::bindings::activity_world::wasi::cli::environment;

/// The value of the environment variable `name`, if the instance's sandbox
/// lists it and the host has it set.
pub fn env_var(name: &str) -> Option<String> {
    environment::get_environment().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// Every environment variable the activity can see, as `(name, value)`.
pub fn env_vars() -> Vec<(String, String)> {
    environment::get_environment()
}
