//! [`ScheduleStore`]: the `schedules` table of an instance. A schedule
//! starts a workflow at the ticks of a cron expression, or once at a given
//! time; the scheduler child of every host reads the due ones and moves
//! each past the tick it handled by a compare-and-set, so two hosts never
//! both handle one tick's bookkeeping (the run a tick starts has an id of
//! its own, so it exists once whatever happens).
//!
//! Tick times are computed by the host (from the cron expression and the
//! time zone), so they are milliseconds since the epoch (UTC) in both
//! stores. Every statement is written once here with `$N` parameters; a
//! store only runs a write in its own way ([`ScheduleStore::schedule_write`]).

use async_trait::async_trait;
use serde_json::Value;

use super::codec::{corrupt, TsRow};
use super::reads::{Arg, SharedReads};
use super::JournalError;

/// Who declared a schedule.
pub const ORIGIN_MANIFEST: &str = "manifest";
/// A schedule created through the API or the CLI.
pub const ORIGIN_API: &str = "api";

/// A stored schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleRow {
    /// Its instance.
    pub instance: String,
    /// Its name, unique in the instance.
    pub name: String,
    /// The workflow each tick starts.
    pub workflow: String,
    /// The input of each run.
    pub input: Value,
    /// The cron expression (`None`: a one-shot schedule, see `at_ms`).
    pub cron: Option<String>,
    /// The IANA time zone the cron expression is read in.
    pub time_zone: String,
    /// A one-shot schedule's time.
    pub at_ms: Option<i64>,
    /// `skip` or `allow`.
    pub overlap: String,
    /// Ticks older than this when handled are skipped.
    pub catch_up_ms: i64,
    /// Paused: no tick fires.
    pub paused: bool,
    /// The next tick (`None`: nothing more to fire).
    pub next_fire_ms: Option<i64>,
    /// The run of the last tick that started one.
    pub last_run_id: Option<String>,
    /// Ticks that started a run.
    pub fired: i64,
    /// Ticks skipped (overlap, or older than the catch-up window).
    pub skipped: i64,
    /// [`ORIGIN_MANIFEST`] or [`ORIGIN_API`].
    pub origin: String,
}

/// How a handled tick moves a schedule on ([`ScheduleStore::advance_schedule`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Advance<'a> {
    /// The tick handled: the move applies only if `next_fire_ms` is still it.
    pub from_ms: i64,
    /// The next tick (`None`: nothing more to fire).
    pub to_ms: Option<i64>,
    /// The run the tick started, if it started one.
    pub run_id: Option<&'a str>,
    /// Ticks skipped on the way.
    pub skipped: i64,
}

/// The columns of a [`ScheduleRow`].
const COLUMNS: &str = "instance, name, workflow, input, cron, time_zone, at_ms, overlap, catch_up_ms, paused, \
                       next_fire_ms, last_run_id, fired, skipped, origin";

/// A schedule's key and definition as statement arguments `$1` to `$11`:
/// instance, name, workflow, input, cron, time zone, at, overlap, catch-up,
/// next tick, origin (what creating and redefining it both write).
fn definition<'a>(s: &'a ScheduleRow, input: &'a str) -> [Arg<'a>; 11] {
    [
        Arg::Text(&s.instance),
        Arg::Text(&s.name),
        Arg::Text(&s.workflow),
        Arg::Text(input),
        Arg::OptText(s.cron.as_deref()),
        Arg::Text(&s.time_zone),
        Arg::OptInt(s.at_ms),
        Arg::Text(&s.overlap),
        Arg::Int(s.catch_up_ms),
        Arg::OptInt(s.next_fire_ms),
        Arg::Text(&s.origin),
    ]
}

/// The schedules of an instance.
#[async_trait]
pub trait ScheduleStore: SharedReads + Send + Sync + 'static {
    /// Runs one write statement in its own transaction; returns the rows it
    /// changed. With `wake`, the hosts of that instance are told its
    /// schedules changed (a [`WakeKind::Schedule`](super::WakeKind) notification).
    async fn schedule_write(&self, sql: &str, args: &[Arg<'_>], wake: Option<&str>) -> Result<u64, JournalError>;

    /// Stores a new schedule; false (nothing written) when the instance has
    /// one of that name.
    async fn create_schedule(&self, s: &ScheduleRow) -> Result<bool, JournalError> {
        let sql = format!(
            "INSERT INTO schedules ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $12, $10, NULL, 0, 0, $11) \
             ON CONFLICT (instance, name) DO NOTHING"
        );
        let input = input_text(s)?;
        let [a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11] = definition(s, &input);
        let args = [a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, Arg::Int(i64::from(s.paused))];
        Ok(self.schedule_write(&sql, &args, Some(&s.instance)).await? == 1)
    }

    /// Replaces the definition of an existing schedule (workflow, input,
    /// timing, policies, origin) and its next tick; its counters, pause
    /// and last run stay. False when it does not exist.
    async fn redefine_schedule(&self, s: &ScheduleRow) -> Result<bool, JournalError> {
        let sql = "UPDATE schedules SET workflow = $3, input = $4, cron = $5, time_zone = $6, at_ms = $7, \
                   overlap = $8, catch_up_ms = $9, next_fire_ms = $10, origin = $11 \
                   WHERE instance = $1 AND name = $2";
        let input = input_text(s)?;
        let args = definition(s, &input);
        Ok(self.schedule_write(sql, &args, Some(&s.instance)).await? == 1)
    }

    /// The schedule `name` of `instance`.
    async fn get_schedule(&self, instance: &str, name: &str) -> Result<Option<ScheduleRow>, JournalError> {
        let sql = format!("SELECT {COLUMNS} FROM schedules WHERE instance = $1 AND name = $2");
        Ok(rows(self, &sql, &[Arg::Text(instance), Arg::Text(name)]).await?.into_iter().next())
    }

    /// Every schedule of `instance`, by name.
    async fn list_schedules(&self, instance: &str) -> Result<Vec<ScheduleRow>, JournalError> {
        let sql = format!("SELECT {COLUMNS} FROM schedules WHERE instance = $1 ORDER BY name");
        rows(self, &sql, &[Arg::Text(instance)]).await
    }

    /// Up to `limit` schedules of `instance` not paused whose next tick is
    /// at or before `now_ms`, earliest first.
    async fn due_schedules(&self, instance: &str, now_ms: i64, limit: i64) -> Result<Vec<ScheduleRow>, JournalError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM schedules WHERE instance = $1 AND paused = 0 AND next_fire_ms IS NOT NULL \
             AND next_fire_ms <= $2 ORDER BY next_fire_ms, name LIMIT $3"
        );
        rows(self, &sql, &[Arg::Text(instance), Arg::Int(now_ms), Arg::Int(limit)]).await
    }

    /// The earliest next tick of the schedules of `instance` not paused.
    async fn next_schedule_tick(&self, instance: &str) -> Result<Option<i64>, JournalError> {
        let sql = "SELECT min(next_fire_ms) AS next FROM schedules \
                   WHERE instance = $1 AND paused = 0 AND next_fire_ms IS NOT NULL";
        let mut out = None;
        self.read_pool()
            .for_each_row(sql, &[Arg::Text(instance)], &mut |r: &dyn TsRow| {
                out = r.opt_int("next", instance)?;
                Ok(())
            })
            .await?;
        Ok(out)
    }

    /// Moves the schedule past the tick `a.from_ms` if its next tick is
    /// still that one (and it still exists): the compare-and-set that lets
    /// one host, and one only, account for a tick. False when another host
    /// did, or the schedule was redefined, paused or deleted meanwhile.
    async fn advance_schedule(&self, instance: &str, name: &str, a: &Advance<'_>) -> Result<bool, JournalError> {
        let sql = "UPDATE schedules SET next_fire_ms = $4, skipped = skipped + $5, \
                   fired = fired + CASE WHEN $6 = '' THEN 0 ELSE 1 END, \
                   last_run_id = CASE WHEN $6 = '' THEN last_run_id ELSE $6 END \
                   WHERE instance = $1 AND name = $2 AND next_fire_ms = $3 AND paused = 0";
        let args = [
            Arg::Text(instance),
            Arg::Text(name),
            Arg::Int(a.from_ms),
            Arg::OptInt(a.to_ms),
            Arg::Int(a.skipped),
            Arg::Text(a.run_id.unwrap_or("")),
        ];
        Ok(self.schedule_write(sql, &args, None).await? == 1)
    }

    /// Pauses or resumes a schedule; resuming sets its next tick to
    /// `next_fire_ms`. False when it does not exist.
    async fn set_schedule_paused(
        &self,
        instance: &str,
        name: &str,
        paused: bool,
        next_fire_ms: Option<i64>,
    ) -> Result<bool, JournalError> {
        let (sql, args) = if paused {
            ("UPDATE schedules SET paused = 1 WHERE instance = $1 AND name = $2", vec![Arg::Text(instance), Arg::Text(name)])
        } else {
            (
                "UPDATE schedules SET paused = 0, next_fire_ms = $3 WHERE instance = $1 AND name = $2",
                vec![Arg::Text(instance), Arg::Text(name), Arg::OptInt(next_fire_ms)],
            )
        };
        Ok(self.schedule_write(sql, &args, Some(instance)).await? == 1)
    }

    /// Deletes a schedule (its runs stay); false when it does not exist.
    async fn delete_schedule(&self, instance: &str, name: &str) -> Result<bool, JournalError> {
        let sql = "DELETE FROM schedules WHERE instance = $1 AND name = $2";
        Ok(self.schedule_write(sql, &[Arg::Text(instance), Arg::Text(name)], Some(instance)).await? == 1)
    }
}

/// The input as stored (JSON text).
fn input_text(s: &ScheduleRow) -> Result<String, JournalError> {
    serde_json::to_string(&s.input).map_err(|e| corrupt(format!("{}/schedule {}", s.instance, s.name), format!("input: {e}")))
}

/// The rows of a select of [`COLUMNS`].
async fn rows<S: ScheduleStore + ?Sized>(store: &S, sql: &str, args: &[Arg<'_>]) -> Result<Vec<ScheduleRow>, JournalError> {
    let mut out = Vec::new();
    store
        .read_pool()
        .for_each_row(sql, args, &mut |r: &dyn TsRow| {
            out.push(from_row(r)?);
            Ok(())
        })
        .await?;
    Ok(out)
}

/// Decodes a row of [`COLUMNS`].
fn from_row(r: &dyn TsRow) -> Result<ScheduleRow, JournalError> {
    let instance = r.text("instance", "?/schedule")?;
    let k = format!("{instance}/schedule {}", r.text("name", "?").unwrap_or_default());
    let input = r.text("input", &k)?;
    Ok(ScheduleRow {
        name: r.text("name", &k)?,
        workflow: r.text("workflow", &k)?,
        input: serde_json::from_str(&input).map_err(|e| corrupt(&k, format!("column `input` is not JSON: {e}")))?,
        cron: r.opt_text("cron", &k)?,
        time_zone: r.text("time_zone", &k)?,
        at_ms: r.opt_int("at_ms", &k)?,
        overlap: r.text("overlap", &k)?,
        catch_up_ms: r.int("catch_up_ms", &k)?,
        paused: r.int("paused", &k)? != 0,
        next_fire_ms: r.opt_int("next_fire_ms", &k)?,
        last_run_id: r.opt_text("last_run_id", &k)?,
        fired: r.int("fired", &k)?,
        skipped: r.int("skipped", &k)?,
        origin: r.text("origin", &k)?,
        instance,
    })
}
