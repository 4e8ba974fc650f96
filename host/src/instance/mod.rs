//! One instance: a named runtime bound to one database, with its children
//! (registry, run supervisor, activity worker supervisor, lease heartbeater,
//! dispatcher, activity dispatcher, wake router, recovery), each a task
//! with its own options. Timers are fired by the dispatcher.

mod activity_dispatcher;
mod activity_supervisor;
mod activity_workers;
mod builder;
mod cancel;
mod chain;
mod claim_window;
mod dispatcher;
mod finished_runs;
mod heartbeater;
pub(crate) mod module_lookup;
pub mod options;
mod recovery;
mod registry;
mod run_supervisor;
mod schedules;
mod scheduler;
mod snapshotter;
mod start;
mod start_conflict;
mod wake_router;
mod wakeups;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::activities::ActivityExecutor;
use crate::engine::{RunEnv, RunLimits};
use crate::journal::{GroupCommit, SharedJournal};
use crate::modules::ModuleRegistry;

pub use builder::InstanceBuilder;
pub use cancel::CANCEL_CONFIRM_TIMEOUT;
pub use options::ChildrenConfig;
pub use finished_runs::{FinishedRuns, RunFinished};
pub use registry::{HeldLease, Registry};
pub use run_supervisor::RunSupervisor;
pub use wakeups::Wakeups;

/// What an instance's children share.
pub struct Shared {
    pub(crate) name: Arc<str>,
    pub(crate) node: String,
    /// Who this host is in the instance's announcements of activity
    /// workers (`activity_workers`).
    pub(crate) worker_id: String,
    pub(crate) journal: SharedJournal,
    /// The group commit of run writes and run creations.
    pub(crate) batcher: GroupCommit,
    pub(crate) modules: Arc<ModuleRegistry>,
    pub(crate) activities: Option<Arc<ActivityExecutor>>,
    /// The queues the activity dispatcher serves (none when it is off).
    pub(crate) served_queues: Arc<[String]>,
    pub(crate) registry: Registry,
    pub(crate) wakeups: Wakeups,
    pub(crate) finished_runs: FinishedRuns,
    pub(crate) run_supervisor: Option<RunSupervisor>,
    pub(crate) snapshotter: Option<snapshotter::Snapshotter>,
    pub(crate) lease_ttl: Duration,
    /// What one run's guest may use here (the run supervisor's limits).
    pub(crate) run_limits: RunLimits,
    /// What all the runs executing here may hold in guest memory and
    /// uncommitted journal data (`max_guests_memory_mb`).
    pub(crate) guest_budget: Arc<crate::engine::MemoryBudget>,
    owner_counter: AtomicU64,
}

impl Shared {
    /// A new lease owner string, `node/instance/counter`, unique in time.
    pub(crate) fn next_owner(&self) -> String {
        let n = self.owner_counter.fetch_add(1, Ordering::Relaxed);
        format!("{}/{}/{}", self.node, self.name, n)
    }

    /// What a run's engine needs.
    pub(crate) fn run_env(&self) -> RunEnv {
        RunEnv {
            instance: self.name.clone(),
            journal: self.journal.clone(),
            batcher: self.batcher.clone(),
            activities: self.activities.clone(),
            served_queues: self.served_queues.clone(),
            limits: self.run_limits,
            budget: self.guest_budget.clone(),
            modules: self.modules.clone(),
        }
    }
}

/// A built instance. [`Instance::start`] spawns its children on the current
/// tokio runtime; [`Instance::stop`] stops them.
pub struct Instance {
    pub(crate) shared: Arc<Shared>,
    pub(crate) options: ChildrenConfig,
    snapshot_queue: Mutex<Option<snapshotter::SnapshotQueue>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Instance {
    /// Starts building an instance named `name`.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), continuum_host::Error> {
    /// use continuum_host::{ChildrenConfig, Instance};
    /// let billing = Instance::builder("billing")
    ///     .database("sqlite:/tmp/billing.db")
    ///     .workflow("billing-flow", "examples-wasm/components/billing_flow.wasm")
    ///     .children(ChildrenConfig::default())
    ///     .build()
    ///     .await?;
    /// billing.start();
    /// # Ok(()) }
    /// ```
    pub fn builder(name: impl Into<String>) -> InstanceBuilder {
        InstanceBuilder::new(name)
    }

    pub(crate) fn new(
        shared: Arc<Shared>,
        options: ChildrenConfig,
        snapshot_queue: Option<snapshotter::SnapshotQueue>,
    ) -> Self {
        Self { shared, options, snapshot_queue: Mutex::new(snapshot_queue), tasks: Mutex::new(Vec::new()) }
    }

    /// The instance's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The instance's journal.
    pub(crate) fn journal(&self) -> &SharedJournal {
        &self.shared.journal
    }

    /// The instance's workflow module versions.
    pub(crate) fn modules(&self) -> &ModuleRegistry {
        &self.shared.modules
    }

    /// The content hash (hex SHA-256) of the current version of `workflow`
    /// as this process knows it: the version new runs start on. `None` for
    /// a workflow the instance does not serve.
    pub fn current_version(&self, workflow: &str) -> Option<String> {
        self.shared.modules.current_hash(workflow)
    }

    /// True if this process executes runs for the instance.
    pub fn executes_runs(&self) -> bool {
        self.shared.run_supervisor.is_some()
    }

    /// Group-commit counters: (writes, transactions).
    pub fn commit_stats(&self) -> (u64, u64) {
        self.shared.batcher.stats()
    }

    /// Write transactions this instance's journal committed in this
    /// process so far: exact at any moment (see `journal::CommitCounter`).
    pub fn commits(&self) -> u64 {
        self.shared.journal.commits()
    }

    /// The runs that finished in this process (for a local `await`).
    pub(crate) fn finished_runs(&self) -> &FinishedRuns {
        &self.shared.finished_runs
    }

    /// Spawns the children the options enable. Calling it twice does nothing
    /// more.
    pub fn start(&self) {
        let Ok(mut tasks) = self.tasks.lock() else { return };
        if !tasks.is_empty() {
            return;
        }
        let o = &self.options;
        let s = &self.shared;
        if o.run_supervisor.is_some() {
            if let Some(d) = o.dispatcher.clone() {
                tasks.push(tokio::spawn(dispatcher::run(s.clone(), d)));
            }
            if let Some(h) = o.heartbeater.clone() {
                tasks.push(tokio::spawn(heartbeater::run(s.clone(), h)));
            }
            if let Some(r) = o.recovery.clone() {
                tasks.push(tokio::spawn(recovery::run(s.clone(), r)));
            }
        }
        if let Some(a) = o.activity_dispatcher.clone() {
            tasks.push(tokio::spawn(activity_dispatcher::run(s.clone(), a)));
        }
        if let Some(c) = o.scheduler.clone() {
            tasks.push(tokio::spawn(scheduler::run(s.clone(), c)));
        }
        if let Some(r) = o.wake_router.clone() {
            tasks.push(tokio::spawn(wake_router::run(s.clone(), r)));
        }
        if let Some(queue) = self.snapshot_queue.lock().ok().and_then(|mut q| q.take()) {
            tasks.push(tokio::spawn(snapshotter::run(s.journal.clone(), s.name.clone(), queue)));
        }
        tracing::info!(instance = %s.name, node = %s.node, children = tasks.len(), database = s.journal.kind(), "instance started");
    }

    /// Stops the children and the runs executing here; their leases are
    /// released so other hosts take over at once.
    pub async fn stop(&self) {
        let tasks: Vec<JoinHandle<()>> = match self.tasks.lock() {
            Ok(mut t) => t.drain(..).collect(),
            Err(_) => Vec::new(),
        };
        for t in &tasks {
            t.abort();
        }
        for HeldLease { key, lease, workflow, .. } in self.shared.registry.leases(&self.shared.name) {
            self.shared.registry.lease_lost(&key.run_id);
            if let Ok(true) = self.shared.journal.release_lease(&key, &lease, Duration::ZERO).await {
                tracing::debug!(instance = %key.instance, run_id = %key.run_id, %workflow, owner = %lease.owner,
                    token = lease.token, reason = "instance stopped", "lease released");
            }
        }
        if self.options.activity_dispatcher.is_some() {
            if let Err(e) = self.shared.journal.withdraw_worker(&self.shared.name, &self.shared.worker_id).await {
                tracing::debug!(instance = %self.shared.name, error = %e, "withdrawing the activity worker's announcement failed");
            }
        }
        tracing::info!(instance = %self.shared.name, "instance stopped");
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Ok(tasks) = self.tasks.lock() {
            for t in tasks.iter() {
                t.abort();
            }
        }
    }
}

fn initial_counter() -> u64 {
    // Unique across restarts of the same node: start from the clock.
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}
