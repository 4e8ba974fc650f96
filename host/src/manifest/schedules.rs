//! `[instances.NAME.schedules.SCHEDULE]`: the schedules an instance
//! declares. Each names one of the instance's workflows and either a cron
//! expression (`cron`, with an optional `time_zone`) or a one-shot time
//! (`at`, RFC 3339 or a TOML offset date-time); `input` (any TOML value,
//! as JSON; default `{}`), `overlap` (`"skip"`, the default, or `"allow"`)
//! and `catch_up_ms` are optional. Every error names the key.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use toml::{Table, Value};

use super::reader::{join_key, Ctx, TableReader};
use super::ManifestError;
use crate::schedule::{
    invalid_schedule_name, Overlap, ScheduleSpec, ScheduleTiming, Ticks, DEFAULT_CATCH_UP, DEFAULT_TIME_ZONE,
};

/// Parses the schedules table (`None`: absent) of an instance whose
/// workflows are `workflows`.
pub(super) fn parse_schedules(
    ctx: &Ctx<'_>,
    prefix: &str,
    table: Option<Table>,
    workflows: &BTreeMap<String, PathBuf>,
) -> Result<Vec<ScheduleSpec>, ManifestError> {
    let mut out = Vec::new();
    for (name, value) in table.unwrap_or_default() {
        let key = join_key(prefix, &name);
        if let Some(reason) = invalid_schedule_name(&name) {
            return Err(ctx.invalid(key, format!("invalid schedule name: it {reason}")));
        }
        let table = match value {
            Value::Table(t) => t,
            other => return Err(ctx.wrong_type(key, "a table", &other)),
        };
        let mut r = TableReader::new(ctx.clone(), key.clone(), table);
        let workflow_key = r.key("workflow");
        let workflow = r.string("workflow")?.ok_or_else(|| ManifestError::MissingKey {
            file: ctx.file(),
            instance: ctx.instance(),
            key: workflow_key.clone(),
        })?;
        if !workflows.contains_key(&workflow) {
            let known: Vec<&str> = workflows.keys().map(String::as_str).collect();
            return Err(ctx.invalid(
                workflow_key,
                format!("names no workflow of this instance: `{workflow}` (known: {})", known.join(", ")),
            ));
        }
        let cron_key = r.key("cron");
        let cron = r.string("cron")?;
        let tz_key = r.key("time_zone");
        let time_zone = r.string("time_zone")?;
        let at_key = r.key("at");
        let at = r.take("at");
        let timing = match (cron, at) {
            (Some(expression), None) => {
                let timing = ScheduleTiming::Cron {
                    expression,
                    time_zone: time_zone.unwrap_or_else(|| DEFAULT_TIME_ZONE.to_string()),
                };
                if let Err(reason) = Ticks::parse(&timing) {
                    let key = if reason.starts_with("unknown time zone") { tz_key } else { cron_key };
                    return Err(ctx.invalid(key, reason));
                }
                timing
            }
            (None, Some(at)) => {
                if time_zone.is_some() {
                    return Err(ctx.invalid(tz_key, "applies to `cron` only (`at` carries its offset)"));
                }
                ScheduleTiming::At(parse_at(ctx, &at_key, &at)?)
            }
            (Some(_), Some(_)) => return Err(ctx.invalid(at_key, "give `cron` or `at`, not both")),
            (None, None) => return Err(ctx.invalid(key.clone(), "needs `cron` (a cron expression) or `at` (a time)")),
        };
        let input = match r.take("input") {
            None => serde_json::Value::Object(Default::default()),
            Some(v) => serde_json::to_value(&v).map_err(|e| ctx.invalid(r.key("input"), format!("cannot be JSON: {e}")))?,
        };
        let overlap_key = r.key("overlap");
        let overlap = match r.string("overlap")? {
            None => Overlap::default(),
            Some(text) => Overlap::parse(&text)
                .ok_or_else(|| ctx.invalid(overlap_key, format!("must be \"skip\" or \"allow\" (got \"{text}\")")))?,
        };
        let catch_up: Duration = r.millis("catch_up_ms", DEFAULT_CATCH_UP)?;
        r.finish()?;
        out.push(ScheduleSpec { name, workflow, input, timing, overlap, catch_up });
    }
    Ok(out)
}

/// `at`: an RFC 3339 string or a TOML offset date-time.
fn parse_at(ctx: &Ctx<'_>, key: &str, value: &Value) -> Result<DateTime<Utc>, ManifestError> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Datetime(d) => d.to_string(),
        other => return Err(ctx.wrong_type(key.to_string(), "an RFC 3339 time", other)),
    };
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| ctx.invalid(key.to_string(), format!("is not an RFC 3339 time with an offset (`{text}`: {e})")))
}
