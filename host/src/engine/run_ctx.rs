//! The per-run state a guest's host imports act on: the replay cursor, the
//! write being accumulated for the journal, and the live operations.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::activities::{ActivityExecutor, MemoryCap, Step};
use crate::journal::{
    ActivityOptions, EventBody, GroupCommit, InboxSignal, Lease, RunKey, RunWrite, SharedJournal,
    TaskOutcome, Transition,
};

use super::interrupt::Interrupt;
use super::StopRequest;

/// How long a guest may go without a host call once a cancellation is
/// asked for: one that makes none in this time (a loop that never calls
/// the host) cannot be told, and is terminated.
pub(crate) const CANCEL_DELIVERY_GRACE: std::time::Duration = std::time::Duration::from_millis(300);

/// The reason of a termination a caller asked for.
pub(crate) const TERMINATED_ON_REQUEST: &str = "terminated on request";
use super::replay::History;
use super::run_limits::RunLimits;

/// What a run's engine needs from its instance.
#[derive(Clone)]
pub struct RunEnv {
    /// The instance name.
    pub instance: Arc<str>,
    /// The instance's journal.
    pub journal: SharedJournal,
    /// The instance's group-commit writer.
    pub batcher: GroupCommit,
    /// Executes activities in this process, when present.
    pub activities: Option<Arc<ActivityExecutor>>,
    /// The task queues this host's activity dispatcher serves: a call on
    /// another queue is left to the hosts that serve it, even when this
    /// one has the activity.
    pub served_queues: Arc<[String]>,
    /// What one run's guest may use.
    pub limits: RunLimits,
    /// What all the instance's executing guests may hold together.
    pub budget: Arc<super::MemoryBudget>,
    /// The instance's workflow versions: the current version of the
    /// workflow a child is started with.
    pub modules: Arc<crate::modules::ModuleRegistry>,
}

impl RunEnv {
    /// The executor to run activity `name` here, on `queue`: only when
    /// this host has the activity and serves the queue.
    pub(crate) fn local_executor(&self, name: &str, queue: &str) -> Option<Arc<ActivityExecutor>> {
        let served = self.served_queues.iter().any(|q| q == queue);
        self.activities.as_ref().filter(|a| served && a.has(name)).cloned()
    }
}

/// A started operation, as far as the live engine knows it.
pub(crate) enum LiveOp {
    /// An activity to execute here whose first attempt waits for its
    /// schedule to be committed (it starts at the guest's next wait).
    EagerScheduled,
    /// An activity executed here, its first attempt still running or
    /// finished.
    EagerActivity(Option<JoinHandle<Step>>, Box<EagerCall>),
    /// An activity left to a dispatcher as a durable task.
    DurableActivity,
    /// A timer due at this time (ms since the epoch).
    Timer { fire_at_ms: i64 },
    /// A receipt of the next signal of this name.
    Signal { name: String },
    /// A child run of the instance, by its run id.
    Child { run_id: String },
    /// Completed as cancelled by a delivered cancellation (an activity
    /// still running here was told to stop and is no longer waited for).
    Cancelled,
}

/// An activity call executed here: what a retry needs to become a
/// durable task.
pub(crate) struct EagerCall {
    pub name: String,
    pub input: Value,
    pub options: ActivityOptions,
    /// When its first attempt started.
    pub first_at: chrono::DateTime<chrono::Utc>,
}

/// The store data of one executing run.
pub struct RunCtx {
    pub(crate) env: RunEnv,
    pub(crate) key: RunKey,
    pub(crate) workflow: String,
    pub(crate) lease: Lease,
    pub(crate) seen_wake_gen: i64,
    pub(crate) history: History,
    pub(crate) pending: RunWrite,
    pub(crate) ops: HashMap<u32, LiveOp>,
    /// Eager activity calls scheduled since the guest last waited; their
    /// attempts start once their schedules are committed.
    pub(crate) unstarted: Vec<super::eager_activities::Unstarted>,
    /// What a caller asked of the run while it executes here.
    pub(crate) stop: watch::Receiver<StopRequest>,
    /// The run was paused while it executes here: it suspends at its next
    /// wait.
    pub(crate) pause: super::PauseFlag,
    /// The run had a cancellation request when this attempt took it.
    pub(crate) cancel_recorded: bool,
    /// When this engine first saw the cancellation it has not delivered
    /// yet: a guest that makes no host call within
    /// [`CANCEL_DELIVERY_GRACE`] of it is terminated.
    pub(crate) cancel_seen_at: Option<std::time::Instant>,
    /// Told to activities executing here: set when a cancellation is
    /// delivered (those started before stop) or the run is terminated;
    /// replaced by a fresh one after a delivery, for the clean-up's.
    pub(crate) activity_cancel: watch::Sender<bool>,
    /// The last `panic:` line the guest logged, reported if it traps.
    pub(crate) last_panic: Option<String>,
    /// The guest's memory limit (the store's limiter).
    pub(crate) memory: MemoryCap,
    /// Approximate JSON bytes of the events in `pending`.
    pub(crate) pending_bytes: usize,
    /// Inbox read once per wait, while live.
    pub(crate) inbox_cache: Option<Vec<InboxSignal>>,
    /// Task outcomes read once per wait, while live.
    pub(crate) outcomes_cache: Option<Vec<(u32, TaskOutcome)>>,
    /// A replay check: stop (with `ReplayEnd`) instead of going live.
    pub(crate) check_only: bool,
    /// A query execution (with `check_only`): the query asked; commands
    /// past the journal are taken without being recorded or executed (see
    /// [`super::query_replay`]).
    pub(crate) query: Option<super::query_imports::QueryExec>,
    /// An outcome taken in live (an activity result, a signal) is in the
    /// pending write: it must be committed before the run's next effect
    /// on the world (see [`RunCtx::commit_taken`]).
    pub(crate) taken_uncommitted: bool,
    /// Until when this process may count on its lease: no activity starts
    /// here after that (see [`super::LeaseClock`]).
    pub(crate) lease_clock: super::LeaseClock,
    /// The guest's WASI state, built on its first WASI call (see
    /// [`super::workflow_wasi`]).
    pub(crate) wasi: Option<Box<super::workflow_wasi::WorkflowWasi>>,
    /// The generator of the guest's WASI randomness, seeded on first use
    /// from a journaled draw (see [`super::wasi_random`]).
    pub(crate) wasi_rng: Option<rand_chacha::ChaCha20Rng>,
    /// The last reading of the guest's monotonic clock, in nanoseconds: it
    /// never goes back (see [`super::wasi_clocks`]).
    pub(crate) monotonic_floor_ns: u64,
    /// The run was started by another run (`start-child`): its end wakes
    /// that parent.
    pub(crate) has_parent: bool,
    /// The first run of this run's chain (continue-as-new): itself unless
    /// it continues one.
    pub(crate) chain_root: String,
    /// This run's position in its chain (0: the first run).
    pub(crate) chain_seq: i64,
    /// The next run, once the workflow called `continue-as-new`: created
    /// when the workflow returns (see [`super::continuation_imports`]).
    pub(crate) continuation: Option<crate::journal::Continuation>,
}

impl RunCtx {
    /// Builds the context for executing a run under `lease`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        env: RunEnv,
        key: RunKey,
        workflow: String,
        lease: Lease,
        seen_wake_gen: i64,
        history: History,
        stop: watch::Receiver<StopRequest>,
    ) -> Self {
        let pending = RunWrite::new(key.clone(), lease.clone());
        let shape = env.limits.store_shape;
        let memory = MemoryCap::new(env.limits.max_memory)
            .with_shape(shape.instances, shape.tables, shape.memories)
            .with_budget(super::BudgetShare::new(env.budget.clone()));
        let chain_root = key.run_id.clone();
        Self {
            env,
            key,
            workflow,
            lease,
            seen_wake_gen,
            history,
            pending,
            ops: HashMap::new(),
            unstarted: Vec::new(),
            stop,
            pause: super::PauseFlag::default(),
            cancel_recorded: false,
            cancel_seen_at: None,
            activity_cancel: watch::channel(false).0,
            last_panic: None,
            memory,
            pending_bytes: 0,
            inbox_cache: None,
            outcomes_cache: None,
            check_only: false,
            query: None,
            taken_uncommitted: false,
            lease_clock: super::LeaseClock::unbounded(),
            wasi: None,
            wasi_rng: None,
            monotonic_floor_ns: 0,
            has_parent: false,
            chain_root,
            chain_seq: 0,
            continuation: None,
        }
    }

    /// Appends an event to the pending write and returns its `seq`.
    pub(crate) fn append(&mut self, body: EventBody) -> i64 {
        let seq = self.history.append(&body);
        tracing::trace!(seq, kind = body.kind(), "journal append");
        self.pending_bytes = self.pending_bytes.saturating_add(json_size(&body));
        self.pending.events.push((seq, body));
        seq
    }

    /// Fails with `Terminated` once the run's termination was requested,
    /// or once its clean-up after a delivered cancellation has run past
    /// its deadline.
    pub(crate) fn check_cancel(&self) -> Result<(), Interrupt> {
        // A query execution replays what was recorded, whatever the clock
        // says now.
        if self.query.is_some() {
            return Ok(());
        }
        if *self.stop.borrow() == StopRequest::Terminate {
            return Err(Interrupt::Terminated(TERMINATED_ON_REQUEST.into()));
        }
        if self.history.cancel_deadline_ms().is_some_and(|d| d < chrono::Utc::now().timestamp_millis()) {
            return Err(Interrupt::Terminated(format!(
                "the clean-up after the cancellation ran past `run_supervisor.cancel_cleanup_ms` = {}",
                self.env.limits.cancel_cleanup.as_millis()
            )));
        }
        Ok(())
    }

    /// True while a cancellation was asked for and not yet delivered to
    /// the workflow.
    pub(crate) fn cancel_undelivered(&self) -> bool {
        (self.cancel_recorded || *self.stop.borrow() == StopRequest::Cancel) && self.history.cancel_deadline_ms().is_none()
    }

    /// Delivers a cancellation to the workflow, live: records it, then
    /// completes every operation the workflow started and that has not
    /// completed as cancelled; activities still running here are told to
    /// stop. The workflow learns it at its next wait and may clean up
    /// until the deadline. A no-op once delivered, or while the workflow
    /// has no operation open (it would never learn). `except`: the operation
    /// of the command being recorded, which is the clean-up's, not one the
    /// cancellation completes.
    pub(crate) fn deliver_cancel_except(&mut self, except: Option<u32>) {
        if !self.cancel_undelivered() {
            return;
        }
        let open: Vec<u32> = self.history.open_ops().into_iter().filter(|op| Some(*op) != except).collect();
        // Nothing to complete as cancelled: the workflow could not learn of
        // it. Not recorded (once recorded it counts as delivered): delivered
        // at a later call, once it has started something (its next wait at
        // the latest).
        if open.is_empty() {
            return;
        }
        let deadline_ms = chrono::Utc::now().timestamp_millis().saturating_add(self.env.limits.cancel_cleanup.as_millis() as i64);
        self.append(EventBody::CancelDelivered { reason: "cancelled on request".into(), deadline_ms });
        for op in &open {
            self.append(EventBody::OperationCancelled { op: *op });
            self.ops.insert(*op, LiveOp::Cancelled);
        }
        // Calls not started yet never start; tasks not committed yet are
        // never created.
        self.unstarted.retain(|u| !open.contains(&u.op));
        self.pending.tasks.retain(|t| !open.contains(&t.op));
        self.pending.children.retain(|c| !open.contains(&c.parent_op));
        self.pending.dropped_tasks.extend(&open);
        // Those started before stop; the clean-up's get a fresh flag.
        self.activity_cancel.send_replace(true);
        self.activity_cancel = watch::channel(false).0;
        tracing::info!(cancelled_ops = open.len(), deadline_ms, "cancellation delivered to the workflow");
    }

    /// Commits the pending write with a transition (or none), fenced by the
    /// lease; a failed fence is `LeaseLost`.
    pub(crate) async fn flush(&mut self, transition: Option<Transition>) -> Result<(), Interrupt> {
        let mut write = RunWrite::new(self.key.clone(), self.lease.clone());
        std::mem::swap(&mut write, &mut self.pending);
        self.pending_bytes = 0;
        write.transition = transition;
        write.family = self.has_parent || self.history.has_children();
        if write.events.is_empty()
            && write.transition.is_none()
            && write.tasks.is_empty()
        {
            return Ok(());
        }
        if self.env.batcher.commit(write).await? {
            self.taken_uncommitted = false;
            Ok(())
        } else {
            Err(Interrupt::LeaseLost)
        }
    }

    /// Commits the outcomes taken in live since the last commit, before
    /// the run affects the world again (starts an activity). Between taking
    /// an outcome and its next host call a guest only computes, so
    /// committing here rather than at once loses nothing a crash would not
    /// lose anyway, and lets a result share its commit with the next step
    /// (or with the run's completion).
    pub(crate) async fn commit_taken(&mut self) -> Result<(), Interrupt> {
        if self.taken_uncommitted {
            self.flush(None).await?;
        }
        Ok(())
    }

    /// Earliest due time among the run's unfired timers, and the clean-up
    /// deadline once a cancellation was delivered.
    pub(crate) fn next_timer_ms(&self) -> Option<i64> {
        self.ops
            .iter()
            .filter_map(|(op, live)| match live {
                LiveOp::Timer { fire_at_ms } if self.history.completion(*op).is_none() => {
                    Some(*fire_at_ms)
                }
                _ => None,
            })
            .chain(self.history.cancel_deadline_ms())
            .min()
    }

    /// Decodes a guest payload as JSON, naming what it was.
    pub(crate) fn decode(what: &str, bytes: &[u8]) -> Result<Value, Interrupt> {
        serde_json::from_slice(bytes)
            .map_err(|e| Interrupt::Contract(format!("{what} is not valid JSON: {e}")))
    }
}

/// The length of `value` as JSON (0 if it cannot be encoded), counted
/// without keeping the text.
fn json_size(value: &impl serde::Serialize) -> usize {
    /// Counts what is written to it.
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, value) {
        Ok(()) => count.0,
        Err(_) => 0,
    }
}
