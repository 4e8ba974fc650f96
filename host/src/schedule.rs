//! Schedules: what one is ([`ScheduleSpec`], as created; [`ScheduleInfo`],
//! as listed), the checks a spec passes before anything is written, and
//! its ticks. A cron schedule ticks at the times its expression (read by
//! the `croner` crate: five fields, or six with seconds first) matches in
//! its IANA time zone (`chrono-tz`); a one-shot schedule ticks once. Each
//! tick starts the run `NAME@TICK`, TICK in RFC 3339 (UTC), so a tick
//! starts at most one run whichever host fires it.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;
use serde_json::Value;

use crate::input_limits::{clip, invalid_name};
use crate::journal::{ScheduleRow, ORIGIN_API, ORIGIN_MANIFEST};
use crate::Error;

/// The longest schedule name accepted, in characters (no whitespace, no
/// control character, no `@`: it begins the id of each run it starts).
pub const MAX_SCHEDULE_NAME_CHARS: usize = 128;

/// The catch-up window when none is given: a tick missed by up to a minute
/// (every host down, a long pause of the process) still fires.
pub const DEFAULT_CATCH_UP: Duration = Duration::from_secs(60);

/// The time zone when none is given.
pub const DEFAULT_TIME_ZONE: &str = "UTC";

/// When a schedule ticks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleTiming {
    /// At every time a cron expression matches, read in a time zone.
    Cron {
        /// The expression: five fields (minute hour day-of-month month
        /// day-of-week), or six with seconds first.
        expression: String,
        /// An IANA time zone name (`Europe/Paris`, `UTC`).
        time_zone: String,
    },
    /// Once, at this time.
    At(DateTime<Utc>),
}

/// What a tick does while the run of the last tick that started one is
/// still unfinished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overlap {
    /// Skip the tick (counted as skipped).
    #[default]
    Skip,
    /// Start its run anyway.
    Allow,
}

impl Overlap {
    /// `skip` or `allow`.
    pub fn as_str(self) -> &'static str {
        match self {
            Overlap::Skip => "skip",
            Overlap::Allow => "allow",
        }
    }

    /// Parses `skip` or `allow`.
    pub fn parse(text: &str) -> Option<Overlap> {
        match text {
            "skip" => Some(Overlap::Skip),
            "allow" => Some(Overlap::Allow),
            _ => None,
        }
    }
}

/// A schedule to create.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleSpec {
    /// Its name, unique in its instance.
    pub name: String,
    /// The workflow each tick starts.
    pub workflow: String,
    /// The input of each run.
    pub input: Value,
    /// When it ticks.
    pub timing: ScheduleTiming,
    /// What a tick does while the previous run is unfinished.
    pub overlap: Overlap,
    /// A tick found more than this late (every host was down) is skipped
    /// and counted, not fired.
    pub catch_up: Duration,
}

/// A schedule as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleInfo {
    /// What it was created with.
    pub spec: ScheduleSpec,
    /// Paused: no tick fires until it is resumed.
    pub paused: bool,
    /// Its next tick (`None`: a one-shot schedule that fired).
    pub next_fire_at: Option<DateTime<Utc>>,
    /// The run of the last tick that started one.
    pub last_run_id: Option<String>,
    /// Ticks that started a run.
    pub fired: u64,
    /// Ticks skipped (overlap, or later than the catch-up window).
    pub skipped: u64,
    /// Declared in the manifest (as opposed to created through the API).
    pub from_manifest: bool,
}

/// A schedule's timing, parsed: what its ticks are computed from.
#[derive(Debug, Clone)]
pub(crate) enum Ticks {
    /// A cron expression in a time zone.
    Cron(Box<Cron>, Tz),
    /// One tick.
    At(DateTime<Utc>),
}

impl Ticks {
    /// Parses a timing; the reason (one line) when it is invalid.
    pub(crate) fn parse(timing: &ScheduleTiming) -> Result<Ticks, String> {
        match timing {
            ScheduleTiming::Cron { expression, time_zone } => {
                let tz = parse_time_zone(time_zone)?;
                let cron = Cron::from_str(expression)
                    .map_err(|e| format!("invalid cron expression `{}`: {e}", clip(expression)))?;
                Ok(Ticks::Cron(Box::new(cron), tz))
            }
            ScheduleTiming::At(at) => Ok(Ticks::At(*at)),
        }
    }

    /// The first tick strictly after `after`; `None` when there is none.
    pub(crate) fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Ticks::Cron(cron, tz) => {
                let local = tz.from_utc_datetime(&after.naive_utc());
                cron.find_next_occurrence(&local, false).ok().map(|t| t.with_timezone(&Utc))
            }
            Ticks::At(at) => (*at > after).then_some(*at),
        }
    }
}

/// Parses an IANA time zone name.
pub(crate) fn parse_time_zone(name: &str) -> Result<Tz, String> {
    Tz::from_str(name).map_err(|_| format!("unknown time zone `{}` (an IANA name such as `Europe/Paris` or `UTC`)", clip(name)))
}

/// Why `name` cannot name a schedule, if it cannot.
pub(crate) fn invalid_schedule_name(name: &str) -> Option<String> {
    if let Some(reason) = invalid_name(name, MAX_SCHEDULE_NAME_CHARS, false) {
        return Some(reason);
    }
    name.contains('@').then(|| "must not contain `@` (it ends the name in the ids of the runs it starts)".to_string())
}

/// The id of the run the tick `tick` of schedule `name` starts.
pub(crate) fn run_id(name: &str, tick: DateTime<Utc>) -> String {
    format!("{name}@{}", tick.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// A time from milliseconds since the epoch.
pub(crate) fn from_ms(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

impl ScheduleSpec {
    /// Checks the spec at `now` and makes the row to store (with its first
    /// tick): a valid name, a cron expression that parses and ticks again,
    /// a known time zone, a one-shot time still to come. `instance` names
    /// the instance in errors.
    pub(crate) fn to_row(&self, instance: &str, now: DateTime<Utc>, from_manifest: bool) -> Result<ScheduleRow, Error> {
        let refuse = |reason: String| Error::InvalidSchedule { instance: instance.to_string(), name: clip(&self.name), reason };
        if let Some(reason) = invalid_schedule_name(&self.name) {
            return Err(refuse(format!("the name {reason}")));
        }
        let ticks = Ticks::parse(&self.timing).map_err(refuse)?;
        let first = match &self.timing {
            ScheduleTiming::At(at) if *at <= now => {
                return Err(refuse(format!(
                    "the one-shot time {} is in the past (now is {})",
                    at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                    now.to_rfc3339_opts(SecondsFormat::Secs, true)
                )))
            }
            _ => ticks.next_after(now).ok_or_else(|| refuse("the cron expression never matches a time to come".into()))?,
        };
        let catch_up_ms = i64::try_from(self.catch_up.as_millis()).unwrap_or(i64::MAX);
        let (cron, time_zone, at_ms) = match &self.timing {
            ScheduleTiming::Cron { expression, time_zone } => (Some(expression.clone()), time_zone.clone(), None),
            ScheduleTiming::At(at) => (None, DEFAULT_TIME_ZONE.to_string(), Some(at.timestamp_millis())),
        };
        Ok(ScheduleRow {
            instance: instance.to_string(),
            name: self.name.clone(),
            workflow: self.workflow.clone(),
            input: self.input.clone(),
            cron,
            time_zone,
            at_ms,
            overlap: self.overlap.as_str().to_string(),
            catch_up_ms,
            paused: false,
            next_fire_ms: Some(first.timestamp_millis()),
            last_run_id: None,
            fired: 0,
            skipped: 0,
            origin: if from_manifest { ORIGIN_MANIFEST } else { ORIGIN_API }.to_string(),
        })
    }
}

impl ScheduleRow {
    /// The spec of a stored schedule; `None` if its stored timing is
    /// unreadable (neither a cron expression nor a time).
    pub(crate) fn spec(&self) -> Option<ScheduleSpec> {
        let timing = match (&self.cron, self.at_ms) {
            (Some(expression), _) => ScheduleTiming::Cron { expression: expression.clone(), time_zone: self.time_zone.clone() },
            (None, Some(ms)) => ScheduleTiming::At(from_ms(ms)?),
            (None, None) => return None,
        };
        Some(ScheduleSpec {
            name: self.name.clone(),
            workflow: self.workflow.clone(),
            input: self.input.clone(),
            timing,
            overlap: Overlap::parse(&self.overlap).unwrap_or_default(),
            catch_up: Duration::from_millis(u64::try_from(self.catch_up_ms).unwrap_or(0)),
        })
    }

    /// The stored schedule as the API shows it.
    pub(crate) fn info(&self) -> Option<ScheduleInfo> {
        Some(ScheduleInfo {
            spec: self.spec()?,
            paused: self.paused,
            next_fire_at: self.next_fire_ms.and_then(from_ms),
            last_run_id: self.last_run_id.clone(),
            fired: u64::try_from(self.fired).unwrap_or(0),
            skipped: u64::try_from(self.skipped).unwrap_or(0),
            from_manifest: self.origin == ORIGIN_MANIFEST,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cron(expression: &str, time_zone: &str) -> ScheduleTiming {
        ScheduleTiming::Cron { expression: expression.into(), time_zone: time_zone.into() }
    }

    #[test]
    fn ticks_follow_the_expression_in_its_time_zone() {
        let after = DateTime::parse_from_rfc3339("2026-03-28T22:10:00Z").map(|t| t.with_timezone(&Utc)).unwrap();
        // Summer time begins in Paris on 29 March 2026: 09:00 there is 07:00 UTC.
        let t = Ticks::parse(&cron("0 9 * * *", "Europe/Paris")).unwrap();
        assert_eq!(t.next_after(after).unwrap().to_rfc3339(), "2026-03-29T07:00:00+00:00");
        let every_2s = Ticks::parse(&cron("*/2 * * * * *", "UTC")).unwrap();
        assert_eq!(every_2s.next_after(after).unwrap().to_rfc3339(), "2026-03-28T22:10:02+00:00");
    }

    #[test]
    fn bad_timings_are_refused_with_the_reason() {
        let now = Utc::now();
        let spec = |timing| ScheduleSpec {
            name: "s".into(),
            workflow: "w".into(),
            input: Value::Null,
            timing,
            overlap: Overlap::Skip,
            catch_up: DEFAULT_CATCH_UP,
        };
        let reason = |timing| match spec(timing).to_row("default", now, false) {
            Err(Error::InvalidSchedule { reason, .. }) => reason,
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert!(reason(cron("61 * * * *", "UTC")).contains("invalid cron expression"));
        assert!(reason(cron("* * * * *", "Mars/Olympus")).contains("unknown time zone `Mars/Olympus`"));
        assert!(reason(cron("0 0 30 2 *", "UTC")).contains("never matches"));
        assert!(reason(ScheduleTiming::At(now - chrono::Duration::seconds(5))).contains("in the past"));
        let mut bad = spec(cron("* * * * *", "UTC"));
        bad.name = "a@b".into();
        assert!(matches!(bad.to_row("default", now, false), Err(Error::InvalidSchedule { .. })));
    }
}
