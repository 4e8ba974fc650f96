//! Per-child options of an instance (`[instances.NAME.children]`).
//!
//! Every child is optional. A missing key means the child runs with its
//! default options; a table sets options (missing options keep their
//! defaults); `false` leaves the child out. The snapshotter alone is off by
//! default. Durations are written in milliseconds (`*_ms` keys) and exposed
//! as [`Duration`] fields without the suffix.
//!
//! Contradictions are refused: `heartbeater = false` while the run
//! supervisor runs (nothing would renew its runs' leases), and options for
//! a child that only runs beside the run supervisor (dispatcher, recovery,
//! timer wheel, snapshotter) when `run_supervisor = false`.

use std::collections::BTreeMap;
use std::time::Duration;

use toml::{Table, Value};

use super::reader::{join_key, Ctx, TableReader};
use super::ManifestError;

/// Lease heartbeater: renews the leases of the runs this instance owns.
#[derive(Debug, Clone, PartialEq)]
pub struct HeartbeaterConfig {
    /// How often leases are renewed (`interval_ms`, default 2000).
    pub interval: Duration,
    /// How long a lease lasts without renewal (`lease_ttl_ms`, default
    /// 10000); must be longer than `interval`.
    pub lease_ttl: Duration,
}

impl Default for HeartbeaterConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_millis(2000),
            lease_ttl: Duration::from_millis(10_000),
        }
    }
}

/// Run supervisor: owns the engines of the runs executing in this process,
/// and holds each run's guest to its limits. An activation is one
/// execution of a run here: its guest replays the journal and goes on until
/// it waits (suspends) or ends. A run past a limit fails, with the error
/// code `cpu_limit`, `memory_limit` or `history_limit` and a message naming
/// the limit.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSupervisorConfig {
    /// Most runs held in memory at once (`max_concurrent_runs`, default 512).
    pub max_concurrent_runs: usize,
    /// CPU time one activation may spend (`max_activation_ms`, default
    /// 10000): a guest that computes longer without waiting (a loop that
    /// never calls the host) is stopped. A cancellation stops a guest in
    /// such a loop within an epoch tick.
    pub max_activation: Duration,
    /// The most linear memory a workflow guest may grow to
    /// (`max_memory_mb`, default 64, at most 256).
    pub max_memory: usize,
    /// Journal events one activation may record before they are committed
    /// (`max_activation_events`, default 50000).
    pub max_activation_events: usize,
    /// Journal data (as JSON) one activation may record before it is
    /// committed (`max_activation_mb`, default 64).
    pub max_activation_bytes: usize,
    /// Events a run's journal may hold (`max_history_events`, default
    /// 200000).
    pub max_history_events: u64,
    /// Core (module) instances one workflow guest may create
    /// (`max_core_instances`, default 64, room for the CPython and
    /// StarlingMonkey runtimes; a Rust guest needs one).
    pub max_core_instances: usize,
    /// Tables one workflow guest may create (`max_tables`, default 64).
    pub max_tables: usize,
    /// Linear memories one workflow guest may create (`max_memories`,
    /// default 32).
    pub max_memories: usize,
    /// What all the workflow guests of the instance executing on this host
    /// may hold at once, in bytes: their linear memory and the journal
    /// data they recorded but not yet committed (`max_guests_memory_mb`,
    /// default 2048, at least `max_memory_mb` + `max_activation_mb`). An
    /// activation the budget has no room for is deferred, not failed.
    pub max_guests_memory: usize,
    /// How long a workflow may clean up once a cancellation was delivered
    /// to it (`cancel_cleanup_ms`, default 60000): past it the run is
    /// terminated (ends cancelled, with the error code `terminated`).
    pub cancel_cleanup: Duration,
}

/// The most core instances, tables or memories `max_core_instances`,
/// `max_tables` and `max_memories` may grant one workflow guest.
pub const MAX_STORE_OBJECTS: usize = 1_000;

/// The most memory `max_memory_mb` of the run supervisor may grant (the
/// guests' memory slots are this large).
pub const MAX_WORKFLOW_MEMORY_MB: u64 = 256;

const _: () = assert!(
    (MAX_WORKFLOW_MEMORY_MB as usize) << 20 <= crate::engine::MAX_GUEST_MEMORY
        && (MAX_ACTIVITY_MEMORY_MB as usize) << 20 <= crate::engine::MAX_GUEST_MEMORY,
    "a memory limit may not exceed the guests' memory slots"
);

impl Default for RunSupervisorConfig {
    fn default() -> Self {
        Self {
            max_concurrent_runs: 512,
            max_activation: Duration::from_millis(10_000),
            max_memory: 64 << 20,
            max_activation_events: 50_000,
            max_activation_bytes: 64 << 20,
            max_history_events: 200_000,
            max_core_instances: 64,
            max_tables: 64,
            max_memories: 32,
            max_guests_memory: 2048 << 20,
            cancel_cleanup: Duration::from_millis(60_000),
        }
    }
}

/// Activity supervisor: executes activity attempts.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivitySupervisorConfig {
    /// Most activity attempts running at once (`max_concurrent`, default 64).
    pub max_concurrent: usize,
    /// Timeout of one attempt when the call gives none
    /// (`default_attempt_timeout_ms`, default 60000).
    pub default_attempt_timeout: Duration,
    /// Most attempts running at once per queue, for the queues listed
    /// (`queue_limits = { slow = 2 }`; other queues share only
    /// `max_concurrent`).
    pub queue_limits: BTreeMap<String, usize>,
    /// The most linear memory one WASM activity attempt may grow to
    /// (`max_memory_mb`, default and maximum 256); an attempt that
    /// grows past it is stopped and fails without a retry.
    pub max_memory: usize,
    /// Heartbeat details are stored at most once per this interval per
    /// call, the latest ones winning (`heartbeat_interval_ms`, default 1000).
    pub heartbeat_interval: Duration,
    /// How long a cancelled attempt may take to see its cancellation and
    /// return before it is stopped (`cancel_grace_ms`, default 5000).
    pub cancel_grace: Duration,
}

/// The most memory `max_memory_mb` may grant (the guests' memory slots are
/// this large).
pub const MAX_ACTIVITY_MEMORY_MB: u64 = 256;

impl Default for ActivitySupervisorConfig {
    fn default() -> Self {
        Self {
            max_concurrent: 64,
            default_attempt_timeout: Duration::from_millis(60_000),
            queue_limits: BTreeMap::new(),
            max_memory: (MAX_ACTIVITY_MEMORY_MB as usize) << 20,
            heartbeat_interval: Duration::from_millis(1000),
            cancel_grace: Duration::from_millis(5000),
        }
    }
}

/// Recovery: finds runs whose lease expired and resumes them.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveryConfig {
    /// How often to scan for expired leases (`interval_ms`, default 5000).
    pub interval: Duration,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_millis(5000),
        }
    }
}

/// Dispatcher: claims pending and woken runs and hands them to the run supervisor.
#[derive(Debug, Clone, PartialEq)]
pub struct DispatcherConfig {
    /// Backstop polling interval (`poll_interval_ms`, default 500).
    pub poll_interval: Duration,
    /// Most runs claimed per poll (`batch_size`, default 64).
    pub batch_size: usize,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(500),
            batch_size: 64,
        }
    }
}

/// Activity dispatcher: claims activity tasks from queues.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityDispatcherConfig {
    /// Backstop polling interval (`poll_interval_ms`, default 500).
    pub poll_interval: Duration,
    /// Queues this instance serves (`queues`, default `["default"]`; non-empty).
    pub queues: Vec<String>,
    /// Most tasks claimed per poll (`batch_size`, default 16).
    pub batch_size: usize,
}

impl Default for ActivityDispatcherConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(500),
            queues: vec!["default".to_owned()],
            batch_size: 16,
        }
    }
}

/// Wake router: routes the journal's notifications (a run is due, a
/// cancellation, a task, a deploy) to the child they concern. It has no
/// options yet. The manifest key is `wake_router`; `signal_router`, its
/// former name, is accepted in its place.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WakeRouterConfig {}

/// Snapshotter: writes snapshots so long journals replay faster. Off by default.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotterConfig {
    /// Events since the last snapshot that trigger a new one
    /// (`threshold_events`, default 1000).
    pub threshold_events: u64,
}

impl Default for SnapshotterConfig {
    fn default() -> Self {
        Self {
            threshold_events: 1000,
        }
    }
}

/// Scheduler: fires the instance's due schedule ticks (see the README's
/// schedules). It sleeps until the next tick, woken when a schedule
/// changes.
#[derive(Debug, Clone, PartialEq)]
pub struct SchedulerConfig {
    /// The longest sleep between two reads of the schedules
    /// (`poll_interval_ms`, default 1000): how soon a schedule created by
    /// another process without a notification (SQLite) is seen.
    pub poll_interval: Duration,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self { poll_interval: Duration::from_millis(1000) }
    }
}

/// The children of one instance. `None` means the child is left out
/// (`false` in the manifest).
#[derive(Debug, Clone, PartialEq)]
pub struct ChildrenConfig {
    /// `heartbeater`.
    pub heartbeater: Option<HeartbeaterConfig>,
    /// `run_supervisor`.
    pub run_supervisor: Option<RunSupervisorConfig>,
    /// `activity_supervisor`.
    pub activity_supervisor: Option<ActivitySupervisorConfig>,
    /// `recovery`.
    pub recovery: Option<RecoveryConfig>,
    /// `dispatcher`.
    pub dispatcher: Option<DispatcherConfig>,
    /// `activity_dispatcher`.
    pub activity_dispatcher: Option<ActivityDispatcherConfig>,
    /// `wake_router` (or its former name `signal_router`).
    pub wake_router: Option<WakeRouterConfig>,
    /// `snapshotter` (off unless configured).
    pub snapshotter: Option<SnapshotterConfig>,
    /// `scheduler`.
    pub scheduler: Option<SchedulerConfig>,
}

impl Default for ChildrenConfig {
    /// Every child on with default options, except the snapshotter (off).
    fn default() -> Self {
        Self {
            heartbeater: Some(HeartbeaterConfig::default()),
            run_supervisor: Some(RunSupervisorConfig::default()),
            activity_supervisor: Some(ActivitySupervisorConfig::default()),
            recovery: Some(RecoveryConfig::default()),
            dispatcher: Some(DispatcherConfig::default()),
            activity_dispatcher: Some(ActivityDispatcherConfig::default()),
            wake_router: Some(WakeRouterConfig::default()),
            snapshotter: None,
            scheduler: Some(SchedulerConfig::default()),
        }
    }
}

/// What the manifest says about one child.
enum Setting<'a> {
    /// Key absent: the default for this child.
    Absent,
    /// `false`: leave the child out.
    Off,
    /// An options table.
    On(TableReader<'a>),
}

fn setting<'a>(
    children: &mut TableReader<'a>,
    name: &'static str,
) -> Result<Setting<'a>, ManifestError> {
    let key = children.key(name);
    let ctx = children.ctx().clone();
    match children.take(name) {
        None => Ok(Setting::Absent),
        Some(Value::Boolean(false)) => Ok(Setting::Off),
        Some(Value::Table(t)) => Ok(Setting::On(TableReader::new(ctx, key, t))),
        Some(other) => {
            let found = match other {
                Value::Boolean(true) => "`true`".to_owned(),
                other => other.type_str().to_owned(),
            };
            Err(ManifestError::InvalidChild {
                file: ctx.file(),
                instance: ctx.instance().unwrap_or_default(),
                key,
                found,
            })
        }
    }
}

/// `queue_limits = { queue = n, ... }`: positive integers by queue name.
fn queue_limits(t: &mut TableReader<'_>) -> Result<BTreeMap<String, usize>, ManifestError> {
    let Some(table) = t.table("queue_limits")? else {
        return Ok(BTreeMap::new());
    };
    let mut limits = BTreeMap::new();
    for (queue, value) in table {
        let key = format!("{}.{queue}", t.key("queue_limits"));
        match value.as_integer() {
            Some(n) if n > 0 => {
                limits.insert(queue, n as usize);
            }
            Some(n) => return Err(t.ctx().invalid(key, format!("must be a positive integer (got {n})"))),
            None => return Err(t.ctx().wrong_type(key, "a positive integer", &value)),
        }
    }
    Ok(limits)
}

/// `max_memory_mb`: a positive number of MiB up to `max` (default
/// `default`), in bytes.
fn memory_mb(t: &mut TableReader<'_>, default: u64, max: u64) -> Result<usize, ManifestError> {
    let mb = t.positive("max_memory_mb", default)?;
    if mb > max {
        return Err(t.ctx().invalid(t.key("max_memory_mb"), format!("at most {max} MB (got {mb})")));
    }
    Ok((mb as usize) << 20)
}

/// A positive count at `key` up to `max` (default `default`).
fn at_most(t: &mut TableReader<'_>, key: &'static str, default: usize, max: usize) -> Result<usize, ManifestError> {
    let n = t.positive_usize(key, default)?;
    if n > max {
        return Err(t.ctx().invalid(t.key(key), format!("at most {max} (got {n})")));
    }
    Ok(n)
}

/// Resolve one child: absent → `default`, `false` → `None`, table → `parse`.
fn child<'a, T>(
    children: &mut TableReader<'a>,
    name: &'static str,
    default: Option<T>,
    parse: impl FnOnce(&mut TableReader<'a>) -> Result<T, ManifestError>,
) -> Result<Option<T>, ManifestError> {
    match setting(children, name)? {
        Setting::Absent => Ok(default),
        Setting::Off => Ok(None),
        Setting::On(mut reader) => {
            let value = parse(&mut reader)?;
            reader.finish()?;
            Ok(Some(value))
        }
    }
}

/// The wake router's manifest key.
const WAKE_ROUTER: &str = "wake_router";
/// The wake router's former key (it was called the signal router), still
/// accepted in place of [`WAKE_ROUTER`].
const WAKE_ROUTER_FORMER: &str = "signal_router";

/// The children that run only alongside the run supervisor (they pick
/// up, renew, recover and wake the runs it executes). With
/// `run_supervisor = false` an options table for one of them is refused;
/// `heartbeater` is not among them: its `lease_ttl_ms` is also the claim
/// time of the activity tasks an activities-only host runs.
const RUN_SUPERVISOR_CHILDREN: [&str; 3] = ["dispatcher", "recovery", "snapshotter"];

/// The key of the timer wheel, a child no more: timers are fired by the
/// dispatcher (it sleeps until the next one is due).
const TIMER_WHEEL: &str = "timer_wheel";

/// The wake router's key: `wake_router`, or `signal_router` (its former
/// name) when only that one is given; both at once are refused.
fn wake_router_key(ctx: &Ctx<'_>, prefix: &str, table: &Table) -> Result<&'static str, ManifestError> {
    match (table.contains_key(WAKE_ROUTER), table.contains_key(WAKE_ROUTER_FORMER)) {
        (true, true) => Err(ctx.invalid(
            join_key(prefix, WAKE_ROUTER_FORMER),
            format!("is the former name of `{WAKE_ROUTER}`, which is also given: keep only `{WAKE_ROUTER}`"),
        )),
        (false, true) => Ok(WAKE_ROUTER_FORMER),
        _ => Ok(WAKE_ROUTER),
    }
}

/// Parse `[instances.NAME.children]`; `table` is `None` when the section is absent.
pub(super) fn parse_children(
    ctx: Ctx<'_>,
    prefix: String,
    table: Option<Table>,
) -> Result<ChildrenConfig, ManifestError> {
    let Some(table) = table else {
        return Ok(ChildrenConfig::default());
    };
    if table.contains_key(TIMER_WHEEL) {
        return Err(ctx.invalid(
            join_key(&prefix, TIMER_WHEEL),
            "there is no timer wheel any more: timers are fired by the dispatcher (remove this key)",
        ));
    }
    let d = ChildrenConfig::default();
    // What contradicts the run supervisor's setting is refused once the
    // table is known to be well-formed (see `check_consistency`).
    let supervisor_off = matches!(table.get("run_supervisor"), Some(Value::Boolean(false)));
    let heartbeater_off = matches!(table.get("heartbeater"), Some(Value::Boolean(false)));
    let tuned_without_supervisor: Vec<&'static str> = RUN_SUPERVISOR_CHILDREN
        .into_iter()
        .filter(|name| matches!(table.get(*name), Some(Value::Table(_))))
        .collect();
    let wake_router_key = wake_router_key(&ctx, &prefix, &table)?;
    let mut r = TableReader::new(ctx.clone(), prefix.clone(), table);

    let heartbeater = child(&mut r, "heartbeater", d.heartbeater, |t| {
        let def = HeartbeaterConfig::default();
        let interval = t.millis("interval_ms", def.interval)?;
        let lease_ttl = t.millis("lease_ttl_ms", def.lease_ttl)?;
        if lease_ttl <= interval {
            return Err(t.ctx().invalid(
                t.key("lease_ttl_ms"),
                format!(
                    "lease TTL ({} ms) must be longer than the heartbeat interval ({} ms)",
                    lease_ttl.as_millis(),
                    interval.as_millis()
                ),
            ));
        }
        Ok(HeartbeaterConfig {
            interval,
            lease_ttl,
        })
    })?;
    let run_supervisor = child(&mut r, "run_supervisor", d.run_supervisor, |t| {
        let def = RunSupervisorConfig::default();
        let config = RunSupervisorConfig {
            max_concurrent_runs: t
                .positive_usize("max_concurrent_runs", def.max_concurrent_runs)?,
            max_activation: t.millis("max_activation_ms", def.max_activation)?,
            max_memory: memory_mb(t, (def.max_memory >> 20) as u64, MAX_WORKFLOW_MEMORY_MB)?,
            max_activation_events: t
                .positive_usize("max_activation_events", def.max_activation_events)?,
            max_activation_bytes: (t.positive("max_activation_mb", (def.max_activation_bytes >> 20) as u64)?
                as usize)
                .saturating_mul(1 << 20),
            max_history_events: t.positive("max_history_events", def.max_history_events)?,
            max_core_instances: at_most(t, "max_core_instances", def.max_core_instances, MAX_STORE_OBJECTS)?,
            max_tables: at_most(t, "max_tables", def.max_tables, MAX_STORE_OBJECTS)?,
            max_memories: at_most(t, "max_memories", def.max_memories, MAX_STORE_OBJECTS)?,
            max_guests_memory: (t.positive("max_guests_memory_mb", (def.max_guests_memory >> 20) as u64)? as usize)
                .saturating_mul(1 << 20),
            cancel_cleanup: t.millis("cancel_cleanup_ms", def.cancel_cleanup)?,
        };
        // One run must fit: its guest at its memory limit with a full
        // activation's journal.
        let one_run = config.max_memory.saturating_add(config.max_activation_bytes);
        if config.max_guests_memory < one_run {
            return Err(t.ctx().invalid(
                t.key("max_guests_memory_mb"),
                format!(
                    "at least max_memory_mb + max_activation_mb = {} MB (got {})",
                    one_run >> 20,
                    config.max_guests_memory >> 20
                ),
            ));
        }
        Ok(config)
    })?;
    let activity_supervisor = child(&mut r, "activity_supervisor", d.activity_supervisor, |t| {
        let def = ActivitySupervisorConfig::default();
        Ok(ActivitySupervisorConfig {
            max_concurrent: t.positive_usize("max_concurrent", def.max_concurrent)?,
            default_attempt_timeout: t
                .millis("default_attempt_timeout_ms", def.default_attempt_timeout)?,
            queue_limits: queue_limits(t)?,
            max_memory: memory_mb(t, MAX_ACTIVITY_MEMORY_MB, MAX_ACTIVITY_MEMORY_MB)?,
            heartbeat_interval: t.millis("heartbeat_interval_ms", def.heartbeat_interval)?,
            cancel_grace: t.millis("cancel_grace_ms", def.cancel_grace)?,
        })
    })?;
    let recovery = child(&mut r, "recovery", d.recovery, |t| {
        let def = RecoveryConfig::default();
        Ok(RecoveryConfig {
            interval: t.millis("interval_ms", def.interval)?,
        })
    })?;
    let dispatcher = child(&mut r, "dispatcher", d.dispatcher, |t| {
        let def = DispatcherConfig::default();
        Ok(DispatcherConfig {
            poll_interval: t.millis("poll_interval_ms", def.poll_interval)?,
            batch_size: t.positive_usize("batch_size", def.batch_size)?,
        })
    })?;
    let activity_dispatcher = child(&mut r, "activity_dispatcher", d.activity_dispatcher, |t| {
        let def = ActivityDispatcherConfig::default();
        Ok(ActivityDispatcherConfig {
            poll_interval: t.millis("poll_interval_ms", def.poll_interval)?,
            queues: t.string_list("queues", &["default"])?,
            batch_size: t.positive_usize("batch_size", def.batch_size)?,
        })
    })?;
    let wake_router = child(&mut r, wake_router_key, d.wake_router, |_| {
        Ok(WakeRouterConfig {})
    })?;
    let snapshotter = child(&mut r, "snapshotter", d.snapshotter, |t| {
        let def = SnapshotterConfig::default();
        Ok(SnapshotterConfig {
            threshold_events: t.positive("threshold_events", def.threshold_events)?,
        })
    })?;
    let scheduler = child(&mut r, "scheduler", d.scheduler, |t| {
        let def = SchedulerConfig::default();
        Ok(SchedulerConfig { poll_interval: t.millis("poll_interval_ms", def.poll_interval)? })
    })?;
    r.finish()?;
    if !supervisor_off && heartbeater_off {
        return Err(ctx.invalid(
            join_key(&prefix, "heartbeater"),
            "cannot be `false` while the run supervisor is on: nothing would renew the leases of the runs \
             this host executes (leave out `run_supervisor` too, or keep the heartbeater)",
        ));
    }
    if supervisor_off {
        if let Some(name) = tuned_without_supervisor.first() {
            return Err(ctx.invalid(
                join_key(&prefix, name),
                format!(
                    "`{name}` only runs with the run supervisor, which is off (`run_supervisor = false`); \
                     remove its options or set it to `false`"
                ),
            ));
        }
    }

    Ok(ChildrenConfig {
        heartbeater,
        run_supervisor,
        activity_supervisor,
        recovery,
        dispatcher,
        activity_dispatcher,
        wake_router,
        snapshotter,
        scheduler,
    })
}
