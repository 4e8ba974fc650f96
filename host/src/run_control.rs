//! Run control through the facade: pausing and resuming a run, retrying a
//! failed one, resetting one to a journal entry.
//!
//! A reset keeps the journal up to its point and supersedes the rest: the
//! entries after it move to the reset's history (`continuum show` lists
//! them), the run becomes `pending` with a new lease token (an engine still
//! executing it is fenced out at its next write), and it replays its kept
//! journal and goes on live from there. What the superseded entries had
//! done: activity calls scheduled after the point lose their tasks (the new
//! path schedules them again; a worker still holding a claim of one
//! completes nothing: its claim token is moved on); a call scheduled before
//! it whose outcome came after gets a new task, no attempt made; timers are
//! the replay's own (started again when the new path starts them); signals
//! the superseded entries consumed stay consumed (the new path waits for
//! new ones; signals not consumed yet stay in the inbox); a pending
//! cancellation or termination request is cleared; snapshots past the point
//! are deleted. A reset to before a child's start is refused (the child
//! exists and would be started again under the same id), and so is a reset
//! of a run that continued as new.

use serde::{Deserialize, Serialize};

use crate::input_limits::check_run_id;
use crate::journal::{Event, EventBody, NewActivityTask, ResetPlan, RunKey, RunRecord, RunState};
use crate::{CallOptions, Continuum, Error, HistoryEvent};

/// A reset (or retry) of a run, as `continuum show` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunReset {
    /// 1 for the run's first reset, then 2, ...
    pub reset_id: i64,
    /// `reset` or `retry`.
    pub kind: String,
    /// The last journal entry kept.
    pub to_seq: i64,
    /// Why, if given.
    pub reason: Option<String>,
    /// The state the run was in.
    pub previous_state: String,
    /// When.
    pub at: chrono::DateTime<chrono::Utc>,
    /// The journal entries it superseded (kept as history, never replayed).
    pub superseded: Vec<HistoryEvent>,
}

impl From<crate::journal::ResetRow> for RunReset {
    fn from(r: crate::journal::ResetRow) -> Self {
        Self {
            reset_id: r.reset_id,
            kind: r.kind,
            to_seq: r.to_seq,
            reason: r.reason,
            previous_state: r.previous_state,
            at: r.at,
            superseded: r.superseded.into_iter().map(HistoryEvent::from).collect(),
        }
    }
}

/// What a reset or retry did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResetOutcome {
    /// The run.
    pub run_id: String,
    /// The reset's number among the run's resets.
    pub reset_id: i64,
    /// The last journal entry kept.
    pub to_seq: i64,
    /// How many entries it superseded.
    pub superseded: usize,
}

impl Continuum {
    /// Pauses a run: no host claims or executes it until it is resumed
    /// (an engine executing it suspends it at its next wait, its lease
    /// released: at once here, at its next lease renewal on another
    /// host). Signals and activity results still arrive and wait. Refused ([`Error::RunControlRefused`]) for a finished or an
    /// already paused run, nothing written.
    pub async fn pause(&self, run_id: &str, opts: CallOptions) -> Result<(), Error> {
        check_run_id(run_id)?;
        let inst = self.instance(opts.instance.as_deref())?;
        let key = RunKey::new(inst.name(), run_id);
        match inst.journal().pause_run(&key).await? {
            Some(run) => {
                tracing::info!(instance = %key.instance, run_id, workflow = %run.workflow, "run paused");
                // An engine executing it here suspends it at its next wait
                // (one on another host learns it at its next renewal).
                inst.shared.registry.pause(run_id);
                Ok(())
            }
            None => Err(refusal(inst.journal().get_run(&key).await?, &key, "pause")),
        }
    }

    /// Resumes a paused run: it is due again where it was. Refused for a
    /// run that is not paused (or finished), nothing written.
    pub async fn resume(&self, run_id: &str, opts: CallOptions) -> Result<(), Error> {
        check_run_id(run_id)?;
        let inst = self.instance(opts.instance.as_deref())?;
        let key = RunKey::new(inst.name(), run_id);
        match inst.journal().resume_run(&key).await? {
            Some(run) => {
                tracing::info!(instance = %key.instance, run_id, workflow = %run.workflow, "run resumed");
                inst.shared.wakeups.dispatcher.notify_one();
                Ok(())
            }
            None => Err(refusal(inst.journal().get_run(&key).await?, &key, "resume")),
        }
    }

    /// Retries a failed run from its last journaled step: when it failed
    /// because an activity failed for good, from that activity's schedule
    /// (its failure and everything after it are superseded, and the call
    /// runs again, its attempts counted anew); otherwise from the entry
    /// before its failure (the workflow's code runs again from there).
    /// Refused for a run that is not `failed`.
    pub async fn retry(&self, run_id: &str, opts: CallOptions) -> Result<ResetOutcome, Error> {
        check_run_id(run_id)?;
        let inst = self.instance(opts.instance.as_deref())?;
        let key = RunKey::new(inst.name(), run_id);
        let run = inst.journal().get_run(&key).await?.ok_or_else(|| Error::unknown_run(&key))?;
        if run.state != RunState::Failed {
            return Err(refused(&key, "retry", format!("it is {}, not failed", run.state.as_str())));
        }
        let events = inst.journal().load_events(&key).await?;
        let to_seq = retry_point(&events).ok_or_else(|| refused(&key, "retry", "its journal records no failure".into()))?;
        self.apply_reset(inst, run, events, "retry", to_seq, None).await
    }

    /// Resets a run to its journal entry `to_seq`: it goes on live from
    /// there (see the module's documentation for what happens to what the
    /// later entries did), whatever its state, paused ones staying paused.
    /// Refused with [`Error::InvalidResetPoint`] for an entry the journal
    /// does not have, and [`Error::RunControlRefused`] for a run that
    /// continued as new or started a child after the point.
    pub async fn reset(&self, run_id: &str, to_seq: i64, reason: Option<String>, opts: CallOptions) -> Result<ResetOutcome, Error> {
        check_run_id(run_id)?;
        let inst = self.instance(opts.instance.as_deref())?;
        let key = RunKey::new(inst.name(), run_id);
        let run = inst.journal().get_run(&key).await?.ok_or_else(|| Error::unknown_run(&key))?;
        let events = inst.journal().load_events(&key).await?;
        let last = events.last().map_or(0, |e| e.seq);
        if to_seq < 1 || to_seq > last {
            return Err(Error::InvalidResetPoint {
                instance: key.instance,
                run_id: key.run_id,
                to_seq,
                reason: if last == 0 { "its journal is empty".into() } else { format!("its journal holds entries 1 to {last}") },
            });
        }
        if to_seq == last && !run.state.is_final() {
            return Err(refused(&key, "reset", format!("entry {to_seq} is the journal's last: nothing to reset")));
        }
        self.apply_reset(inst, run, events, "reset", to_seq, reason).await
    }

    async fn apply_reset(
        &self,
        inst: &crate::Instance,
        run: RunRecord,
        events: Vec<Event>,
        kind: &'static str,
        to_seq: i64,
        reason: Option<String>,
    ) -> Result<ResetOutcome, Error> {
        let key = run.key.clone();
        if run.state == RunState::Continued {
            return Err(refused(&key, kind, "it continued as new (reset the chain's latest run)".into()));
        }
        let superseded: Vec<&Event> = events.iter().filter(|e| e.seq > to_seq).collect();
        if let Some((seq, child)) = superseded.iter().find_map(|e| match &e.body {
            EventBody::ChildStarted { run_id, .. } => Some((e.seq, run_id.clone())),
            _ => None,
        }) {
            return Err(refused(&key, kind, format!("entry {seq} started child run `{child}`; reset to {seq} or later")));
        }
        let plan = ResetPlan {
            kind,
            to_seq,
            reason,
            previous_state: run.state,
            expected_token: run.lease_token,
            expected_last_seq: events.last().map_or(0, |e| e.seq),
            keep_paused: !run.state.is_final(),
            dropped_ops: superseded
                .iter()
                .filter_map(|e| match &e.body {
                    EventBody::ActivityScheduled { op, .. } => Some(*op),
                    _ => None,
                })
                .collect(),
            reopened: reopened_calls(&events, to_seq, run.state.is_final()),
        };
        let reset_id = inst
            .journal()
            .reset_run(&key, &plan)
            .await?
            .ok_or_else(|| refused(&key, kind, "it changed while being reset (an engine committed); try again".into()))?;
        inst.finished_runs().forget(&key.run_id);
        inst.shared.wakeups.dispatcher.notify_one();
        tracing::info!(instance = %key.instance, run_id = %key.run_id, workflow = %run.workflow, kind, to_seq,
            superseded = superseded.len(), previous_state = run.state.as_str(), reason = plan.reason.as_deref().unwrap_or(""),
            "run reset");
        Ok(ResetOutcome { run_id: key.run_id, reset_id, to_seq, superseded: superseded.len() })
    }
}

/// Where a retry resets a failed run to: before the schedule of the last
/// activity call that failed for good, when there is one; else before the
/// run's failure entry.
fn retry_point(events: &[Event]) -> Option<i64> {
    let failed_at = events.iter().rev().find(|e| matches!(e.body, EventBody::RunFailed { .. }))?.seq;
    let activity = events.iter().rev().find_map(|e| match &e.body {
        EventBody::ActivityFailed { op, .. } if e.seq < failed_at => Some(*op),
        _ => None,
    });
    match activity {
        // The call's outcome goes; its schedule stays (a reopened call).
        Some(op) => events
            .iter()
            .find(|e| matches!(&e.body, EventBody::ActivityFailed { op: o, .. } if *o == op))
            .map(|e| e.seq - 1),
        None => Some(failed_at - 1),
    }
}

/// The activity calls scheduled at or before `to_seq` whose outcome is
/// not (superseded, or none: a final run dropped its task): each gets a
/// new task. (A call still open in an unfinished run keeps its task.)
fn reopened_calls(events: &[Event], to_seq: i64, was_final: bool) -> Vec<NewActivityTask> {
    let completion = |op: u32| {
        events.iter().find(|e| match &e.body {
            EventBody::ActivityCompleted { op: o, .. } | EventBody::ActivityFailed { op: o, .. } | EventBody::OperationCancelled { op: o } => {
                *o == op
            }
            _ => false,
        })
    };
    events
        .iter()
        .filter(|e| e.seq <= to_seq)
        .filter_map(|e| match &e.body {
            EventBody::ActivityScheduled { op, name, input, options, .. } => {
                let reopen = match completion(*op) {
                    Some(c) => c.seq > to_seq,
                    None => was_final,
                };
                reopen.then(|| NewActivityTask::new(*op, name.clone(), input.clone(), options.clone()))
            }
            _ => None,
        })
        .collect()
}

/// Why `verb` changed nothing on the run `found` (read after the refused
/// write).
fn refusal(found: Option<RunRecord>, key: &RunKey, verb: &str) -> Error {
    match found {
        None => Error::unknown_run(key),
        Some(run) if run.state.is_final() => refused(key, verb, format!("it is {}", run.state.as_str())),
        Some(run) if run.paused_at.is_some() => refused(key, verb, "it is paused already".into()),
        Some(_) => refused(key, verb, "it is not paused".into()),
    }
}

fn refused(key: &RunKey, verb: &str, reason: String) -> Error {
    Error::RunControlRefused { verb: verb.to_string(), instance: key.instance.clone(), run_id: key.run_id.clone(), reason }
}
