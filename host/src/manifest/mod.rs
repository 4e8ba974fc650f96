//! `instances.toml`: the host's manifest. Parsing, validation and defaults.
//!
//! The manifest names the node, a data directory and one or more
//! **instances**. Each instance is an isolated runtime bound to one database,
//! with its own workflow and activity components and its own set of
//! children (heartbeater, dispatchers, recovery, ...), each tunable or
//! switchable off.
//!
//! # Format
//!
//! ```toml
//! # optional; default: the machine's hostname (env HOSTNAME, else /etc/hostname, else "node")
//! node = "host-a"
//! # optional, default ".continuum"; relative paths in this file are relative
//! # to the manifest's directory
//! data_dir = ".continuum"
//!
//! [instances.default]
//! # required: postgres://..., postgresql://... or sqlite:...
//! # A relative SQLite path ("sqlite:data/default.db") resolves against the
//! # manifest's directory. "${VAR}" anywhere in the string is replaced by the
//! # environment variable VAR (an error names VAR if it is unset).
//! database = "sqlite:.continuum/default.db"
//! max_connections = 16            # optional, default 16
//! connect_timeout_ms = 5000       # optional, default 5000: an unreachable database is refused after this
//!
//! [instances.default.workflows]   # workflow name -> component file
//! order-flow = "examples-wasm/components/order_flow.wasm"
//!
//! [instances.default.activities]  # component name -> activity component file
//! order-activities = "examples-wasm/components/order_activities.wasm"
//!
//! [instances.default.sandbox]     # what WASM activities may touch through WASI (all optional)
//! dir = "sandbox/default"         # default <data_dir>/sandbox/<instance>; created if missing
//! env = ["PAYMENTS_API_KEY"]      # host variables visible to activities (only these)
//! allow_hosts = ["example.com:443"]   # TCP connections to these pairs only; default: no network
//!
//! [instances.default.children]    # every child optional; a table of options, or false to leave it out
//! heartbeater = { interval_ms = 2000, lease_ttl_ms = 10000 }
//! # The limits of one run's guest; past one, the run fails with the error code cpu_limit,
//! # memory_limit or history_limit and a message naming the limit. An activation is one execution
//! # of a run on a host (replay, then live until it waits or ends). max_activation_ms: CPU time
//! # of one activation (a guest looping without waiting is stopped; a cancel stops it at once);
//! # max_memory_mb: a workflow's memory (at most 256); max_activation_events and
//! # max_activation_mb: what one activation may record before it is committed;
//! # max_history_events: the events a run's journal may hold
//! run_supervisor = { max_concurrent_runs = 512, max_activation_ms = 10000, max_memory_mb = 64, max_activation_events = 50000, max_activation_mb = 64, max_history_events = 200000 }
//! # queue_limits: per-queue caps on attempts at once ({ slow = 4 }); max_memory_mb: memory of one WASM
//! # attempt (at most 256); heartbeat details stored at most once per heartbeat_interval_ms
//! # per call; a cancelled attempt gets cancel_grace_ms to return by itself
//! activity_supervisor = { max_concurrent = 64, default_attempt_timeout_ms = 60000, queue_limits = {}, max_memory_mb = 256, heartbeat_interval_ms = 1000, cancel_grace_ms = 5000 }
//! recovery = { interval_ms = 5000 }
//! dispatcher = { poll_interval_ms = 500, batch_size = 64 }
//! activity_dispatcher = { poll_interval_ms = 500, queues = ["default"], batch_size = 16 }
//! wake_router = { }               # routes the database's wake-ups; `signal_router`, its former name, is accepted
//! snapshotter = false            # off by default: { threshold_events = 1000 }
//!
//! [instances.default.schedules.nightly]   # optional: schedules (see the README)
//! workflow = "order-flow"         # required: one of the instance's workflows
//! cron = "0 3 * * *"              # a cron expression (5 fields, or 6 with seconds first), or:
//! # at = "2030-01-01T00:00:00Z"   # one time (RFC 3339)
//! time_zone = "Europe/Paris"      # optional, default "UTC" (cron only)
//! input = { order_id = "o-1" }    # optional, default {}
//! overlap = "skip"                # optional: "skip" (default) a tick while the last run is going, or "allow"
//! catch_up_ms = 60000             # optional: a tick later than this after downtime is skipped
//!
//! [telemetry]                     # optional: OpenTelemetry export over OTLP/HTTP
//! otlp_endpoint = "http://127.0.0.1:4318"   # base URL; ${VAR} substituted; default: OTEL_EXPORTER_OTLP_* variables
//! service_name = "continuum"      # optional, default OTEL_SERVICE_NAME, else "continuum"
//!
//! [http]                          # optional: the HTTP API of `continuum serve` (see README)
//! listen = "127.0.0.1:7070"       # IP:port; without tokens only a loopback address
//! admin_token = "${ADMIN_TOKEN}"  # optional: may do everything
//! max_body_bytes = 4259840        # optional: larger request bodies are refused
//! max_payload_bytes = 4194304     # optional: larger inputs and signal payloads are refused
//! [http.tokens]                   # optional: instance -> bearer token of that instance only
//! default = "${DEFAULT_TOKEN}"
//!
//! [instances.billing]
//! database = "postgres://continuum:${BILLING_DB_PASSWORD}@db/billing"
//!
//! [instances.billing.children]
//! activity_dispatcher = false     # no activities of billing here: worker hosts serve its queues
//! ```
//!
//! Rules:
//! - Instance names match `[A-Za-z0-9_-]+`; at least one instance is required.
//!   [`DEFAULT_INSTANCE`] is the one calls use when they name none.
//! - Unknown keys are errors (naming the full key path, with a suggestion
//!   for likely typos), so a misspelt option never silently keeps its default.
//! - Counts and durations (`*_ms`, in milliseconds) are positive integers;
//!   `lease_ttl_ms` must exceed the heartbeater's `interval_ms`.
//! - A child key absent means "run it with defaults" (the snapshotter alone
//!   is off unless given); a table sets options; `false` leaves it out;
//!   anything else (`true`, a number, ...) is an error.
//! - Component paths and `data_dir` resolve against the manifest's
//!   directory; [`Manifest::parse`] never touches the component files, and
//!   [`Manifest::validate_files`] checks they exist.
//!
//! Every [`ManifestError`] message names the manifest file and, where one
//! applies, the instance and the full key.

mod children;
mod error;
mod http;
mod reader;
mod sandbox;
mod schedules;
mod syntax;
mod telemetry;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::{Table, Value};

pub use children::{
    ActivityDispatcherConfig, ActivitySupervisorConfig, ChildrenConfig, DispatcherConfig,
    HeartbeaterConfig, RecoveryConfig, RunSupervisorConfig, WakeRouterConfig, SchedulerConfig, SnapshotterConfig,
};
pub use error::ManifestError;
pub use http::{HttpConfig, DEFAULT_MAX_BODY_BYTES};

use reader::{
    join_key, resolve_database, resolve_path, substitute_env, Ctx, DatabaseError, SubstError,
    TableReader,
};

/// The instance calls use when they name none.
pub const DEFAULT_INSTANCE: &str = "default";

/// The file name the host loads when given no manifest path.
pub const DEFAULT_MANIFEST_FILE: &str = "instances.toml";

/// Default `max_connections` of an instance's database pool.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 16;

/// Default `connect_timeout_ms`: how long opening an instance's database
/// may take at start-up before it is refused as unreachable.
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 5000;

/// Default `data_dir`, relative to the manifest's directory.
pub const DEFAULT_DATA_DIR: &str = ".continuum";

/// A parsed and validated `instances.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The manifest file (made absolute).
    pub path: PathBuf,
    /// This host's node name; the first part of every lease owner string
    /// (`node/instance/n`).
    pub node: String,
    /// Directory for local state (resolved against the manifest's directory).
    pub data_dir: PathBuf,
    /// The instances, by name.
    pub instances: BTreeMap<String, InstanceConfig>,
    /// OpenTelemetry export (`[telemetry]`); default: as the environment says.
    pub telemetry: crate::telemetry::TelemetryConfig,
    /// The HTTP API `continuum serve` offers (`[http]`); none when absent.
    pub http: Option<HttpConfig>,
}

/// One instance: a runtime bound to one database.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceConfig {
    /// The instance's name (`[instances.NAME]`).
    pub name: String,
    /// The database URL with `${VAR}` substituted and a relative SQLite path
    /// made absolute.
    pub database: String,
    /// Size of the database connection pool.
    pub max_connections: u32,
    /// How long opening the database may take at start-up.
    pub connect_timeout: std::time::Duration,
    /// Workflow name → component file (resolved path).
    pub workflows: BTreeMap<String, PathBuf>,
    /// Activity component name → component file (resolved path).
    pub activities: BTreeMap<String, PathBuf>,
    /// The instance's children and their options.
    pub children: ChildrenConfig,
    /// The schedules it declares (`[instances.NAME.schedules.SCHEDULE]`),
    /// made the stored ones of origin `manifest` when a host serves it.
    pub schedules: Vec<crate::schedule::ScheduleSpec>,
    /// What its WASM activity components may touch (`[instances.NAME.sandbox]`);
    /// the directory defaults to `<data_dir>/sandbox/<instance>`.
    pub sandbox: crate::activities::SandboxConfig,
}

impl InstanceConfig {
    /// Whether the database is SQLite (as opposed to Postgres).
    pub fn is_sqlite(&self) -> bool {
        self.database.starts_with("sqlite:")
    }
}

impl Manifest {
    /// Read and parse the manifest at `path`.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parse manifest `text` as if read from `path`. `path` names the file in
    /// errors and anchors relative paths; component files are not touched.
    /// Environment variables (`${VAR}`, the default node name) come from the
    /// process environment.
    pub fn parse(text: &str, path: &Path) -> Result<Manifest, ManifestError> {
        Self::parse_with_env(text, path, &|name| std::env::var(name).ok())
    }

    /// Like [`Manifest::parse`], but environment variables are looked up
    /// through `env` (for embedding and tests).
    pub fn parse_with_env(
        text: &str,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Manifest, ManifestError> {
        let root: Table = toml::from_str(text).map_err(|e| syntax::syntax_error(path, text, &e))?;
        let base = base_dir(path);
        let ctx = Ctx {
            file: path,
            instance: None,
        };
        let mut top = TableReader::new(ctx.clone(), String::new(), root);

        let node = match top.string("node")? {
            Some(node) => node,
            None => default_node(env),
        };
        if let Some(reason) = invalid_node(&node) {
            return Err(ctx.invalid("node".to_owned(), reason));
        }
        let data_dir = match top.string("data_dir")? {
            Some(dir) if dir.is_empty() => {
                return Err(ctx.invalid("data_dir".to_owned(), "must not be empty"))
            }
            Some(dir) => resolve_path(&base, Path::new(&dir)),
            None => resolve_path(&base, Path::new(DEFAULT_DATA_DIR)),
        };
        let tables = top.table("instances")?.unwrap_or_default();
        let telemetry = telemetry::parse_telemetry(ctx.clone(), top.table("telemetry")?, env)?;
        let names: Vec<&str> = tables.keys().map(String::as_str).collect();
        let http = http::parse_http(ctx.clone(), top.table("http")?, &names, env)?;
        top.finish()?;

        if tables.is_empty() {
            return Err(ManifestError::NoInstances {
                file: path.to_path_buf(),
            });
        }
        let mut instances = BTreeMap::new();
        for (name, value) in tables {
            let instance = parse_instance(path, &base, &data_dir, &name, value, env)?;
            instances.insert(name, instance);
        }
        sandbox::check_disjoint(path, instances.iter().map(|(n, i)| (n.as_str(), &i.sandbox)))?;

        Ok(Manifest {
            path: std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
            node,
            data_dir,
            instances,
            telemetry,
            http,
        })
    }

    /// The instance called `name`, if the manifest defines it.
    pub fn instance(&self, name: &str) -> Option<&InstanceConfig> {
        self.instances.get(name)
    }

    /// Check that every workflow and activity component file exists; the
    /// error names the manifest, the instance, the key and the missing path.
    pub fn validate_files(&self) -> Result<(), ManifestError> {
        for (name, instance) in &self.instances {
            let prefix = join_key("instances", name);
            let sections = [
                ("workflows", &instance.workflows),
                ("activities", &instance.activities),
            ];
            for (section, files) in sections {
                for (key, file) in files {
                    if !file.is_file() {
                        return Err(ManifestError::MissingModuleFile {
                            file: self.path.clone(),
                            instance: name.clone(),
                            key: join_key(&join_key(&prefix, section), key),
                            path: file.clone(),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

fn parse_instance(
    file: &Path,
    base: &Path,
    data_dir: &Path,
    name: &str,
    value: Value,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<InstanceConfig, ManifestError> {
    let prefix = join_key("instances", name);
    let valid_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid_name {
        return Err(ManifestError::InvalidInstanceName {
            file: file.to_path_buf(),
            instance: name.to_owned(),
            key: prefix,
        });
    }
    let ctx = Ctx {
        file,
        instance: Some(name),
    };
    let table = match value {
        Value::Table(t) => t,
        other => return Err(ctx.wrong_type(prefix, "a table", &other)),
    };
    let mut r = TableReader::new(ctx.clone(), prefix.clone(), table);

    let db_key = r.key("database");
    let raw = r
        .string("database")?
        .ok_or_else(|| ManifestError::MissingKey {
            file: file.to_path_buf(),
            instance: Some(name.to_owned()),
            key: db_key.clone(),
        })?;
    let substituted = substitute_env(&raw, env).map_err(|e| match e {
        SubstError::Unset(var) => ManifestError::UnsetEnvVar {
            file: file.to_path_buf(),
            instance: name.to_owned(),
            key: db_key.clone(),
            var,
        },
        SubstError::Malformed(reason) => ctx.invalid(db_key.clone(), reason),
    })?;
    let database = resolve_database(&substituted, base).map_err(|e| match e {
        DatabaseError::UnsupportedScheme(scheme) => ManifestError::UnsupportedDatabase {
            file: file.to_path_buf(),
            instance: name.to_owned(),
            key: db_key.clone(),
            scheme: if scheme.is_empty() {
                "(none)".to_owned()
            } else {
                scheme
            },
        },
    })?;
    let max_connections = r.positive_u32("max_connections", DEFAULT_MAX_CONNECTIONS)?;
    let connect_timeout = std::time::Duration::from_millis(r.positive("connect_timeout_ms", DEFAULT_CONNECT_TIMEOUT_MS)?);
    let workflows_key = r.key("workflows");
    let workflows = component_map(&ctx, base, workflows_key.clone(), r.table("workflows")?)?;
    for name in workflows.keys() {
        let limit = crate::input_limits::MAX_WORKFLOW_NAME_CHARS;
        if let Some(reason) = crate::input_limits::invalid_name(name, limit, false) {
            let shown = crate::input_limits::clip(name);
            return Err(ctx.invalid(join_key(&workflows_key, &shown), format!("invalid workflow name: it {reason}")));
        }
    }
    let activities_key = r.key("activities");
    let activities = component_map(&ctx, base, activities_key, r.table("activities")?)?;
    let children_key = r.key("children");
    let children = children::parse_children(ctx.clone(), children_key, r.table("children")?)?;
    let schedules_key = r.key("schedules");
    let schedules = schedules::parse_schedules(&ctx, &schedules_key, r.table("schedules")?, &workflows)?;
    let sandbox_key = r.key("sandbox");
    let sandbox = sandbox::parse_sandbox(ctx.clone(), sandbox_key, r.table("sandbox")?, base, data_dir, name)?;
    r.finish()?;

    Ok(InstanceConfig {
        name: name.to_owned(),
        database,
        max_connections,
        connect_timeout,
        workflows,
        activities,
        children,
        schedules,
        sandbox,
    })
}

/// A `name = "path"` table, paths resolved against `base`.
fn component_map(
    ctx: &Ctx<'_>,
    base: &Path,
    prefix: String,
    table: Option<Table>,
) -> Result<BTreeMap<String, PathBuf>, ManifestError> {
    let mut out = BTreeMap::new();
    for (name, value) in table.unwrap_or_default() {
        let key = join_key(&prefix, &name);
        match value {
            Value::String(p) if p.is_empty() => {
                return Err(ctx.invalid(key, "component path must not be empty"))
            }
            Value::String(p) => {
                out.insert(name, resolve_path(base, Path::new(&p)));
            }
            other => return Err(ctx.wrong_type(key, "a component file path (string)", &other)),
        }
    }
    Ok(out)
}

/// The directory relative paths in the manifest are anchored to.
fn base_dir(path: &Path) -> PathBuf {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::path::absolute(parent).unwrap_or_else(|_| parent.to_path_buf())
}

/// `HOSTNAME`, else `/etc/hostname`, else `"node"`.
fn default_node(env: &dyn Fn(&str) -> Option<String>) -> String {
    let from_env = env("HOSTNAME").map(|h| h.trim().to_owned());
    let from_file = || {
        std::fs::read_to_string("/etc/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
    };
    from_env
        .filter(|h| invalid_node(h).is_none())
        .or_else(|| from_file().filter(|h| invalid_node(h).is_none()))
        .unwrap_or_else(|| "node".to_owned())
}

/// Why `node` cannot be a node name (it is part of `node/instance/n` lease
/// owners); `None` when it can.
pub fn invalid_node(node: &str) -> Option<&'static str> {
    if node.is_empty() {
        Some("node name must not be empty")
    } else if node.contains('/') {
        Some("node name must not contain `/` (lease owners are `node/instance/n`)")
    } else if node.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("node name must not contain whitespace or control characters")
    } else {
        None
    }
}
