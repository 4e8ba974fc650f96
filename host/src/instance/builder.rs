//! Building an instance in code: the embedding API's analogue of the seed's
//! `Continuum.children/1`. The manifest loader uses it too.

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use crate::activities::{link_activity_component, load_activity_component, ActivityRegistry, SandboxConfig};
use crate::engine::{RunLimits, WasmEngine};
use crate::journal::{self, BatcherConfig, GroupCommit, SharedJournal};
use crate::modules::{CompileCache, ModuleError, ModuleRegistry};
use crate::Error;

use super::options::ChildrenConfig;
use super::{activity_supervisor, initial_counter, FinishedRuns, Instance, Registry, RunSupervisor, Shared, Wakeups};

/// Builds an [`Instance`].
pub struct InstanceBuilder {
    name: String,
    database: Option<String>,
    journal: Option<SharedJournal>,
    max_connections: u32,
    connect_timeout: Duration,
    node: Option<String>,
    workflows: Vec<(String, PathBuf)>,
    activity_components: Vec<PathBuf>,
    activities: ActivityRegistry,
    sandbox: SandboxConfig,
    children: ChildrenConfig,
    cache_dir: Option<PathBuf>,
    batcher: BatcherConfig,
}

impl InstanceBuilder {
    pub(crate) fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            database: None,
            journal: None,
            max_connections: 16,
            connect_timeout: journal::DEFAULT_CONNECT_TIMEOUT,
            node: None,
            workflows: Vec::new(),
            activity_components: Vec::new(),
            activities: ActivityRegistry::new(),
            sandbox: SandboxConfig::default(),
            children: ChildrenConfig::default(),
            cache_dir: None,
            batcher: BatcherConfig::default(),
        }
    }

    /// The database URL (`postgres://...` or `sqlite:...`).
    pub fn database(mut self, url: impl Into<String>) -> Self {
        self.database = Some(url.into());
        self
    }

    /// Uses an already opened database instead of a URL (instances of one
    /// process sharing one pool, or one SQLite file).
    pub fn shared_database(mut self, database: crate::Database) -> Self {
        self.journal = Some(database.journal);
        self
    }

    /// Connection pool size (default 16).
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n;
        self
    }

    /// How long opening the database may take before it counts as
    /// unreachable (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// This host's node name, the first part of lease owners (default:
    /// the hostname). Checked by [`InstanceBuilder::build`] as the manifest
    /// checks `node`: not empty, no `/`, no whitespace or control characters
    /// ([`Error::InvalidNode`]).
    pub fn node(mut self, node: impl Into<String>) -> Self {
        self.node = Some(node.into());
        self
    }

    /// Serves workflow `name` from the component file at `path`.
    pub fn workflow(mut self, name: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        self.workflows.push((name.into(), path.into()));
        self
    }

    /// Provides the activities exported by the component at `path`.
    pub fn activity_component(mut self, path: impl Into<PathBuf>) -> Self {
        self.activity_components.push(path.into());
        self
    }

    /// What the instance's WASM activity components may touch through WASI:
    /// a sandbox directory, listed environment variables, listed hosts.
    /// Default: nothing (no directory, no environment, no network). Native
    /// activities are not affected.
    pub fn sandbox(mut self, sandbox: SandboxConfig) -> Self {
        self.sandbox = sandbox;
        self
    }

    /// Provides native Rust activities.
    pub fn activities(mut self, registry: ActivityRegistry) -> Self {
        self.activities.extend(registry);
        self
    }

    /// The children and their options (`None` leaves a child out).
    pub fn children(mut self, children: ChildrenConfig) -> Self {
        self.children = children;
        self
    }

    /// Where compiled modules are cached (default: `CONTINUUM_CACHE_DIR`,
    /// else in memory only).
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Group-commit tuning (run writes and run creations).
    pub fn batcher(mut self, config: BatcherConfig) -> Self {
        self.batcher = config;
        self
    }

    /// Connects, migrates, loads the modules and returns the instance (not
    /// started yet).
    pub async fn build(self) -> Result<Instance, Error> {
        let name = self.name;
        let config_err = |message: String| Error::Config { instance: name.clone(), message };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(config_err(format!("invalid instance name `{name}` (use letters, digits, - and _)")));
        }
        if let Some(node) = &self.node {
            if let Some(reason) = crate::manifest::invalid_node(node) {
                return Err(Error::InvalidNode { instance: name.clone(), node: node.clone(), reason });
            }
        }
        if self.children.run_supervisor.is_some() && self.children.heartbeater.is_none() {
            return Err(config_err(
                "the heartbeater is left out while the run supervisor is on: nothing would renew the leases of its runs"
                    .into(),
            ));
        }
        if let Some(message) = too_many_permits(&self.children) {
            return Err(config_err(message));
        }
        let journal = match (self.journal, self.database) {
            (Some(j), _) => j,
            (None, Some(url)) => journal::open_with_timeout(&url, self.max_connections, self.connect_timeout)
                .await
                .map_err(|source| match source {
                    e @ journal::JournalError::UnsupportedUrl(_) => Error::from(e),
                    source => Error::DatabaseUnreachable { instance: name.clone(), source: crate::DatabaseError(source) },
                })?,
            (None, None) => return Err(config_err("no database given".into())),
        };
        journal.migrate().await?;
        let executes = self.children.run_supervisor.is_some();
        let runs_activities = self.children.activity_supervisor.is_some();
        let engine = if executes || runs_activities {
            Some(WasmEngine::shared().map_err(ModuleError::Engine)?)
        } else {
            None
        };
        let cache_dir = self.cache_dir.or_else(|| std::env::var_os("CONTINUUM_CACHE_DIR").map(PathBuf::from));
        let cache = CompileCache::new(&name, cache_dir);
        // Activity files are checked before any workflow version is
        // published: a refused manifest changes nothing.
        let refused = |source| Error::ActivityModule { instance: name.clone(), source };
        let activities = match (&engine, &self.children.activity_supervisor) {
            (Some(engine), Some(opts)) => {
                let mut registry = ActivityRegistry::new();
                if !self.activity_components.is_empty() {
                    let sandbox = self.sandbox.prepare().map_err(|e| config_err(e.to_string()))?;
                    for path in &self.activity_components {
                        let loaded = load_activity_component(engine, &cache, path, &sandbox, opts.max_memory).await;
                        registry.extend(loaded.map_err(refused)?);
                    }
                }
                registry.extend(self.activities);
                Some(activity_supervisor::build(Arc::from(name.as_str()), registry, opts, journal.clone()))
            }
            _ => {
                // Not served here (a client): the files and the sandbox are
                // still checked, as a host would, so a manifest a host would
                // refuse is refused by every verb; nothing is created.
                if !self.activity_components.is_empty() {
                    self.sandbox.check().map_err(|e| config_err(e.to_string()))?;
                    let engine = WasmEngine::shared().map_err(ModuleError::Engine)?;
                    for path in &self.activity_components {
                        link_activity_component(&engine, &cache, path).map_err(refused)?;
                    }
                }
                None
            }
        };
        let modules = ModuleRegistry::load(
            Arc::from(name.as_str()),
            journal.clone(),
            if executes { engine.clone() } else { None },
            cache.clone(),
            &self.workflows,
            executes,
        )
        .await?;
        let node = self.node.unwrap_or_else(default_node);
        let batcher = GroupCommit::start(Arc::from(name.as_str()), journal.clone(), self.batcher);
        let (snapshotter, snapshot_queue) = match &self.children.snapshotter {
            Some(cfg) if executes => {
                let (s, q) = super::snapshotter::Snapshotter::new(cfg.threshold_events);
                (Some(s), Some(q))
            }
            _ => (None, None),
        };
        let worker_id = format!("{node}/{name}/activities/{}", super::initial_counter());
        let shared = Arc::new(Shared {
            name: Arc::from(name.as_str()),
            node,
            worker_id,
            journal,
            batcher,
            modules: Arc::new(modules),
            activities,
            served_queues: self.children.activity_dispatcher.as_ref().map(|d| d.queues.clone()).unwrap_or_default().into(),
            registry: Registry::default(),
            wakeups: Wakeups::default(),
            finished_runs: FinishedRuns::default(),
            run_supervisor: self.children.run_supervisor.as_ref().map(|o| RunSupervisor::new(o.max_concurrent_runs)),
            snapshotter,
            lease_ttl: self.children.lease_ttl(),
            run_limits: self.children.run_supervisor.as_ref().map(RunLimits::from).unwrap_or_default(),
            guest_budget: crate::engine::MemoryBudget::new(
                self.children.run_supervisor.as_ref().map(|r| r.max_guests_memory).unwrap_or(crate::RunSupervisorConfig::default().max_guests_memory),
            ),
            owner_counter: AtomicU64::new(initial_counter()),
        });
        Ok(Instance::new(shared, self.children, snapshot_queue))
    }
}

/// The most slots a concurrency limit may have (a semaphore holds at
/// most about 2^61 permits and panics past that; far fewer is already
/// more than a host can use).
const MAX_CONCURRENCY: usize = 1_000_000;

/// The first concurrency limit of `children` over [`MAX_CONCURRENCY`],
/// described, if any.
fn too_many_permits(children: &ChildrenConfig) -> Option<String> {
    let mut limits: Vec<(String, usize)> = Vec::new();
    if let Some(o) = &children.run_supervisor {
        limits.push(("run_supervisor.max_concurrent_runs".into(), o.max_concurrent_runs));
    }
    if let Some(o) = &children.activity_supervisor {
        limits.push(("activity_supervisor.max_concurrent".into(), o.max_concurrent));
        for (queue, n) in &o.queue_limits {
            limits.push((format!("activity_supervisor.queue_limits.{queue}"), *n));
        }
    }
    if let Some(o) = &children.activity_dispatcher {
        limits.push(("activity_dispatcher.batch_size".into(), o.batch_size));
    }
    if let Some(o) = &children.dispatcher {
        limits.push(("dispatcher.batch_size".into(), o.batch_size));
    }
    limits
        .into_iter()
        .find(|(_, n)| *n > MAX_CONCURRENCY)
        .map(|(key, n)| format!("children.{key} is {n}; at most {MAX_CONCURRENCY} is allowed"))
}

/// The machine's hostname, or `node`.
pub fn default_node() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_string()).filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "node".into())
}

#[cfg(test)]
mod tests {
    use crate::instance::{ChildrenConfig, Instance};
    use crate::Error;

    #[tokio::test]
    async fn a_node_name_is_checked_as_the_manifest_checks_it() {
        for node in ["", "a/b", "two words", "tab\there"] {
            let built = Instance::builder("default").database("sqlite::memory:").node(node).build().await;
            match built {
                Err(Error::InvalidNode { instance, node: n, reason }) => {
                    assert_eq!((instance.as_str(), n.as_str()), ("default", node));
                    assert!(!reason.is_empty());
                }
                Err(e) => panic!("node {node:?}: expected InvalidNode, got {e}"),
                Ok(_) => panic!("node {node:?} was accepted"),
            }
        }
        let ok = Instance::builder("default").database("sqlite::memory:").node("host-a.example").build().await;
        assert!(ok.is_ok(), "{:?}", ok.err());
    }

    #[tokio::test]
    async fn a_concurrency_limit_past_what_a_semaphore_holds_is_refused() {
        let mut children = ChildrenConfig::default();
        if let Some(o) = children.run_supervisor.as_mut() {
            o.max_concurrent_runs = usize::MAX / 2;
        }
        match Instance::builder("default").database("sqlite::memory:").children(children).build().await {
            Err(Error::Config { message, .. }) => assert!(message.contains("max_concurrent_runs"), "{message}"),
            Err(e) => panic!("expected a configuration error, got {e}"),
            Ok(_) => panic!("built"),
        }
        let mut children = ChildrenConfig::default();
        if let Some(o) = children.activity_supervisor.as_mut() {
            o.queue_limits.insert("slow".into(), usize::MAX);
        }
        match Instance::builder("default").database("sqlite::memory:").children(children).build().await {
            Err(Error::Config { message, .. }) => assert!(message.contains("queue_limits.slow"), "{message}"),
            Err(e) => panic!("expected a configuration error, got {e}"),
            Ok(_) => panic!("built"),
        }
    }

    #[tokio::test]
    async fn no_heartbeater_beside_a_run_supervisor_is_refused() {
        let children = ChildrenConfig { heartbeater: None, ..ChildrenConfig::default() };
        match Instance::builder("default").database("sqlite::memory:").children(children).build().await {
            Err(Error::Config { instance, message }) => {
                assert_eq!(instance, "default");
                assert!(message.contains("heartbeater"), "{message}");
            }
            Err(e) => panic!("expected a configuration error, got {e}"),
            Ok(_) => panic!("an instance without a heartbeater was built"),
        }
        let children = ChildrenConfig { heartbeater: None, run_supervisor: None, ..ChildrenConfig::default() };
        let ok = Instance::builder("default").database("sqlite::memory:").children(children).build().await;
        assert!(ok.is_ok(), "{:?}", ok.err());
    }
}
