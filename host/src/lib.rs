//! Continuum host: a durable workflow runtime for WebAssembly workflows.
//!
//! [`Continuum`] is the facade: it holds named [`Instance`]s and offers the
//! verbs `start`, `signal`, `cancel`, `await_run` and `show`, each taking an
//! optional instance name (the default instance when absent). The verbs
//! talk to the instance's journal, so they work whether or not a host
//! executes the instance's runs in this process.
//!
//! ```no_run
//! # async fn demo() -> Result<(), continuum_host::Error> {
//! use continuum_host::{CallOptions, Continuum, StartOptions};
//! use continuum_host::instance::Instance;
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

pub mod activities;
pub mod cli;
mod deploy;
pub mod engine;
mod error;
pub mod instance;
pub mod journal;
mod load;
pub mod manifest;
pub mod modules;
mod replay_check;
pub mod telemetry;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{json, Value};

pub use deploy::{DeployOptions, DeployReport, Migrate};
pub use error::Error;
pub use instance::Instance;
pub use load::Mode;
use journal::{
    CancelRequest, CancelWithdrawal, Event, EventBody, JournalError, RunKey, RunRecord, RunState, RunWrite, Transition,
};

pub use manifest::DEFAULT_INSTANCE;

/// Options of [`Continuum::start`].
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// The instance; the default instance when `None`.
    pub instance: Option<String>,
    /// The run id; a new UUID when `None`.
    pub run_id: Option<String>,
}

/// Options of the verbs that address an existing run.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// The instance; the default instance when `None`.
    pub instance: Option<String>,
}

impl CallOptions {
    /// Addresses the named instance.
    pub fn instance(name: impl Into<String>) -> Self {
        Self { instance: Some(name.into()) }
    }
}

/// How a cancellation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The run is cancelled (by us or by its engine, confirmed).
    Cancelled,
    /// The run had already finished in this state.
    AlreadyFinal(RunState),
}

/// A finished run's result.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// Its final state.
    pub state: RunState,
    /// The output, when completed.
    pub output: Option<Value>,
    /// The error, when failed, cancelled or drifted.
    pub error: Option<Value>,
}

/// How long [`Continuum::cancel`] waits for a live engine to confirm.
pub const CANCEL_CONFIRM_TIMEOUT: Duration = Duration::from_secs(5);

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
    pub async fn start(&self, workflow: &str, input: Value, opts: StartOptions) -> Result<String, Error> {
        self.instance(opts.instance.as_deref())?.start_run(workflow, input, opts.run_id).await
    }

    /// Sends a signal with a JSON payload to a run. Signals sent before the
    /// workflow waits for them are kept and delivered in order.
    pub async fn signal(&self, run_id: &str, name: &str, payload: Value, opts: CallOptions) -> Result<(), Error> {
        let inst = self.instance(opts.instance.as_deref())?;
        let key = RunKey::new(inst.name(), run_id);
        let sent = inst.journal().send_signal(&key, name, &payload).await.map_err(|e| map_journal(e, &key))?;
        tracing::info!(instance = %key.instance, run_id, workflow = %sent.workflow, signal = name, signal_id = sent.id, "signal sent");
        inst.shared.pubsub.dispatcher.notify_one();
        Ok(())
    }

    /// Cancels a run. With no live engine holding the run, the caller takes
    /// the lease through the journal and commits the cancellation itself;
    /// with a live engine (here or on another host), the request is
    /// delivered to it and its confirmation awaited. If none comes within
    /// [`CANCEL_CONFIRM_TIMEOUT`], the request is withdrawn (only if the run
    /// is still unfinished and the request still ours) and
    /// [`Error::CancelNotConfirmed`] is returned: nothing is left half-done
    /// and retrying is safe. If the engine cancelled the run after all, the
    /// cancel succeeds.
    pub async fn cancel(&self, run_id: &str, opts: CallOptions) -> Result<CancelOutcome, Error> {
        let inst = self.instance(opts.instance.as_deref())?;
        let key = RunKey::new(inst.name(), run_id);
        let journal = inst.journal();
        if let CancelRequest::AlreadyFinal(state) = journal.request_cancel(&key).await.map_err(|e| map_journal(e, &key))? {
            return Ok(CancelOutcome::AlreadyFinal(state));
        }
        // The request as stored (an earlier, still pending one is reused):
        // what a withdrawal compares against.
        let requested_at = journal.get_run(&key).await?.ok_or_else(|| unknown_run(&key))?.cancel_requested_at;
        inst.shared.registry.cancel(run_id);
        let started = Instant::now();
        loop {
            let run = journal.get_run(&key).await?.ok_or_else(|| unknown_run(&key))?;
            match run.state {
                RunState::Cancelled => return Ok(CancelOutcome::Cancelled),
                s if s.is_final() => return Ok(CancelOutcome::AlreadyFinal(s)),
                _ => {}
            }
            let held = run.lease_owner.is_some() && run.lease_expires_at.is_some_and(|t| t > Utc::now());
            if !held && !inst.shared.registry.contains(run_id) {
                let owner = inst.shared.next_owner();
                if let Some((lease, _)) = journal.acquire_lease(&key, &owner, inst.shared.lease_ttl).await? {
                    let committed = async {
                        let last = journal.load_events(&key).await?.last().map(|e| e.seq).unwrap_or(0);
                        let mut write = RunWrite::new(key.clone(), lease.clone());
                        write.events.push((last + 1, EventBody::RunCancelled { reason: "cancelled on request (no engine held the run)".into() }));
                        write.transition = Some(Transition::Cancel {
                            error: json!({"code": "cancelled", "message": "the run was cancelled on request"}),
                        });
                        Ok::<bool, JournalError>(journal.commit(&[write]).await?.first().copied().unwrap_or(false))
                    }
                    .await;
                    match committed {
                        Ok(true) => {
                            tracing::info!(instance = %key.instance, run_id, workflow = %run.workflow, owner = %owner, "run cancelled through the journal");
                            tracing::debug!(instance = %key.instance, run_id, workflow = %run.workflow, owner = %owner,
                                token = lease.token, reason = "cancelled", "lease released");
                            // Its end, like one an engine commits: no attempt span or
                            // engine saw it, so the metrics are recorded here.
                            let elapsed = (Utc::now() - run.created_at).to_std().unwrap_or_default();
                            telemetry::metrics::run_finished(&key.instance, &run.workflow, "cancelled", elapsed);
                            inst.shared.pubsub.publish_finished(run_id, RunState::Cancelled, None);
                            return Ok(CancelOutcome::Cancelled);
                        }
                        // Not committed: give the lease back at once (the run is
                        // due again and its next engine sees the request).
                        other => {
                            if let Ok(true) = journal.release_lease(&key, &lease).await {
                                tracing::debug!(instance = %key.instance, run_id, workflow = %run.workflow, owner = %owner,
                                    token = lease.token, reason = "cancellation not committed", "lease released");
                            }
                            other?;
                        }
                    }
                }
            }
            if started.elapsed() >= CANCEL_CONFIRM_TIMEOUT {
                if let Some(at) = requested_at {
                    match journal.withdraw_cancel(&key, at).await.map_err(|e| map_journal(e, &key))? {
                        CancelWithdrawal::AlreadyFinal(RunState::Cancelled) => return Ok(CancelOutcome::Cancelled),
                        CancelWithdrawal::AlreadyFinal(s) => return Ok(CancelOutcome::AlreadyFinal(s)),
                        CancelWithdrawal::Withdrawn | CancelWithdrawal::NotOurs => {}
                    }
                }
                tracing::info!(instance = %key.instance, run_id, "cancellation not confirmed in time; request withdrawn");
                return Err(Error::CancelNotConfirmed {
                    instance: key.instance,
                    run_id: key.run_id,
                    waited: CANCEL_CONFIRM_TIMEOUT,
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the run is final (completed, failed, cancelled or
    /// drifted) and returns its result.
    pub async fn await_run(&self, run_id: &str, timeout: Duration, opts: CallOptions) -> Result<RunOutcome, Error> {
        let inst = self.instance(opts.instance.as_deref())?;
        let key = RunKey::new(inst.name(), run_id);
        let mut finished = inst.pubsub().watch_finished(run_id);
        let deadline = tokio::time::Instant::now() + timeout;
        // Runs executed here announce their end in-process; the poll is the
        // backstop (and how runs finished by other hosts are seen).
        let local = inst.executes_runs();
        let mut poll = Duration::from_millis(if local { 50 } else { 5 });
        // A run that finished here announced its committed result.
        let known = |f: instance::RunFinished| f.result.map(|(output, error)| RunOutcome { state: f.state, output, error });
        loop {
            if let Some(outcome) = inst.pubsub().finished_here(run_id).and_then(known) {
                return Ok(outcome);
            }
            // A run executing here announces its end: no need to read it.
            if !inst.shared.registry.contains(run_id) {
                let run = inst.journal().get_run(&key).await?.ok_or_else(|| unknown_run(&key))?;
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
                finished = inst.pubsub().watch_finished(run_id);
            }
            if tokio::time::Instant::now() >= deadline {
                let run = inst.journal().get_run(&key).await?.ok_or_else(|| unknown_run(&key))?;
                if run.state.is_final() {
                    return Ok(RunOutcome { state: run.state, output: run.output, error: run.error });
                }
                return Err(Error::AwaitTimeout { instance: key.instance, run_id: key.run_id, waited: timeout });
            }
            poll = (poll * 2).min(Duration::from_millis(if local { 500 } else { 200 }));
        }
    }

    /// A run's record and journal.
    pub async fn show(&self, run_id: &str, opts: CallOptions) -> Result<(RunRecord, Vec<Event>), Error> {
        let inst = self.instance(opts.instance.as_deref())?;
        let key = RunKey::new(inst.name(), run_id);
        let run = inst.journal().get_run(&key).await?.ok_or_else(|| unknown_run(&key))?;
        let events = inst.journal().load_events(&key).await?;
        Ok((run, events))
    }
}

fn unknown_run(key: &RunKey) -> Error {
    Error::UnknownRun { instance: key.instance.clone(), run_id: key.run_id.clone() }
}

fn map_journal(e: JournalError, key: &RunKey) -> Error {
    match e {
        JournalError::UnknownRun(_) => unknown_run(key),
        JournalError::RunExists(_) => Error::RunExists { instance: key.instance.clone(), run_id: key.run_id.clone() },
        JournalError::RunFinished { state, .. } => {
            Error::RunFinished { instance: key.instance.clone(), run_id: key.run_id.clone(), state }
        }
        other => Error::Journal(other),
    }
}
