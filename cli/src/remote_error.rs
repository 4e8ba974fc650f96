//! What can go wrong talking to a server over HTTP (`--server`), and the
//! exit code of each: the API's statuses and stable error codes map onto
//! the classes of the direct path (400, 404, 409, 413 and a refused token:
//! usage, 2; `deploy_refused`: 3; `cancel_not_confirmed`: retryable, 4; a
//! server that cannot be reached or fails: 1, as an unreachable database).

use crate::exit::{EXIT_FAILURE, EXIT_RETRYABLE, EXIT_RUN_NOT_COMPLETED, EXIT_USAGE};

/// An error of a request to the server.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// `--server` is not an HTTP URL this client can use.
    #[error("invalid --server `{url}`: {reason}")]
    BadUrl {
        /// What was given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `CONTINUUM_TOKEN` cannot be sent as a header.
    #[error("CONTINUUM_TOKEN is not a valid bearer token (it must be visible ASCII)")]
    BadToken,
    /// No connection (refused, unknown host, timed out, reset).
    #[error("cannot reach server {url}: {reason}")]
    Unreachable {
        /// The server.
        url: String,
        /// Why.
        reason: String,
    },
    /// The server answered with an error.
    #[error("{message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The API's stable code (`unknown_run`, ...); empty when the
        /// answer had none (not the API's answer).
        code: String,
        /// The message, with a hint about `CONTINUUM_TOKEN` for 401.
        message: String,
    },
    /// The server answered something this client does not understand.
    #[error("server {url} gave an unexpected answer to {what}: {reason}")]
    BadAnswer {
        /// The server.
        url: String,
        /// The request.
        what: String,
        /// What is wrong with the answer.
        reason: String,
    },
}

impl RemoteError {
    /// The process exit code, in the direct path's classes.
    pub fn exit_code(&self) -> u8 {
        match self {
            RemoteError::BadUrl { .. } | RemoteError::BadToken => EXIT_USAGE,
            RemoteError::Unreachable { .. } | RemoteError::BadAnswer { .. } => EXIT_FAILURE,
            RemoteError::Api { status, code, .. } => match code.as_str() {
                "deploy_refused" => EXIT_RUN_NOT_COMPLETED,
                "cancel_not_confirmed" => EXIT_RETRYABLE,
                _ => match status {
                    400 | 401 | 403 | 404 | 409 | 413 => EXIT_USAGE,
                    _ => EXIT_FAILURE,
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: &str) -> RemoteError {
        RemoteError::Api { status, code: code.into(), message: String::new() }
    }

    #[test]
    fn statuses_and_codes_map_onto_the_direct_exit_codes() {
        assert_eq!(api(404, "unknown_run").exit_code(), EXIT_USAGE);
        assert_eq!(api(400, "invalid_json").exit_code(), EXIT_USAGE);
        assert_eq!(api(409, "run_finished").exit_code(), EXIT_USAGE);
        assert_eq!(api(403, "forbidden").exit_code(), EXIT_USAGE);
        assert_eq!(api(409, "deploy_refused").exit_code(), EXIT_RUN_NOT_COMPLETED);
        assert_eq!(api(503, "cancel_not_confirmed").exit_code(), EXIT_RETRYABLE);
        assert_eq!(api(503, "database_unavailable").exit_code(), EXIT_FAILURE);
        assert_eq!(api(502, "").exit_code(), EXIT_FAILURE);
        let down = RemoteError::Unreachable { url: "http://127.0.0.1:1".into(), reason: "refused".into() };
        assert_eq!(down.exit_code(), EXIT_FAILURE);
    }
}
