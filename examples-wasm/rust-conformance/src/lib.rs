//! `rust-conformance`: the conformance cases of `docs/conformance.md` in
//! Rust, one workflow whose input `{"case": NAME, ...}` picks the case. The
//! cases live in `cases.rs`, which `rust-conformance-v2` shares.

/// The drift case's version: v1 waits for the signal `go`.
const DRIFT_V2: bool = false;

include!("cases.rs");
