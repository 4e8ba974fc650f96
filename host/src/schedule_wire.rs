//! Schedules as clients write and read them, in JSON: a schedule to
//! create as a client describes it ([`ScheduleDraft`]: the CLI's flags, the
//! HTTP API's request body) and a schedule as listed ([`ScheduleView`]:
//! `continuum schedule list --json`, the HTTP API's answers). The CLI, over
//! the database or through a server, and the API read and write these same
//! shapes, so they cannot differ.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::input_limits::clip;
use crate::schedule::{Overlap, ScheduleInfo, ScheduleSpec, ScheduleTiming, DEFAULT_CATCH_UP, DEFAULT_TIME_ZONE};
use crate::Error;

/// A schedule to create, as a client describes it: either `cron` (with an
/// optional `time_zone`) or `at`; the rest optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScheduleDraft {
    /// Its name, unique in its instance.
    pub name: String,
    /// The workflow each tick starts.
    pub workflow: String,
    /// The JSON input of each run (default `{}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// A cron expression: five fields, or six with seconds first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// The IANA time zone of `cron` (default `UTC`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// One time instead of `cron` (RFC 3339, with its offset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// `skip` (the default) or `allow` a tick while the last run is unfinished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap: Option<String>,
    /// A tick later than this many milliseconds is skipped and counted
    /// (default 60000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catch_up_ms: Option<u64>,
}

impl ScheduleDraft {
    /// The spec the draft describes, for the instance `instance` (named in
    /// errors). The timing is read, not yet checked against the clock or
    /// the instance's workflows: creating the schedule does that. Fails
    /// with [`Error::InvalidSchedule`] naming the field when `cron` and
    /// `at` are both or neither given, `time_zone` comes with `at`, `at`
    /// is not an RFC 3339 time, or `overlap` is neither `skip` nor `allow`.
    pub fn to_spec(&self, instance: &str) -> Result<ScheduleSpec, Error> {
        let refuse = |reason: String| Error::InvalidSchedule { instance: instance.to_string(), name: clip(&self.name), reason };
        let timing = match (&self.cron, &self.at) {
            (Some(expression), None) => ScheduleTiming::Cron {
                expression: expression.clone(),
                time_zone: self.time_zone.clone().unwrap_or_else(|| DEFAULT_TIME_ZONE.to_string()),
            },
            (None, Some(at)) => {
                if self.time_zone.is_some() {
                    return Err(refuse("a time zone applies to a cron expression only (`at` carries its offset)".into()));
                }
                let at = DateTime::parse_from_rfc3339(at).map_err(|e| {
                    refuse(format!("invalid at `{}`: {e} (give an RFC 3339 time such as 2030-01-01T09:00:00Z)", clip(at)))
                })?;
                ScheduleTiming::At(at.with_timezone(&Utc))
            }
            (Some(_), Some(_)) => return Err(refuse("give a cron expression or an `at` time, not both".into())),
            (None, None) => return Err(refuse("give a cron expression (`cron`) or a time (`at`)".into())),
        };
        let overlap = match self.overlap.as_deref() {
            None => Overlap::default(),
            Some(text) => Overlap::parse(text)
                .ok_or_else(|| refuse(format!("invalid overlap `{}`: give `skip` or `allow`", clip(text))))?,
        };
        Ok(ScheduleSpec {
            name: self.name.clone(),
            workflow: self.workflow.clone(),
            input: self.input.clone().unwrap_or_else(|| Value::Object(Default::default())),
            timing,
            overlap,
            catch_up: self.catch_up_ms.map(Duration::from_millis).unwrap_or(DEFAULT_CATCH_UP),
        })
    }
}

/// A schedule as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduleView {
    /// Its name.
    pub name: String,
    /// The workflow each tick starts.
    pub workflow: String,
    /// The input of each run.
    pub input: Value,
    /// Its cron expression (`null` for a one-shot schedule).
    pub cron: Option<String>,
    /// The cron expression's time zone (`null` for a one-shot schedule).
    pub time_zone: Option<String>,
    /// Its one time, RFC 3339 (`null` for a cron schedule).
    pub at: Option<String>,
    /// `skip` or `allow`.
    pub overlap: String,
    /// The catch-up window, in milliseconds.
    pub catch_up_ms: u64,
    /// `active`, `paused`, or `done` (a one-shot schedule that fired).
    pub state: String,
    /// True while paused.
    pub paused: bool,
    /// Its next tick, RFC 3339 (`null` when it will not tick again).
    pub next_fire_at: Option<String>,
    /// The run of the last tick that started one.
    pub last_run_id: Option<String>,
    /// Ticks that started a run.
    pub fired: u64,
    /// Ticks skipped (overlap, or later than the catch-up window).
    pub skipped: u64,
    /// `manifest` (declared there) or `api` (created by a client).
    pub origin: String,
}

impl From<&ScheduleInfo> for ScheduleView {
    fn from(s: &ScheduleInfo) -> Self {
        let (cron, time_zone, at) = match &s.spec.timing {
            ScheduleTiming::Cron { expression, time_zone } => (Some(expression.clone()), Some(time_zone.clone()), None),
            ScheduleTiming::At(at) => (None, None, Some(time(*at))),
        };
        let state = match (s.paused, s.next_fire_at) {
            (true, _) => "paused",
            (false, None) => "done",
            (false, Some(_)) => "active",
        };
        ScheduleView {
            name: s.spec.name.clone(),
            workflow: s.spec.workflow.clone(),
            input: s.spec.input.clone(),
            cron,
            time_zone,
            at,
            overlap: s.spec.overlap.as_str().to_string(),
            catch_up_ms: u64::try_from(s.spec.catch_up.as_millis()).unwrap_or(u64::MAX),
            state: state.to_string(),
            paused: s.paused,
            next_fire_at: s.next_fire_at.map(time),
            last_run_id: s.last_run_id.clone(),
            fired: s.fired,
            skipped: s.skipped,
            origin: if s.from_manifest { "manifest" } else { "api" }.to_string(),
        }
    }
}

/// A time as views give it: RFC 3339, UTC, with as many fraction digits
/// as it has.
fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(edit: impl FnOnce(&mut ScheduleDraft)) -> Result<ScheduleSpec, String> {
        let mut d = ScheduleDraft { name: "s".into(), workflow: "w".into(), ..Default::default() };
        edit(&mut d);
        d.to_spec("default").map_err(|e| e.to_string())
    }

    #[test]
    fn a_draft_reads_into_a_spec_with_its_defaults() {
        let spec = draft(|d| d.cron = Some("*/5 * * * *".into())).unwrap();
        assert_eq!(spec.timing, ScheduleTiming::Cron { expression: "*/5 * * * *".into(), time_zone: "UTC".into() });
        assert_eq!((spec.overlap, spec.catch_up, spec.input), (Overlap::Skip, DEFAULT_CATCH_UP, serde_json::json!({})));
        let spec = draft(|d| {
            d.at = Some("2030-01-01T09:00:00+01:00".into());
            d.overlap = Some("allow".into());
            d.catch_up_ms = Some(5);
        })
        .unwrap();
        assert_eq!(spec.timing, ScheduleTiming::At("2030-01-01T08:00:00Z".parse().unwrap()));
        assert_eq!((spec.overlap, spec.catch_up), (Overlap::Allow, Duration::from_millis(5)));
    }

    #[test]
    fn a_bad_draft_is_refused_naming_the_field() {
        let cases: [(&str, Box<dyn FnOnce(&mut ScheduleDraft)>); 5] = [
            ("give a cron expression", Box::new(|_| {})),
            ("not both", Box::new(|d| (d.cron, d.at) = (Some("* * * * *".into()), Some("2030-01-01T00:00:00Z".into())))),
            ("invalid at `tomorrow`", Box::new(|d| d.at = Some("tomorrow".into()))),
            ("a time zone applies", Box::new(|d| (d.at, d.time_zone) = (Some("2030-01-01T00:00:00Z".into()), Some("UTC".into())))),
            ("invalid overlap `often`", Box::new(|d| (d.cron, d.overlap) = (Some("* * * * *".into()), Some("often".into())))),
        ];
        for (needle, edit) in cases {
            let e = draft(edit).unwrap_err();
            assert!(e.starts_with("invalid schedule `s` in instance `default`: ") && e.contains(needle), "{needle}: {e}");
        }
    }

    #[test]
    fn a_view_round_trips_through_json() {
        let info = ScheduleInfo {
            spec: draft(|d| d.cron = Some("0 9 * * 1-5".into())).unwrap(),
            paused: true,
            next_fire_at: Some("2030-01-01T08:00:00.5Z".parse().unwrap()),
            last_run_id: None,
            fired: 3,
            skipped: 1,
            from_manifest: false,
        };
        let view = ScheduleView::from(&info);
        assert_eq!((view.state.as_str(), view.next_fire_at.as_deref(), view.origin.as_str()), ("paused", Some("2030-01-01T08:00:00.500Z"), "api"));
        let back: ScheduleView = serde_json::from_value(serde_json::to_value(&view).unwrap()).unwrap();
        assert_eq!(back, view);
    }
}
