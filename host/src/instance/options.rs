//! The tuning of an instance's children, in runtime terms. Built from the
//! manifest's `[instances.NAME.children]` or by the embedding API; `None`
//! leaves a child out.

use std::time::Duration;

/// Lease heartbeater tuning.
#[derive(Debug, Clone, PartialEq)]
pub struct HeartbeaterOptions {
    /// How often leases are renewed.
    pub interval: Duration,
    /// How long a lease lasts without renewal.
    pub lease_ttl: Duration,
}

/// Run supervisor tuning.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSupervisorOptions {
    /// Runs executing at once in this process.
    pub max_concurrent_runs: usize,
}

/// Activity worker supervisor tuning.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivitySupervisorOptions {
    /// Activity attempts executing at once.
    pub max_concurrent: usize,
    /// Timeout of an attempt whose call sets none.
    pub default_attempt_timeout: Duration,
}

/// Recovery tuning.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveryOptions {
    /// How often expired leases are looked for.
    pub interval: Duration,
}

/// Dispatcher tuning.
#[derive(Debug, Clone, PartialEq)]
pub struct DispatcherOptions {
    /// Polling backstop interval.
    pub poll_interval: Duration,
    /// Runs claimed per round.
    pub batch_size: usize,
}

/// Activity dispatcher tuning.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityDispatcherOptions {
    /// Polling backstop interval.
    pub poll_interval: Duration,
    /// Queues served.
    pub queues: Vec<String>,
    /// Tasks claimed per round.
    pub batch_size: usize,
}

/// Timer wheel tuning.
#[derive(Debug, Clone, PartialEq)]
pub struct TimerWheelOptions {
    /// Polling backstop interval.
    pub poll_interval: Duration,
}

/// Signal router tuning (none yet).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SignalRouterOptions {}

/// Snapshotter tuning.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotterOptions {
    /// Events past which a snapshot is written.
    pub threshold_events: u64,
}

/// Every child's options; `None` leaves the child out.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildOptions {
    /// Lease heartbeater.
    pub heartbeater: Option<HeartbeaterOptions>,
    /// Run supervisor (without it this process executes no workflow).
    pub run_supervisor: Option<RunSupervisorOptions>,
    /// Activity worker supervisor (without it, no activity runs here).
    pub activity_supervisor: Option<ActivitySupervisorOptions>,
    /// Recovery of runs whose host died.
    pub recovery: Option<RecoveryOptions>,
    /// Dispatcher of ready runs.
    pub dispatcher: Option<DispatcherOptions>,
    /// Dispatcher of durable activity tasks.
    pub activity_dispatcher: Option<ActivityDispatcherOptions>,
    /// Timer wheel.
    pub timer_wheel: Option<TimerWheelOptions>,
    /// Signal router.
    pub signal_router: Option<SignalRouterOptions>,
    /// Snapshotter (off by default).
    pub snapshotter: Option<SnapshotterOptions>,
}

impl Default for ChildOptions {
    fn default() -> Self {
        Self {
            heartbeater: Some(HeartbeaterOptions {
                interval: Duration::from_millis(2_000),
                lease_ttl: Duration::from_millis(10_000),
            }),
            run_supervisor: Some(RunSupervisorOptions { max_concurrent_runs: 512 }),
            activity_supervisor: Some(ActivitySupervisorOptions {
                max_concurrent: 64,
                default_attempt_timeout: Duration::from_millis(60_000),
            }),
            recovery: Some(RecoveryOptions { interval: Duration::from_millis(5_000) }),
            dispatcher: Some(DispatcherOptions { poll_interval: Duration::from_millis(500), batch_size: 64 }),
            activity_dispatcher: Some(ActivityDispatcherOptions {
                poll_interval: Duration::from_millis(500),
                queues: vec!["default".into()],
                batch_size: 16,
            }),
            timer_wheel: Some(TimerWheelOptions { poll_interval: Duration::from_millis(1_000) }),
            signal_router: Some(SignalRouterOptions {}),
            snapshotter: None,
        }
    }
}

impl ChildOptions {
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
            timer_wheel: None,
            signal_router: None,
            snapshotter: None,
        }
    }

    /// The lease time-to-live in force (the heartbeater's, or its default).
    pub fn lease_ttl(&self) -> Duration {
        self.heartbeater.as_ref().map(|h| h.lease_ttl).unwrap_or(Duration::from_millis(10_000))
    }
}
