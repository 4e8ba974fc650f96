//! Versioning: a workflow's code changes while its runs are in flight.
//!
//! A *version* of a workflow is one workflow component, named by the hash
//! of its bytes (`module_hash`). Every run records the version it started
//! on and is only ever replayed on that version: replaying a journal on
//! other code could take another path than the one recorded.
//!
//! - **Deploy** (`deploy.rs`): make a new version current, without a
//!   restart, on every host sharing the instance's database. New runs
//!   start on it; runs in flight stay on theirs unless *migrated*.
//! - **Compatibility** (`compatibility.rs`): a run is compatible with a
//!   candidate version when replaying its recorded history on the
//!   candidate asks for exactly the recorded steps ([`ReplayVerdict`]). A
//!   checked deploy migrates only compatible runs, and only if their
//!   history did not move on since the check.
//! - **Replay** (`replay.rs`): the check on its own, as a verb of the
//!   facade, writing nothing.
//! - **Versions** (`versions.rs`): each workflow's current version and
//!   every version stored, as the HTTP API lists them.
//!
//! Executing the replay is the engine's (`crate::engine::replay_only`);
//! storing versions and moving runs between them is the journal's.

mod compatibility;
mod deploy;
mod replay;
mod versions;

pub use compatibility::{Drift, ReplayVerdict};
pub use deploy::{DeployOptions, DeployReport, Migrate};
pub use versions::{WorkflowVersion, WorkflowVersions};
