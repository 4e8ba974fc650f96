//! The error of the WASI helpers.

use std::fmt;

use crate::error::ActivityError;

/// Why a sandbox operation failed: what was attempted, on what, and the
/// WASI error code (like `access`, `not-permitted`, `no-entry`).
///
/// ```no_run
/// use continuum_sdk::activity::sandbox;
/// match sandbox::read_file("../etc/passwd") {
///     Err(e) => assert_eq!(e.op, "open"), // outside the sandbox: refused
///     Ok(_) => unreachable!(),
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxError {
    /// The operation (`open`, `read`, `write`, `connect`, ...).
    pub op: &'static str,
    /// The path or address it was applied to.
    pub target: String,
    /// The WASI error code, or a description.
    pub code: String,
}

impl SandboxError {
    /// A failure of `op` on `target` with the WASI error code named `code`
    /// (its WIT name, as `ErrorCode::name` gives it).
    pub(crate) fn new(op: &'static str, target: &str, code: &str) -> Self {
        Self { op, target: target.to_owned(), code: code.to_owned() }
    }

    /// True when the sandbox refused the operation itself (a path outside
    /// the granted directories, a host not allowed, a read-only grant):
    /// retrying cannot change that.
    pub fn is_refusal(&self) -> bool {
        REFUSALS.contains(&self.code.as_str())
    }
}

/// The WASI error codes that mean "not granted" rather than "failed".
const REFUSALS: [&str; 3] = ["access", "not-permitted", "read-only"];

impl fmt::Display for SandboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}`: {}", self.op, self.target, self.code)
    }
}

impl std::error::Error for SandboxError {}

impl From<SandboxError> for ActivityError {
    /// A refusal of the sandbox (see [`SandboxError::is_refusal`]) is not
    /// retryable; any other sandbox failure is. Either way the WASI error
    /// code becomes the activity error's code (`not-permitted`, ...), which
    /// the workflow sees and a retry policy may list.
    fn from(e: SandboxError) -> Self {
        let error = if e.is_refusal() { ActivityError::non_retryable(e.to_string()) } else { ActivityError::retryable(e.to_string()) };
        let code = e.code;
        error.with_code(code)
    }
}

#[cfg(test)]
mod tests {
    use super::SandboxError;
    use crate::error::ActivityError;

    #[test]
    fn a_refusal_is_not_retried_and_carries_its_code() {
        let e = ActivityError::from(SandboxError::new("open", "../etc/passwd", "not-permitted"));
        assert!(!e.retryable);
        assert_eq!(e.code.as_deref(), Some("not-permitted"));
        assert_eq!(e.message, "open `../etc/passwd`: not-permitted");
    }

    #[test]
    fn another_failure_is_retried_and_carries_its_code() {
        let e = ActivityError::from(SandboxError::new("open", "missing.txt", "no-entry"));
        assert!(e.retryable);
        assert_eq!(e.code.as_deref(), Some("no-entry"));
    }
}
