//! The scheduler: fires the instance's due schedule ticks. Every host that
//! runs it reads the due schedules; for each, it skips the ticks older than
//! the catch-up window (counted), skips a tick while the previous run is
//! unfinished under the `skip` overlap policy (counted), and otherwise
//! starts the tick's run through the normal start path under the id
//! `NAME@TICK`, then moves the schedule past the tick with a
//! compare-and-set. The run id makes a tick start one run however many
//! hosts fire it; starting before moving on means a host that dies in
//! between leaves the tick due, and the next host finds its run exists and
//! only moves on. It sleeps until the instance's next tick, at most its
//! poll interval (schedules written by other processes on SQLite), and is
//! woken by schedule changes (in-process, and Postgres notifications).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};

use super::options::SchedulerConfig;
use super::start::start_run;
use super::Shared;
use crate::journal::{Advance, RunKey, ScheduleRow};
use crate::schedule::{from_ms, run_id, Overlap, Ticks};
use crate::{Error, IfExists, Started};

/// Due schedules handled per read.
const BATCH: i64 = 32;

/// How long a tick that could not be handled (its run could not be
/// started: the database is down, the workflow is not deployed) waits
/// before it is tried again.
const RETRY: Duration = Duration::from_secs(1);

/// The most missed ticks counted one by one after downtime; past it, the
/// schedule moves straight to its first tick inside the window.
const MAX_COUNTED: i64 = 100_000;

/// Runs the scheduler until the instance stops.
pub async fn run(shared: Arc<Shared>, opts: SchedulerConfig) {
    loop {
        let now = Utc::now();
        let mut stuck = false;
        match shared.journal.due_schedules(&shared.name, now.timestamp_millis(), BATCH).await {
            Ok(due) => {
                let full = due.len() as i64 == BATCH;
                for row in due {
                    if let Err(e) = fire(&shared, &row, now).await {
                        stuck = true;
                        tracing::warn!(instance = %shared.name, schedule = %row.name, error = %e, "schedule tick not handled; trying again");
                    }
                }
                if full && !stuck {
                    tokio::task::yield_now().await;
                    continue;
                }
            }
            Err(e) => {
                stuck = true;
                tracing::warn!(instance = %shared.name, error = %e, "reading due schedules failed");
            }
        }
        let sleep = if stuck {
            RETRY.min(opts.poll_interval)
        } else {
            match shared.journal.next_schedule_tick(&shared.name).await {
                Ok(Some(ms)) => {
                    let wait = ms.saturating_sub(Utc::now().timestamp_millis()).max(0);
                    Duration::from_millis(u64::try_from(wait).unwrap_or(0)).min(opts.poll_interval)
                }
                Ok(None) => opts.poll_interval,
                Err(e) => {
                    tracing::warn!(instance = %shared.name, error = %e, "reading the next schedule tick failed");
                    opts.poll_interval
                }
            }
        };
        if sleep.is_zero() {
            tokio::task::yield_now().await;
            continue;
        }
        tokio::select! {
            _ = shared.wakeups.scheduler.notified() => {}
            _ = tokio::time::sleep(sleep) => {}
        }
    }
}

/// Handles the due tick of one schedule at `now`.
async fn fire(shared: &Arc<Shared>, row: &ScheduleRow, now: DateTime<Utc>) -> Result<(), Error> {
    let Some(from) = row.next_fire_ms else { return Ok(()) };
    let Some(spec) = row.spec() else {
        return Err(Error::InvalidSchedule { instance: row.instance.clone(), name: row.name.clone(), reason: "its stored timing is unreadable".into() });
    };
    let ticks = Ticks::parse(&spec.timing)
        .map_err(|reason| Error::InvalidSchedule { instance: row.instance.clone(), name: row.name.clone(), reason })?;
    let Some(mut tick) = from_ms(from) else {
        return Err(Error::InvalidSchedule { instance: row.instance.clone(), name: row.name.clone(), reason: format!("its next tick {from} is out of range") });
    };
    // Ticks older than the catch-up window are skipped and counted.
    let horizon = chrono::Duration::from_std(spec.catch_up)
        .ok()
        .and_then(|d| now.checked_sub_signed(d))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let mut skipped = 0i64;
    while tick < horizon {
        skipped += 1;
        let next = if skipped < MAX_COUNTED { ticks.next_after(tick) } else { ticks.next_after(horizon) };
        match next {
            Some(next) => tick = next,
            None => {
                log_skipped(row, skipped, "older than the catch-up window");
                return advance(shared, row, Advance { from_ms: from, to_ms: None, run_id: None, skipped }).await;
            }
        }
    }
    if skipped > 0 {
        log_skipped(row, skipped, "older than the catch-up window");
    }
    if tick > now {
        return advance(shared, row, Advance { from_ms: from, to_ms: Some(tick.timestamp_millis()), run_id: None, skipped }).await;
    }
    let next = ticks.next_after(tick).map(|t| t.timestamp_millis());
    if spec.overlap == Overlap::Skip && previous_unfinished(shared, row).await? {
        log_skipped(row, 1, "the previous run is still going");
        return advance(shared, row, Advance { from_ms: from, to_ms: next, run_id: None, skipped: skipped + 1 }).await;
    }
    let id = run_id(&row.name, tick);
    match start_run(shared, &spec.workflow, spec.input.clone(), Some(id.clone()), IfExists::Return).await {
        Ok(Started { existed: false, .. }) => tracing::info!(instance = %row.instance, schedule = %row.name, run_id = %id,
            tick = %tick.to_rfc3339_opts(SecondsFormat::AutoSi, true), "schedule fired"),
        // Started by a host that died (or lost the race) before moving on;
        // with another input if the schedule was redefined meanwhile.
        Ok(Started { existed: true, .. }) | Err(Error::RunExists { .. } | Error::RunConflict { .. }) => {
            tracing::info!(instance = %row.instance, schedule = %row.name, run_id = %id, "schedule tick's run exists already; moving on")
        }
        Err(e) => return Err(e),
    }
    advance(shared, row, Advance { from_ms: from, to_ms: next, run_id: Some(id.as_str()), skipped }).await
}

/// Moves the schedule on; losing the compare-and-set is fine (another host
/// handled the tick, or the schedule changed meanwhile).
async fn advance(shared: &Shared, row: &ScheduleRow, a: Advance<'_>) -> Result<(), Error> {
    if !shared.journal.advance_schedule(&row.instance, &row.name, &a).await? {
        tracing::debug!(instance = %row.instance, schedule = %row.name, "tick handled by another host (or the schedule changed)");
    }
    Ok(())
}

/// Whether the run of the schedule's last fired tick is unfinished.
async fn previous_unfinished(shared: &Shared, row: &ScheduleRow) -> Result<bool, Error> {
    let Some(last) = &row.last_run_id else { return Ok(false) };
    let run = shared.journal.get_run(&RunKey::new(&row.instance, last)).await?;
    Ok(run.is_some_and(|r| !r.state.is_final()))
}

fn log_skipped(row: &ScheduleRow, ticks: i64, reason: &'static str) {
    tracing::info!(instance = %row.instance, schedule = %row.name, ticks, reason, "schedule ticks skipped");
}
