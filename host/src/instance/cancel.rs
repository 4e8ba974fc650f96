//! Cancelling and terminating a run through the journal.
//!
//! A cancellation is recorded and stands: the engine that executes the
//! run (here or on another host, now or when it next wakes) delivers it to
//! the workflow, which may clean up before the run ends as cancelled. The
//! caller waits a moment for that end.
//!
//! A termination stops the run at once, with no clean-up. With no live
//! engine holding the run, the caller takes the lease and commits the end
//! itself; with a live engine, the request is delivered to it and its
//! confirmation awaited, and withdrawn if none comes in time.

use std::time::{Duration, Instant};

use chrono::Utc;


use crate::journal::{CancelKind, CancelRequest, CancelWithdrawal, EventBody, JournalError, RunKey, RunState, RunWrite, Transition};
use crate::telemetry;
use crate::{CancelOutcome, Error, RunError};

use super::Instance;

/// How long [`crate::Continuum::cancel`] waits for a live engine to confirm.
pub const CANCEL_CONFIRM_TIMEOUT: Duration = Duration::from_secs(5);

/// How often the run is read again while a confirmation is awaited.
const CONFIRM_POLL: Duration = Duration::from_millis(50);

impl Instance {
    /// Cancels the instance's run `run_id` (see [`crate::Continuum::cancel`]):
    /// records the request (which stands), tells the engine executing the
    /// run here if any (other hosts' are notified through the journal), and
    /// waits up to [`CANCEL_CONFIRM_TIMEOUT`] for the run to end.
    pub(crate) async fn cancel_run(&self, run_id: &str) -> Result<CancelOutcome, Error> {
        let journal = self.journal();
        let mut key = match self.request_on_chain(run_id, CancelKind::Graceful).await? {
            Ok(key) => key,
            Err(state) => return Ok(CancelOutcome::AlreadyFinal(state)),
        };
        self.shared.registry.cancel(&key.run_id);
        self.shared.wakeups.dispatcher.notify_one();
        let started = Instant::now();
        loop {
            let run = journal.get_run(&key).await?.ok_or_else(|| Error::unknown_run(&key))?;
            match run.state {
                RunState::Cancelled => return Ok(CancelOutcome::Cancelled),
                // It continued as new before it saw the request: the next
                // run of its chain took the request over.
                RunState::Continued if run.continued_to.is_some() => {
                    key = RunKey::new(self.name(), run.continued_to.unwrap_or_default());
                    self.shared.registry.cancel(&key.run_id);
                    self.shared.wakeups.dispatcher.notify_one();
                }
                s if s.is_final() => return Ok(CancelOutcome::AlreadyFinal(s)),
                _ if started.elapsed() >= CANCEL_CONFIRM_TIMEOUT => return Ok(CancelOutcome::Requested),
                _ => tokio::time::sleep(CONFIRM_POLL).await,
            }
        }
    }

    /// Records a cancellation request of `kind` on the latest run of the
    /// chain `run_id` belongs to (continue-as-new; `run_id` itself unless it
    /// continued): that run's key, or the final state the request found.
    async fn request_on_chain(&self, run_id: &str, kind: CancelKind) -> Result<Result<RunKey, RunState>, Error> {
        let mut key = RunKey::new(self.name(), self.chain_end(run_id).await?.key.run_id);
        loop {
            match self.journal().request_cancel(&key, kind).await.map_err(|e| Error::from_journal(e, &key))? {
                CancelRequest::AlreadyFinal(RunState::Continued) => {
                    key = RunKey::new(self.name(), self.chain_end(&key.run_id).await?.key.run_id);
                }
                CancelRequest::AlreadyFinal(state) => return Ok(Err(state)),
                CancelRequest::Requested => return Ok(Ok(key)),
            }
        }
    }

    /// Terminates the instance's run `run_id` (see [`crate::Continuum::terminate`]):
    /// records the request, then either commits the cancellation under a
    /// lease of its own (no engine holds the run) or waits up to
    /// [`CANCEL_CONFIRM_TIMEOUT`] for the engine holding it to confirm, and
    /// withdraws the request ([`Error::CancelNotConfirmed`]) if none does.
    pub(crate) async fn terminate_run(&self, run_id: &str) -> Result<CancelOutcome, Error> {
        let journal = self.journal();
        let mut key = match self.request_on_chain(run_id, CancelKind::Terminate).await? {
            Ok(key) => key,
            Err(state) => return Ok(CancelOutcome::AlreadyFinal(state)),
        };
        // The request as stored (an earlier, still pending one is reused):
        // what a withdrawal compares against.
        let requested_at = journal.get_run(&key).await?.ok_or_else(|| Error::unknown_run(&key))?.cancel_requested_at;
        self.shared.registry.terminate(&key.run_id);
        let started = Instant::now();
        loop {
            let run = journal.get_run(&key).await?.ok_or_else(|| Error::unknown_run(&key))?;
            let run_id = key.run_id.clone();
            let run_id = run_id.as_str();
            match run.state {
                RunState::Cancelled => return Ok(CancelOutcome::Cancelled),
                // It continued as new before it saw the request: the next
                // run of its chain took the request over (same time).
                RunState::Continued if run.continued_to.is_some() => {
                    key = RunKey::new(self.name(), run.continued_to.unwrap_or_default());
                    self.shared.registry.terminate(&key.run_id);
                    continue;
                }
                s if s.is_final() => return Ok(CancelOutcome::AlreadyFinal(s)),
                _ => {}
            }
            let held = run.lease_owner.is_some() && run.lease_expires_at.is_some_and(|t| t > Utc::now());
            if !held && !self.shared.registry.contains(run_id) {
                let owner = self.shared.next_owner();
                if let Some((lease, _)) = journal.acquire_lease(&key, &owner, self.shared.lease_ttl).await? {
                    let committed = async {
                        let last = journal.load_events(&key).await?.last().map(|e| e.seq).unwrap_or(0);
                        let mut write = RunWrite::new(key.clone(), lease.clone());
                        // Its parent is woken, its children closed by their policy.
                        write.family = true;
                        let reason = "terminated on request (no engine held the run)";
                        write.events.push((last + 1, EventBody::RunCancelled { reason: reason.into() }));
                        write.transition = Some(Transition::Cancel {
                            error: RunError::terminated(reason).into_value(),
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
                            self.shared.finished_runs.publish_finished(run_id, RunState::Cancelled, None);
                            return Ok(CancelOutcome::Cancelled);
                        }
                        // Not committed: give the lease back at once (the run is
                        // due again and its next engine sees the request).
                        other => {
                            if let Ok(true) = journal.release_lease(&key, &lease, Duration::ZERO).await {
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
                    match journal.withdraw_cancel(&key, at).await.map_err(|e| Error::from_journal(e, &key))? {
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
            tokio::time::sleep(CONFIRM_POLL).await;
        }
    }
}
