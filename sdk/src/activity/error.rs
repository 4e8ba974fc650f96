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
    pub(crate) fn new(op: &'static str, target: &str, code: impl fmt::Debug) -> Self {
        Self { op, target: target.to_owned(), code: kebab(&format!("{code:?}")) }
    }
}

/// `NotPermitted` -> `not-permitted`, as in the WIT.
fn kebab(s: &str) -> String {
    let word = s.split(['(', ' ', '{']).next().unwrap_or(s);
    let mut out = String::with_capacity(word.len() + 4);
    for (i, c) in word.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

impl fmt::Display for SandboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}`: {}", self.op, self.target, self.code)
    }
}

impl std::error::Error for SandboxError {}

impl From<SandboxError> for ActivityError {
    /// A sandbox failure is retryable: the host may fix what it grants.
    fn from(e: SandboxError) -> Self {
        ActivityError::retryable(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_kebab_case() {
        assert_eq!(super::kebab("NotPermitted"), "not-permitted");
        assert_eq!(super::kebab("Access"), "access");
    }
}
