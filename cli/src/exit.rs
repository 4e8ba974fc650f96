//! The command line's errors and exit codes: one set of classes, whether a
//! verb opened the database or went through a server's HTTP API
//! (`--server`), so scripts see the same codes either way.

use continuum_host::{Error, ManifestError};

use crate::remote_error::RemoteError;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: the run ended failed, cancelled or drifted (`await`), a
/// deploy was refused by its replay check, a replay found incompatible runs.
pub const EXIT_RUN_NOT_COMPLETED: u8 = 3;
/// Exit code: a retryable condition (timeout, cancel not confirmed).
pub const EXIT_RETRYABLE: u8 = 4;
/// Exit code: bad usage, bad manifest, unknown instance/workflow/run, a
/// conflict, a token refused by the server.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: anything else (database or server unreachable, ...).
pub const EXIT_FAILURE: u8 = 1;

/// Errors of the command line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The manifest is invalid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The runtime refused.
    #[error(transparent)]
    Continuum(#[from] Error),
    /// Bad arguments.
    #[error("{0}")]
    Usage(String),
    /// The HTTP API could not start.
    #[error(transparent)]
    Http(#[from] continuum_http::ServeError),
    /// The server of `--server` refused, failed or could not be reached.
    #[error(transparent)]
    Remote(#[from] RemoteError),
}

/// The exit code for an error.
pub fn exit_code(e: &CliError) -> u8 {
    match e {
        CliError::Manifest(_) | CliError::Usage(_) => EXIT_USAGE,
        CliError::Remote(e) => e.exit_code(),
        CliError::Continuum(e) if e.is_retryable() => EXIT_RETRYABLE,
        CliError::Continuum(Error::DeployRefused { .. }) => EXIT_RUN_NOT_COMPLETED,
        CliError::Continuum(
            Error::InstanceNotRegistered(_)
            | Error::InstanceAlreadyRegistered(_)
            | Error::UnknownWorkflow { .. }
            | Error::InvalidJson { .. }
            | Error::UnknownRun { .. }
            | Error::RunExists { .. }
            | Error::RunConflict { .. }
            | Error::SignalKeyConflict { .. }
            | Error::RunFinished { .. }
            | Error::RunControlRefused { .. }
            | Error::InvalidResetPoint { .. }
            | Error::WorkflowMismatch { .. }
            | Error::QueriesUnsupported { .. }
            | Error::UnknownQuery { .. }
            | Error::UpdateNotReplied { .. }
            | Error::NothingToReplay
            | Error::Module(_)
            | Error::WorkflowModule { .. }
            | Error::ActivityModule { .. }
            | Error::InvalidName { .. }
            | Error::PayloadTooLarge { .. }
            | Error::Manifest(_)
            | Error::InvalidNode { .. }
            | Error::InvalidSchedule { .. }
            | Error::UnknownSchedule { .. }
            | Error::ScheduleExists { .. }
            | Error::Config { .. },
        ) => EXIT_USAGE,
        _ => EXIT_FAILURE,
    }
}
