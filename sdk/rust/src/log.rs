//! Logging from a workflow, through the host's `log` import. Lines are not
//! journaled and are muted while the run replays.
//!
//! Workflows only: an activity component that logs would import the
//! workflow host interface, which activities are not given.
//!
//! ```no_run
//! use continuum_sdk::log;
//! log::info("order received");
//! continuum_sdk::warn!("retrying {} in {} ms", "charge_card", 200);
//! ```

use crate::bindings::workflow_world::continuum::workflow::{host, types::LogLevel};

/// Severity of a log line.
///
/// ```no_run
/// continuum_sdk::log::log(continuum_sdk::log::Level::Debug, "cursor at 3");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Very detailed tracing.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal progress.
    Info,
    /// Something unexpected that the workflow handles.
    Warn,
    /// A failure.
    Error,
}

/// Writes `message` to the host's log at `level`.
///
/// ```no_run
/// use continuum_sdk::log::{log, Level};
/// log(Level::Info, "shipping");
/// ```
pub fn log(level: Level, message: &str) {
    let level = match level {
        Level::Trace => LogLevel::Trace,
        Level::Debug => LogLevel::Debug,
        Level::Info => LogLevel::Info,
        Level::Warn => LogLevel::Warn,
        Level::Error => LogLevel::Error,
    };
    host::log(level, message);
}

/// Logs at trace level.
///
/// ```no_run
/// continuum_sdk::log::trace("entering step 2");
/// ```
pub fn trace(message: impl AsRef<str>) {
    log(Level::Trace, message.as_ref());
}

/// Logs at debug level.
///
/// ```no_run
/// continuum_sdk::log::debug("input decoded");
/// ```
pub fn debug(message: impl AsRef<str>) {
    log(Level::Debug, message.as_ref());
}

/// Logs at info level.
///
/// ```no_run
/// continuum_sdk::log::info("order received");
/// ```
pub fn info(message: impl AsRef<str>) {
    log(Level::Info, message.as_ref());
}

/// Logs at warn level.
///
/// ```no_run
/// continuum_sdk::log::warn("review timed out");
/// ```
pub fn warn(message: impl AsRef<str>) {
    log(Level::Warn, message.as_ref());
}

/// Logs at error level.
///
/// ```no_run
/// continuum_sdk::log::error("payment declined");
/// ```
pub fn error(message: impl AsRef<str>) {
    log(Level::Error, message.as_ref());
}

/// Logs a formatted line at trace level: `trace!("x = {}", x)`.
///
/// ```no_run
/// continuum_sdk::trace!("step {}", 1);
/// ```
#[macro_export]
macro_rules! trace {
    ($($arg:tt)*) => { $crate::log::trace(::std::format!($($arg)*)) };
}

/// Logs a formatted line at debug level: `debug!("x = {}", x)`.
///
/// ```no_run
/// continuum_sdk::debug!("step {}", 1);
/// ```
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log::debug(::std::format!($($arg)*)) };
}

/// Logs a formatted line at info level: `info!("x = {}", x)`.
///
/// ```no_run
/// continuum_sdk::info!("order {} received", "o-1");
/// ```
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::info(::std::format!($($arg)*)) };
}

/// Logs a formatted line at warn level: `warn!("x = {}", x)`.
///
/// ```no_run
/// continuum_sdk::warn!("review of {} timed out", "o-1");
/// ```
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log::warn(::std::format!($($arg)*)) };
}

/// Logs a formatted line at error level: `error!("x = {}", x)`.
///
/// ```no_run
/// continuum_sdk::error!("card {} declined", "4000-0000-0000-0002");
/// ```
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log::error(::std::format!($($arg)*)) };
}
