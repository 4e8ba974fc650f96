//! Environment variables, over `wasi:cli/environment`: only those the
//! manifest lists (`env = [...]`) are visible, with the host's values.

use crate::bindings::activity_world::wasi::cli::environment;

/// The value of the environment variable `name`, if the instance's sandbox
/// lists it and the host has it set.
///
/// ```no_run
/// // With `env = ["MERCHANT_ID"]` in the instance's sandbox table:
/// let merchant = continuum_sdk::activity::env_var("MERCHANT_ID").unwrap_or_else(|| "test".into());
/// ```
pub fn env_var(name: &str) -> Option<String> {
    environment::get_environment().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// Every environment variable the activity can see, as `(name, value)`.
///
/// ```no_run
/// for (name, _value) in continuum_sdk::activity::env_vars() {
///     println!("granted: {name}");
/// }
/// ```
pub fn env_vars() -> Vec<(String, String)> {
    environment::get_environment()
}
