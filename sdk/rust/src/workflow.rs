//! The workflow context: activities, timers, signals, racing, the
//! deterministic clock and randomness.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::bindings::workflow_world::continuum::workflow::{host, types as wit};
use crate::error::ActivityFailed;
use crate::retry::{millis, ActivityOptions, RetryPolicy};

/// The handle a workflow function receives: every non-pure thing a workflow
/// does goes through it, so the host can journal it and replay it exactly.
///
/// There is exactly one per run; the [`workflow!`](crate::workflow) glue
/// creates it and passes it to your function.
///
/// ```no_run
/// use continuum_sdk::prelude::*;
/// fn greet(ctx: &Workflow, name: String) -> Result<String, WorkflowError> {
///     ctx.sleep(Duration::from_secs(1));
///     let greeting: String = ctx.activity("greet", &name).call()?;
///     Ok(greeting)
/// }
/// continuum_sdk::workflow!(greet);
/// ```
pub struct Workflow {
    // Not Send/Sync: the guest is single threaded and the context must not
    // leave the run.
    _not_send: PhantomData<*const ()>,
}

impl Workflow {
    #[doc(hidden)]
    pub fn __new() -> Self {
        Workflow { _not_send: PhantomData }
    }

    /// Prepares a call of the activity `name` with `input` (serialized to
    /// JSON). Set options on the returned builder, then [`call`] it (wait for
    /// the result) or [`start`] it (get a pending [`Operation`]).
    ///
    /// [`call`]: ActivityCall::call
    /// [`start`]: ActivityCall::start
    ///
    /// ```no_run
    /// use continuum_sdk::prelude::*;
    /// fn flow(ctx: &Workflow, sku: String) -> Result<u32, WorkflowError> {
    ///     let left: u32 = ctx
    ///         .activity("reserve_stock", &sku)
    ///         .retry(RetryPolicy::exponential(3, Duration::from_millis(200)))
    ///         .timeout(Duration::from_secs(10))
    ///         .call()?;
    ///     Ok(left)
    /// }
    /// ```
    pub fn activity<I: Serialize + ?Sized>(&self, name: &str, input: &I) -> ActivityCall<'_> {
        ActivityCall {
            _ctx: self,
            name: name.to_string(),
            input: serde_json::to_vec(input).map_err(|e| e.to_string()),
            options: ActivityOptions::default(),
        }
    }

    /// Starts a durable timer; the operation completes when it fires.
    /// Race it against other operations with [`select`](Workflow::select).
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) {
    /// let timer = ctx.timer(Duration::from_secs(30));
    /// // ... start other operations ...
    /// let _ = timer.wait();
    /// # }
    /// ```
    pub fn timer(&self, duration: Duration) -> Operation<()> {
        Operation::pending(host::start_timer(millis(duration)), decode_unit)
    }

    /// Sleeps durably for `duration` (a timer that the workflow waits on).
    /// It ends early when the run's cancellation is delivered; wait on
    /// [`Workflow::timer`] to tell.
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) {
    /// ctx.sleep(Duration::from_secs(60));
    /// # }
    /// ```
    pub fn sleep(&self, duration: Duration) {
        // A timer only fails when the run's cancellation is delivered: the
        // sleep ends early then (wait on `timer` to see it).
        let _ = self.timer(duration).wait();
    }

    /// Starts waiting for the next signal called `name`; its JSON payload is
    /// decoded as `T`. Signals sent before the workflow asks are kept and
    /// delivered in order.
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) -> Result<(), WorkflowError> {
    /// let approval = ctx.receive_signal::<String>("approval");
    /// let decision = approval.wait()?;
    /// # Ok(()) }
    /// ```
    pub fn receive_signal<T: DeserializeOwned>(&self, name: &str) -> Operation<T> {
        Operation::pending(host::receive_signal(name), decode_json::<T>)
    }

    /// Waits for the next signal called `name` and decodes its payload.
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) -> Result<(), WorkflowError> {
    /// let amount: u64 = ctx.signal("top_up")?;
    /// # Ok(()) }
    /// ```
    pub fn signal<T: DeserializeOwned>(&self, name: &str) -> Result<T, ActivityFailed> {
        self.receive_signal(name).wait()
    }

    /// Waits for the next signal called `name` for at most `timeout`;
    /// `Ok(None)` when the timeout fires first. A signal is handed to a
    /// receipt only when the workflow waits on that receipt, so the
    /// abandoned receipt takes none: a later `receive_signal` of the same
    /// name gets the first signal not yet delivered.
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) -> Result<(), WorkflowError> {
    /// let decision: Option<String> =
    ///     ctx.signal_with_timeout("fraud_review", Duration::from_secs(24 * 3600))?;
    /// match decision {
    ///     Some(d) => { /* reviewed */ }
    ///     None => { /* nobody answered in time */ }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn signal_with_timeout<T: DeserializeOwned>(
        &self,
        name: &str,
        timeout: Duration,
    ) -> Result<Option<T>, ActivityFailed> {
        let signal = self.receive_signal::<T>(name);
        let timer = self.timer(timeout);
        match self.select(&[&signal, &timer]) {
            0 => signal.wait().map(Some),
            _ => Ok(None),
        }
    }

    /// Blocks until one of `ops` completes and returns its position in
    /// `ops`. The winner keeps its outcome: call its `wait` to get it
    /// (without another host round trip). The others stay pending and may be
    /// waited on or raced again later. An operation that has already
    /// completed wins at once (the first one in `ops` order).
    ///
    /// # Panics
    ///
    /// When `ops` is empty (a bug in the workflow).
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) -> Result<(), WorkflowError> {
    /// let paid = ctx.receive_signal::<serde_json::Value>("invoice_paid");
    /// let late = ctx.timer(Duration::from_secs(3600));
    /// match ctx.select(&[&paid, &late]) {
    ///     0 => { let receipt = paid.wait()?; }
    ///     _ => { ctx.activity("send_reminder", &()).call::<()>()?; }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn select(&self, ops: &[&dyn Pending]) -> usize {
        assert!(!ops.is_empty(), "continuum: Workflow::select needs at least one operation");
        if let Some(i) = ops.iter().position(|op| op.state().borrow().is_done()) {
            return i;
        }
        let mut positions = Vec::with_capacity(ops.len());
        let mut handles = Vec::with_capacity(ops.len());
        for (i, op) in ops.iter().enumerate() {
            if let OpState::Pending(h) = *op.state().borrow() {
                positions.push(i);
                handles.push(h);
            }
        }
        crate::query::answer_pending(&handles);
        let (pos, completion) = host::wait_any(&handles);
        let i = *positions.get(pos as usize).unwrap_or_else(|| {
            panic!("continuum host contract: wait-any returned position {pos} for {} handles", handles.len())
        });
        *ops[i].state().borrow_mut() = OpState::Done(completion_to_result(completion));
        i
    }

    /// Same as [`select`](Workflow::select), under the name of the host
    /// call.
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) {
    /// let a = ctx.timer(Duration::from_secs(1));
    /// let b = ctx.timer(Duration::from_secs(2));
    /// assert_eq!(ctx.wait_any(&[&a, &b]), 0);
    /// # }
    /// ```
    pub fn wait_any(&self, ops: &[&dyn Pending]) -> usize {
        self.select(ops)
    }

    /// The current time (journaled: the same value on every replay).
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) {
    /// let started = ctx.now();
    /// # }
    /// ```
    pub fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.now_ms())
    }

    /// The current time in milliseconds since the Unix epoch (journaled).
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) {
    /// let ms: u64 = ctx.now_ms();
    /// # }
    /// ```
    pub fn now_ms(&self) -> u64 {
        host::now()
    }

    /// A random 64-bit number (journaled).
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) {
    /// let dice = ctx.random() % 6 + 1;
    /// # }
    /// ```
    pub fn random(&self) -> u64 {
        host::random()
    }

    /// A random UUID v4 in its hyphenated form (journaled).
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) {
    /// let request_id = ctx.uuid();
    /// # }
    /// ```
    pub fn uuid(&self) -> String {
        host::uuid()
    }

    /// A patch marker: lets a new version of a workflow take a new path
    /// for new runs while runs recorded by the old code keep the old one,
    /// so those runs can be migrated to the new version without drift.
    /// Returns true for a run that executes this call for the first time
    /// (the marker is journaled) or whose history recorded it; false for a
    /// history recorded by code without the patch.
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) -> Result<(), WorkflowError> {
    /// if ctx.patched("skip-manual-review") {
    ///     let _: serde_json::Value = ctx.activity("auto_review", &()).call()?;
    /// } else {
    ///     let _: serde_json::Value = ctx.signal("manual_review")?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn patched(&self, name: &str) -> bool {
        host::patched(name)
    }
}

/// A prepared activity call, made by [`Workflow::activity`]. Set options,
/// then [`call`](ActivityCall::call) or [`start`](ActivityCall::start) it.
///
/// ```no_run
/// # use continuum_sdk::prelude::*;
/// # fn f(ctx: &Workflow) -> Result<(), WorkflowError> {
/// let receipt: String = ctx
///     .activity("charge_card", &serde_json::json!({"amount_cents": 1200}))
///     .retry(RetryPolicy::constant(5, Duration::from_secs(2)))
///     .timeout(Duration::from_secs(30))
///     .queue("payments")
///     .priority(10)
///     .idempotency_key("charge-order-42")
///     .call()?;
/// # Ok(()) }
/// ```
#[must_use = "an activity call does nothing until `.call()` or `.start()`"]
pub struct ActivityCall<'w> {
    _ctx: &'w Workflow,
    name: String,
    input: Result<Vec<u8>, String>,
    options: ActivityOptions,
}

impl ActivityCall<'_> {
    /// Sets the retry policy (default: the host's policy).
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) {
    /// let call = ctx.activity("a", &1).retry(RetryPolicy::no_retry());
    /// # }
    /// ```
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.options.retry = Some(policy);
        self
    }

    /// Sets the timeout of each attempt (default: the host's).
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) {
    /// let call = ctx.activity("a", &1).timeout(Duration::from_secs(5));
    /// # }
    /// ```
    pub fn timeout(mut self, per_attempt: Duration) -> Self {
        self.options.attempt_timeout = Some(per_attempt);
        self
    }

    /// Fails an attempt (as timed out, retried as the policy says) that
    /// sends no heartbeat for `every`: a long activity that heartbeats is
    /// noticed as stuck long before its attempt timeout.
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) {
    /// let call = ctx.activity("a", &1).heartbeat_timeout(Duration::from_secs(2));
    /// # }
    /// ```
    pub fn heartbeat_timeout(mut self, every: Duration) -> Self {
        self.options.heartbeat_timeout = Some(every);
        self
    }

    /// Fails the call when none of its attempts has started `timeout`
    /// after it was scheduled: with [`FailureKind::UnknownActivity`](crate::FailureKind::UnknownActivity)
    /// when no host of the instance serves the activity on its queue
    /// (else as timed out). Without it, a call no host serves waits until
    /// one does (`continuum show` says so).
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) {
    /// let call = ctx.activity("a", &1).schedule_to_start_timeout(Duration::from_secs(30));
    /// # }
    /// ```
    pub fn schedule_to_start_timeout(mut self, timeout: Duration) -> Self {
        self.options.schedule_to_start_timeout = Some(timeout);
        self
    }

    /// Sends the task to this queue (default: `default`).
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) {
    /// let call = ctx.activity("a", &1).queue("gpu");
    /// # }
    /// ```
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.options.queue = Some(queue.into());
        self
    }

    /// Sets the priority; higher runs first among ready tasks of the same
    /// queue (default 0).
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) {
    /// let call = ctx.activity("a", &1).priority(10);
    /// # }
    /// ```
    pub fn priority(mut self, priority: i32) -> Self {
        self.options.priority = priority;
        self
    }

    /// Reuses a completed result with the same key in the same instance
    /// instead of running the activity again.
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) {
    /// let call = ctx.activity("charge_card", &1).idempotency_key("charge-order-42");
    /// # }
    /// ```
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.options.idempotency_key = Some(key.into());
        self
    }

    /// Replaces all options at once.
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) {
    /// let call = ctx.activity("a", &1).options(ActivityOptions { priority: 3, ..Default::default() });
    /// # }
    /// ```
    pub fn options(mut self, options: ActivityOptions) -> Self {
        self.options = options;
        self
    }

    /// Schedules the activity and returns its pending operation, to wait on
    /// later or race with [`Workflow::select`].
    ///
    /// If the input could not be serialized, the activity is not scheduled
    /// and the operation fails with [`FailureKind::BadPayload`](crate::FailureKind::BadPayload).
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) -> Result<(), WorkflowError> {
    /// let a = ctx.activity("fetch_a", &1).start::<u64>();
    /// let b = ctx.activity("fetch_b", &2).start::<u64>();
    /// let sum = a.wait()? + b.wait()?;
    /// # Ok(()) }
    /// ```
    pub fn start<O: DeserializeOwned>(self) -> Operation<O> {
        match self.input {
            Ok(bytes) => {
                let options = self.options.to_wit();
                // `call-activity-ext` only when a further option is set: a
                // guest that sets none runs on hosts older than it too.
                let h = match self.options.ext_to_wit() {
                    Some(ext) => host::call_activity_ext(&self.name, &bytes, &options, ext),
                    None => host::call_activity(&self.name, &bytes, &options),
                };
                Operation::pending(h, decode_json::<O>)
            }
            Err(e) => Operation::done(
                Err(ActivityFailed::bad_payload(format!("input of activity {}: {e}", self.name))),
                decode_json::<O>,
            ),
        }
    }

    /// Schedules the activity and waits for its result.
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) -> Result<(), WorkflowError> {
    /// let tracking: String = ctx.activity("ship_order", &"order-1").call()?;
    /// # Ok(()) }
    /// ```
    pub fn call<O: DeserializeOwned>(self) -> Result<O, ActivityFailed> {
        self.start().wait()
    }
}

/// An operation's state: still pending on the host, or done (unnameable
/// outside the SDK: `workflow` is a private module).
pub enum OpState {
    Pending(wit::Handle),
    Done(Result<Vec<u8>, ActivityFailed>),
}

impl OpState {
    fn is_done(&self) -> bool {
        matches!(self, OpState::Done(_))
    }
}

pub(crate) mod sealed {
    /// Gives the SDK, and only the SDK, access to an operation's state.
    pub trait HasState {
        /// The operation's state.
        fn state(&self) -> &std::cell::RefCell<super::OpState>;
    }
}

/// Anything [`Workflow::select`] can race: every [`Operation`].
/// Sealed: implemented by the SDK only, so a workflow cannot forge one.
///
/// ```no_run
/// # use continuum_sdk::prelude::*;
/// # use std::time::Duration;
/// # fn f(ctx: &Workflow) -> Result<(), WorkflowError> {
/// let review = ctx.receive_signal::<String>("review");
/// let deadline = ctx.timer(Duration::from_secs(60));
/// let ops: [&dyn Pending; 2] = [&review, &deadline];
/// let first = ctx.select(&ops);
/// # Ok(()) }
/// ```
pub trait Pending: sealed::HasState {}

/// An operation started by the workflow that completes later: an activity
/// call, a timer or a signal receipt, whose outcome decodes as `T`.
///
/// ```no_run
/// # use continuum_sdk::prelude::*;
/// # fn f(ctx: &Workflow) -> Result<(), WorkflowError> {
/// let op: Operation<String> = ctx.activity("slow", &()).start();
/// let value = op.wait()?;
/// # Ok(()) }
/// ```
#[must_use = "an operation's outcome is lost unless you wait on it"]
pub struct Operation<T> {
    state: RefCell<OpState>,
    decode: fn(&[u8]) -> Result<T, serde_json::Error>,
}

impl<T> Operation<T> {
    fn pending(handle: wit::Handle, decode: fn(&[u8]) -> Result<T, serde_json::Error>) -> Self {
        Operation { state: RefCell::new(OpState::Pending(handle)), decode }
    }

    fn done(
        outcome: Result<Vec<u8>, ActivityFailed>,
        decode: fn(&[u8]) -> Result<T, serde_json::Error>,
    ) -> Self {
        Operation { state: RefCell::new(OpState::Done(outcome)), decode }
    }

    /// Whether the outcome is already known (it won a
    /// [`select`](Workflow::select)); `wait` then returns without blocking.
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) {
    /// let t = ctx.timer(Duration::from_secs(1));
    /// assert!(!t.is_done());
    /// # }
    /// ```
    pub fn is_done(&self) -> bool {
        self.state.borrow().is_done()
    }

    /// Blocks until the operation completes and returns its decoded value
    /// or its failure.
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) -> Result<(), WorkflowError> {
    /// let n: u32 = ctx.receive_signal("count").wait()?;
    /// # Ok(()) }
    /// ```
    pub fn wait(self) -> Result<T, ActivityFailed> {
        let outcome = match self.state.into_inner() {
            OpState::Pending(h) => {
                crate::query::answer_pending(&[h]);
                completion_to_result(host::wait(h))
            }
            OpState::Done(r) => r,
        };
        let bytes = outcome?;
        (self.decode)(&bytes).map_err(|e| ActivityFailed::bad_payload(e.to_string()))
    }
}

impl<T> sealed::HasState for Operation<T> {
    fn state(&self) -> &RefCell<OpState> {
        &self.state
    }
}

impl<T> Pending for Operation<T> {}

fn completion_to_result(c: wit::Completion) -> Result<Vec<u8>, ActivityFailed> {
    match c {
        wit::Completion::Ok(bytes) => Ok(bytes),
        wit::Completion::Err(f) => Err(f.into()),
    }
}

fn decode_unit(_: &[u8]) -> Result<(), serde_json::Error> {
    Ok(())
}

pub(crate) fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    if bytes.is_empty() {
        serde_json::from_slice(b"null")
    } else {
        serde_json::from_slice(bytes)
    }
}
