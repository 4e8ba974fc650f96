//! `rust-conformance-v2`: `rust-conformance` with exactly one change, in the
//! drift case (it calls `conf_echo` where v1 waits for the signal `go`), for
//! the conformance suite's drift check (`docs/conformance.md`).

/// The drift case's version: v2 calls `conf_echo` instead of waiting.
const DRIFT_V2: bool = true;

include!("../../rust-conformance/src/cases.rs");
