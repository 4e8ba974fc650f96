//! [`RunControlStore`]: pausing, resuming and resetting runs (`continuum
//! pause`, `resume`, `retry`, `reset`), and reading the resets back.
//!
//! A pause is `runs.paused_at`: the claims (`reads::due_candidates`) skip a
//! paused run, so no host executes it; what arrives for it (signals,
//! activity results) is stored and waits. A reset moves the journal entries
//! after its point from `events` to `superseded_events` (the replay reads
//! `events` only, so its path stays as fast), records a `run_resets` row,
//! and makes the run `pending` with its lease token moved on, so an engine
//! still executing it is fenced out at its next write.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::codec::{corrupt, event_from_row, TsRow};
use super::reads::{Arg, SharedReads};
use super::{Event, JournalError, NewActivityTask, RunKey, RunRecord, RunState};

/// What a reset does to a run, computed by the caller from the journal
/// it read (and applied only if the run is still as it was read).
#[derive(Debug, Clone)]
pub struct ResetPlan {
    /// `reset` or `retry`.
    pub kind: &'static str,
    /// The last journal entry kept.
    pub to_seq: i64,
    /// Why, if the caller said.
    pub reason: Option<String>,
    /// The run's state when it was read.
    pub previous_state: RunState,
    /// The lease token read: the reset applies only if it is unchanged.
    pub expected_token: i64,
    /// The journal's last entry when it was read: the reset applies only
    /// if no entry was appended since.
    pub expected_last_seq: i64,
    /// Keep `paused_at` (a paused unfinished run stays paused).
    pub keep_paused: bool,
    /// Activity calls whose schedule is superseded: their tasks are
    /// marked `superseded` (their claim token moved on: a worker still
    /// holding a claim completes nothing) for the new path's call of the
    /// same operation to replace, their heartbeats deleted.
    pub dropped_ops: Vec<u32>,
    /// Activity calls whose schedule is kept but whose outcome is
    /// superseded (or whose task a final run dropped): their task is
    /// written again as new, no attempt made, its claim token moved on.
    pub reopened: Vec<NewActivityTask>,
}

/// A reset (or retry) of a run, as recorded.
#[derive(Debug, Clone)]
pub struct ResetRow {
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
    pub at: DateTime<Utc>,
    /// The entries it superseded, in `seq` order.
    pub superseded: Vec<Event>,
}

/// Pausing, resuming and resetting runs. Every method is one transaction.
#[async_trait]
pub trait RunControlStore: SharedReads + Send + Sync + 'static {
    /// Marks an unfinished, unpaused run paused; returns it as updated,
    /// `None` when the run is unknown, final or paused already (nothing
    /// written).
    async fn pause_run(&self, key: &RunKey) -> Result<Option<RunRecord>, JournalError>;

    /// Clears the pause of an unfinished paused run and makes it due
    /// (`wake_gen` bumped, so an engine suspending it meanwhile leaves it
    /// due: what it waits for may have come while it was paused), and
    /// notifies the hosts; returns it as updated, `None` when the run is
    /// unknown, final or not paused (nothing written).
    async fn resume_run(&self, key: &RunKey) -> Result<Option<RunRecord>, JournalError>;

    /// Applies a reset (see [`ResetPlan`]): returns the reset's id, `None`
    /// (nothing written) when the run changed since it was read (its lease
    /// token or its journal's end moved) or continued as new.
    async fn reset_run(&self, key: &RunKey, plan: &ResetPlan) -> Result<Option<i64>, JournalError>;

    /// The run's resets, oldest first, with the entries each superseded.
    async fn resets(&self, key: &RunKey) -> Result<Vec<ResetRow>, JournalError> {
        let k = key.to_string();
        let args = [Arg::Text(&key.instance), Arg::Text(&key.run_id)];
        let mut out: Vec<ResetRow> = Vec::new();
        self.read_pool()
            .for_each_row(
                "SELECT reset_id, kind, to_seq, reason, previous_state, created_at FROM run_resets \
                 WHERE instance = $1 AND run_id = $2 ORDER BY reset_id",
                &args,
                &mut |r: &dyn TsRow| {
                    out.push(ResetRow {
                        reset_id: r.int("reset_id", &k)?,
                        kind: r.text("kind", &k)?,
                        to_seq: r.int("to_seq", &k)?,
                        reason: r.opt_text("reason", &k)?,
                        previous_state: r.text("previous_state", &k)?,
                        at: r.ts_req("created_at", &k)?,
                        superseded: Vec::new(),
                    });
                    Ok(())
                },
            )
            .await?;
        if out.is_empty() {
            return Ok(out);
        }
        let mut superseded: Vec<(i64, Event)> = Vec::new();
        self.read_pool()
            .for_each_row(
                "SELECT reset_id, seq, body, recorded_at FROM superseded_events \
                 WHERE instance = $1 AND run_id = $2 ORDER BY reset_id, seq",
                &args,
                &mut |r: &dyn TsRow| {
                    superseded.push((r.int("reset_id", &k)?, event_from_row(r, key)?));
                    Ok(())
                },
            )
            .await?;
        for (reset_id, event) in superseded {
            match out.iter_mut().find(|r| r.reset_id == reset_id) {
                Some(r) => r.superseded.push(event),
                None => return Err(corrupt(&k, format!("superseded entry {} of unknown reset {reset_id}", event.seq))),
            }
        }
        Ok(out)
    }
}
