//! The tuning of an instance's children. The embedding API takes the same
//! types the manifest's `[instances.NAME.children]` parses into; `None`
//! leaves a child out.

use std::time::Duration;

pub use crate::manifest::{
    ActivityDispatcherConfig, ActivitySupervisorConfig, ChildrenConfig, DispatcherConfig,
    HeartbeaterConfig, RecoveryConfig, SchedulerConfig, WakeRouterConfig,
};

impl ChildrenConfig {
    /// Options for a process that only talks to the journal (the CLI):
    /// no child runs.
    pub fn client_only() -> Self {
        Self {
            heartbeater: None,
            run_supervisor: None,
            activity_supervisor: None,
            recovery: None,
            dispatcher: None,
            activity_dispatcher: None,
            wake_router: None,
            snapshotter: None,
            scheduler: None,
        }
    }

    /// The lease time-to-live in force (the heartbeater's, or its default).
    pub fn lease_ttl(&self) -> Duration {
        self.heartbeater.clone().unwrap_or_default().lease_ttl
    }
}
