//! Continuum host: a durable workflow runtime for WebAssembly workflows.
//!
//! [`Continuum`] is the facade: it holds named [`Instance`]s and offers the
//! verbs `start`, `signal`, `cancel`, `await_run` and `history`, each taking
//! an optional instance name (the default instance when absent). The verbs
//! talk to the instance's journal, so they work whether or not a host
//! executes the instance's runs in this process.
//!
//! ```no_run
//! # async fn demo() -> Result<(), continuum_host::Error> {
//! use continuum_host::{CallOptions, Continuum, Instance, StartOptions};
//! use std::time::Duration;
//!
//! let mut continuum = Continuum::new();
//! continuum.register(
//!     Instance::builder("default")
//!         .database("sqlite:.continuum/default.db")
//!         .workflow("order-flow", "examples-wasm/components/order_flow.wasm")
//!         .activity_component("examples-wasm/components/order_activities.wasm")
//!         .build()
//!         .await?,
//! )?;
//! continuum.start_all();
//! let run_id = continuum
//!     .start("order-flow", serde_json::json!({"order_id": "o-1"}), StartOptions::default())
//!     .await?;
//! continuum.signal(&run_id, "fraud_review", serde_json::json!("approved"), CallOptions::default()).await?;
//! let outcome = continuum.await_run(&run_id, Duration::from_secs(5), CallOptions::default()).await?;
//! # Ok(()) }
//! ```
//!
//! The API is this crate root and [`telemetry`]: the engine, the journal,
//! module loading and the instances' children are internal. What a caller
//! reads of a run ([`RunInfo`], [`RunHistory`]) is a copy; nothing public
//! writes to a journal or takes a lease.

#![deny(missing_docs)]

mod activities;
mod call_options;
mod database;
mod engine;
mod error;
mod history;
mod input_limits;
mod instance;
mod journal;
mod load;
mod manifest;
mod modules;
mod query;
mod update;
mod run_attributes;
mod run_control;
mod run_error;
mod run_search;
mod schedule;
mod schedule_wire;
pub mod telemetry;
mod versioning;
mod views;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use journal::JournalError;

pub use activities::{
    Activity, ActivityContext, ActivityError, ActivityFuture, ActivityRegistry, AllowedHost, AttemptInfo, SandboxConfig,
    SANDBOX_GUEST_PATH,
};
pub use call_options::{CallOptions, IfExists, SignalOptions, SignalSent, StartOptions, Started};
pub use database::Database;
pub use run_attributes::{parse_attribute_filter, MAX_ATTRIBUTE_KEY_CHARS, MAX_ATTRIBUTE_VALUE_CHARS};
pub use run_control::{ResetOutcome, RunReset};
pub use run_error::RunError;
pub use run_search::{decode_run_cursor, encode_run_cursor, RunPage};
pub use schedule_wire::{ScheduleDraft, ScheduleView};
pub use schedule::{
    Overlap, ScheduleInfo, ScheduleSpec, ScheduleTiming, DEFAULT_CATCH_UP, DEFAULT_TIME_ZONE, MAX_SCHEDULE_NAME_CHARS,
};
pub use versioning::{DeployOptions, DeployReport, Drift, Migrate, ReplayVerdict, WorkflowVersion, WorkflowVersions};
pub use error::{DatabaseError, Error};
pub use input_limits::{MAX_PAYLOAD_BYTES, MAX_RUN_ID_CHARS, MAX_SIGNAL_KEY_CHARS, MAX_SIGNAL_NAME_CHARS, MAX_WORKFLOW_NAME_CHARS};
pub use instance::{Instance, InstanceBuilder, CANCEL_CONFIRM_TIMEOUT};
pub use journal::{
    ActivityOptions, BatcherConfig, ChainRun, ChildFailure, ChildFailureKind, ChildOptions, ChildRun, EventBody, Failure, FailureKind, ParentClose,
    RetryPolicy, RunKey, RunQuery, RunState,
};
pub use load::Mode;
pub use manifest::{
    ActivityDispatcherConfig, ActivitySupervisorConfig, ChildrenConfig, DispatcherConfig, HeartbeaterConfig, HttpConfig,
    InstanceConfig, Manifest, ManifestError, RecoveryConfig, RunSupervisorConfig, WakeRouterConfig, SchedulerConfig, SnapshotterConfig,
    DEFAULT_INSTANCE, DEFAULT_MANIFEST_FILE, DEFAULT_MAX_BODY_BYTES,
};
pub use modules::ModuleError;
pub use update::UpdateSent;
pub use views::{CancelOutcome, Heartbeat, HistoryEvent, OpenActivity, RunHistory, RunInfo, RunOutcome};


/// The facade over a set of named instances.
#[derive(Default)]
pub struct Continuum {
    instances: BTreeMap<String, Arc<Instance>>,
}

impl Continuum {
    /// No instances yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers an instance; a second instance of the same name (the
    /// default one included) is refused.
    pub fn register(&mut self, instance: Instance) -> Result<Arc<Instance>, Error> {
        let name = instance.name().to_string();
        if self.instances.contains_key(&name) {
            return Err(Error::InstanceAlreadyRegistered(name));
        }
        let instance = Arc::new(instance);
        self.instances.insert(name, instance.clone());
        Ok(instance)
    }

    /// The named instance (the default one for `None`).
    pub fn instance(&self, name: Option<&str>) -> Result<&Arc<Instance>, Error> {
        let name = name.unwrap_or(DEFAULT_INSTANCE);
        self.instances.get(name).ok_or_else(|| Error::InstanceNotRegistered(name.to_string()))
    }

    /// The registered instance names.
    pub fn instance_names(&self) -> Vec<String> {
        self.instances.keys().cloned().collect()
    }

    /// Starts every instance's children.
    pub fn start_all(&self) {
        for i in self.instances.values() {
            i.start();
        }
    }

    /// Stops every instance's children.
    pub async fn stop_all(&self) {
        for i in self.instances.values() {
            i.stop().await;
        }
    }

    /// Starts a run of `workflow` with a JSON input; returns its run id. On
    /// a host that executes the instance's runs, the run is taken and
    /// executed here at once; otherwise any host's dispatcher picks it up.
    ///
    /// Under a run id that exists, the same workflow and input return that
    /// run (unless [`StartOptions::if_exists`] says to fail); another
    /// workflow or input fails with [`Error::RunConflict`].
    pub async fn start(&self, workflow: &str, input: Value, opts: StartOptions) -> Result<String, Error> {
        self.start_run(workflow, input, opts).await.map(|s| s.run_id)
    }

    /// [`Continuum::start`], also telling whether the run existed already.
    pub async fn start_run(&self, workflow: &str, input: Value, opts: StartOptions) -> Result<Started, Error> {
        self.instance(opts.instance.as_deref())?.start_run(workflow, input, opts.run_id, opts.if_exists).await
    }

    /// Sends a signal with a JSON payload to a run. Signals sent before the
    /// workflow waits for them are kept and delivered in order. A signal to
    /// a run that continued as new goes to the latest run of its chain
    /// (and the signals a run did not take move to the run that continues
    /// it).
    ///
    /// The run id, the signal name and the payload are checked first
    /// ([`Error::InvalidName`], [`Error::PayloadTooLarge`]).
    pub async fn signal(&self, run_id: &str, name: &str, payload: Value, opts: CallOptions) -> Result<(), Error> {
        let opts = SignalOptions { instance: opts.instance, idempotency_key: None };
        self.send_signal(run_id, name, payload, opts).await.map(|_| ())
    }

    /// [`Continuum::signal`], with an idempotency key when the options
    /// give one: the run receives the signal once however often it is
    /// sent (a resend is reported as a duplicate, also once the run has
    /// finished); the same key with another name or payload fails with
    /// [`Error::SignalKeyConflict`].
    pub async fn send_signal(&self, run_id: &str, name: &str, payload: Value, opts: SignalOptions) -> Result<SignalSent, Error> {
        input_limits::check_run_id(run_id)?;
        input_limits::check_signal_name(name)?;
        if let Some(k) = &opts.idempotency_key {
            input_limits::check_signal_key(k)?;
        }
        input_limits::check_payload("signal payload", &payload)?;
        let inst = self.instance(opts.instance.as_deref())?;
        // A signal to an earlier run of a chain (continue-as-new) goes to
        // the chain's latest run; one that continues meanwhile is followed.
        let mut key = RunKey::new(inst.name(), inst.chain_end(run_id).await?.key.run_id);
        let sent = loop {
            match inst.journal().send_signal(&key, name, &payload, opts.idempotency_key.as_deref()).await {
                Err(JournalError::RunFinished { state: RunState::Continued, .. }) => {
                    key = RunKey::new(inst.name(), inst.chain_end(&key.run_id).await?.key.run_id);
                }
                sent => break sent.map_err(|e| Error::from_journal(e, &key))?,
            }
        };
        let run_id = key.run_id.as_str();
        if sent.duplicate {
            tracing::info!(instance = %key.instance, run_id, workflow = %sent.workflow, signal = name, signal_id = sent.id,
                "signal sent before with this idempotency key: not sent again");
        } else {
            tracing::info!(instance = %key.instance, run_id, workflow = %sent.workflow, signal = name, signal_id = sent.id, "signal sent");
            inst.shared.wakeups.dispatcher.notify_one();
        }
        Ok(SignalSent { duplicate: sent.duplicate })
    }

    /// Cancels a run: the request is recorded and stands, and the engine
    /// executing the run (on any host, now or when it next wakes) delivers
    /// it to the workflow. Its waits on operations started before complete
    /// with a `cancelled` failure, activities in flight here are told to
    /// stop, and the workflow may clean up (run activities, timers) for
    /// `run_supervisor.cancel_cleanup_ms` before the run ends as
    /// `cancelled`; past that, or if it makes no host call to be told, it
    /// is terminated. Waits up to [`CANCEL_CONFIRM_TIMEOUT`] for the end:
    /// [`CancelOutcome::Cancelled`], else [`CancelOutcome::Requested`].
    pub async fn cancel(&self, run_id: &str, opts: CallOptions) -> Result<CancelOutcome, Error> {
        input_limits::check_run_id(run_id)?;
        self.instance(opts.instance.as_deref())?.cancel_run(run_id).await
    }

    /// Terminates a run: stops it at once, with no clean-up; it ends
    /// `cancelled` with the error code `terminated`. With no live engine
    /// holding the run, the caller takes the lease through the journal and
    /// commits the end itself; with a live engine (here or on another
    /// host), the request is delivered to it and its confirmation awaited.
    /// If none comes within [`CANCEL_CONFIRM_TIMEOUT`], the request is
    /// withdrawn (only if the run is still unfinished and the request still
    /// ours) and [`Error::CancelNotConfirmed`] is returned: nothing is left
    /// half-done and retrying is safe. If the engine stopped the run after
    /// all, the termination succeeds.
    pub async fn terminate(&self, run_id: &str, opts: CallOptions) -> Result<CancelOutcome, Error> {
        input_limits::check_run_id(run_id)?;
        self.instance(opts.instance.as_deref())?.terminate_run(run_id).await
    }

    /// Creates a schedule in the instance: each tick of its cron
    /// expression (or its one time) starts one run of its workflow, named
    /// `NAME@TICK`. Bad input is refused before anything is written
    /// ([`Error::InvalidSchedule`], [`Error::UnknownWorkflow`],
    /// [`Error::ScheduleExists`]). The ticks are fired by the scheduler
    /// child of the hosts serving the instance.
    pub async fn create_schedule(&self, spec: &ScheduleSpec, opts: CallOptions) -> Result<ScheduleInfo, Error> {
        self.instance(opts.instance.as_deref())?.create_schedule(spec).await
    }

    /// The instance's schedules, by name, with their next tick.
    pub async fn schedules(&self, opts: CallOptions) -> Result<Vec<ScheduleInfo>, Error> {
        self.instance(opts.instance.as_deref())?.schedules().await
    }

    /// Pauses a schedule ([`Error::UnknownSchedule`] if there is none of
    /// that name).
    pub async fn pause_schedule(&self, name: &str, opts: CallOptions) -> Result<ScheduleInfo, Error> {
        self.instance(opts.instance.as_deref())?.pause_schedule(name).await
    }

    /// Resumes a paused schedule from its next tick after now.
    pub async fn resume_schedule(&self, name: &str, opts: CallOptions) -> Result<ScheduleInfo, Error> {
        self.instance(opts.instance.as_deref())?.resume_schedule(name).await
    }

    /// Deletes a schedule; the runs it started stay.
    pub async fn delete_schedule(&self, name: &str, opts: CallOptions) -> Result<(), Error> {
        self.instance(opts.instance.as_deref())?.delete_schedule(name).await
    }

    /// Waits until the run is final (completed, failed, cancelled or
    /// drifted) and returns its result. A run that continued as new is
    /// followed to the end of its chain: the result is the chain's last
    /// run's. A timeout too long to represent (such as [`Duration::MAX`])
    /// waits without end.
    pub async fn await_run(&self, run_id: &str, timeout: Duration, opts: CallOptions) -> Result<RunOutcome, Error> {
        input_limits::check_run_id(run_id)?;
        let inst = self.instance(opts.instance.as_deref())?;
        let now = tokio::time::Instant::now();
        // A century stands for "no end" where the clock cannot go further.
        let deadline = now.checked_add(timeout).unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600));
        let awaited = run_id;
        let mut run_id = run_id.to_string();
        loop {
            let outcome = Self::await_one(inst, &run_id, deadline, timeout).await.map_err(|e| match e {
                // The caller awaited the chain's first run: name that one.
                Error::AwaitTimeout { instance, waited, .. } => Error::AwaitTimeout { instance, run_id: awaited.to_string(), waited },
                other => other,
            })?;
            if outcome.state != RunState::Continued {
                return Ok(outcome);
            }
            let key = RunKey::new(inst.name(), run_id.as_str());
            let run = inst.journal().get_run(&key).await?.ok_or_else(|| Error::unknown_run(&key))?;
            match run.continued_to {
                Some(next) => run_id = next,
                None => return Ok(outcome),
            }
        }
    }

    /// [`Continuum::await_run`] of one run (a `continued` one included).
    async fn await_one(inst: &Instance, run_id: &str, deadline: tokio::time::Instant, timeout: Duration) -> Result<RunOutcome, Error> {
        let key = RunKey::new(inst.name(), run_id);
        let mut finished = inst.finished_runs().watch_finished(run_id);
        // Runs executed here announce their end in-process; the poll is the
        // backstop (and how runs finished by other hosts are seen).
        let local = inst.executes_runs();
        let mut poll = Duration::from_millis(if local { 50 } else { 5 });
        // A run that finished here announced its committed result.
        let known = |f: instance::RunFinished| f.result.map(|(output, error)| RunOutcome { state: f.state, output, error });
        loop {
            if let Some(outcome) = inst.finished_runs().finished_here(run_id).and_then(known) {
                return Ok(outcome);
            }
            // A run executing here announces its end: no need to read it.
            if !inst.shared.registry.contains(run_id) {
                let run = inst.journal().get_run(&key).await?.ok_or_else(|| Error::unknown_run(&key))?;
                if run.state.is_final() {
                    return Ok(RunOutcome { state: run.state, output: run.output, error: run.error });
                }
            }
            let wait_until = (tokio::time::Instant::now() + poll).min(deadline);
            let announced = tokio::select! {
                f = &mut finished => Some(f.ok()),
                _ = tokio::time::sleep_until(wait_until) => None,
            };
            if let Some(announced) = announced {
                if let Some(outcome) = announced.and_then(known) {
                    return Ok(outcome);
                }
                // Used up without a result to return: read the run, and
                // watch again.
                finished = inst.finished_runs().watch_finished(run_id);
            }
            if tokio::time::Instant::now() >= deadline {
                let run = inst.journal().get_run(&key).await?.ok_or_else(|| Error::unknown_run(&key))?;
                if run.state.is_final() {
                    return Ok(RunOutcome { state: run.state, output: run.output, error: run.error });
                }
                return Err(Error::AwaitTimeout { instance: key.instance, run_id: key.run_id, waited: timeout });
            }
            poll = (poll * 2).min(Duration::from_millis(if local { 500 } else { 200 }));
        }
    }
}
