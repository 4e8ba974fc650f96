//! `continuum schedule create|list|pause|resume|delete`: an instance's
//! schedules, through the journal (a host serving the instance fires them).

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use clap::Subcommand;
use serde_json::{json, Value};

use continuum_host::{CallOptions, Continuum, Overlap, ScheduleInfo, ScheduleSpec, ScheduleTiming, DEFAULT_CATCH_UP};

use crate::exit::{CliError, EXIT_OK};

/// The schedule verbs.
#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Create a schedule: each tick of a cron expression (or one time)
    /// starts a run of the workflow, named NAME@TICK.
    Create {
        /// The schedule's name.
        name: String,
        /// A cron expression: five fields (minute hour day-of-month month
        /// day-of-week), or six with seconds first.
        #[arg(long, required_unless_present = "at", conflicts_with = "at")]
        cron: Option<String>,
        /// One time instead (RFC 3339, such as 2030-01-01T09:00:00+01:00).
        #[arg(long)]
        at: Option<String>,
        /// The IANA time zone of the cron expression (default UTC).
        #[arg(long, conflicts_with = "at")]
        time_zone: Option<String>,
        /// The workflow each tick starts.
        #[arg(long)]
        workflow: String,
        /// The JSON input of each run (default `{}`).
        #[arg(long)]
        input: Option<String>,
        /// While the last run is unfinished, `skip` a tick (default) or
        /// `allow` it.
        #[arg(long, default_value = "skip")]
        overlap: String,
        /// A tick later than this many milliseconds (every host was down)
        /// is skipped and counted (default 60000).
        #[arg(long)]
        catch_up_ms: Option<u64>,
        /// The instance.
        #[arg(long)]
        instance: Option<String>,
    },
    /// List the schedules with their next tick.
    List {
        /// The instance.
        #[arg(long)]
        instance: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Pause a schedule: no tick fires until it is resumed.
    Pause {
        /// The schedule's name.
        name: String,
        /// The instance.
        #[arg(long)]
        instance: Option<String>,
    },
    /// Resume a schedule from its next tick after now.
    Resume {
        /// The schedule's name.
        name: String,
        /// The instance.
        #[arg(long)]
        instance: Option<String>,
    },
    /// Delete a schedule (the runs it started stay).
    Delete {
        /// The schedule's name.
        name: String,
        /// The instance.
        #[arg(long)]
        instance: Option<String>,
    },
}

impl ScheduleCommand {
    /// The instance the verb names.
    pub fn instance(&self) -> Option<&str> {
        match self {
            ScheduleCommand::Create { instance, .. }
            | ScheduleCommand::List { instance, .. }
            | ScheduleCommand::Pause { instance, .. }
            | ScheduleCommand::Resume { instance, .. }
            | ScheduleCommand::Delete { instance, .. } => instance.as_deref(),
        }
    }
}

/// The spec `create` asks for; bad arguments are usage errors.
fn spec(cmd: &ScheduleCommand) -> Result<Option<ScheduleSpec>, CliError> {
    let ScheduleCommand::Create { name, cron, at, time_zone, workflow, input, overlap, catch_up_ms, .. } = cmd else {
        return Ok(None);
    };
    let timing = match (cron, at) {
        (Some(expression), _) => ScheduleTiming::Cron {
            expression: expression.clone(),
            time_zone: time_zone.clone().unwrap_or_else(|| continuum_host::DEFAULT_TIME_ZONE.to_string()),
        },
        (None, Some(at)) => ScheduleTiming::At(
            DateTime::parse_from_rfc3339(at)
                .map_err(|e| CliError::Usage(format!("invalid --at `{at}`: {e} (give an RFC 3339 time such as 2030-01-01T09:00:00Z)")))?
                .with_timezone(&Utc),
        ),
        (None, None) => return Err(CliError::Usage("give --cron or --at".into())),
    };
    let overlap = Overlap::parse(overlap)
        .ok_or_else(|| CliError::Usage(format!("invalid --overlap `{overlap}`: give `skip` or `allow`")))?;
    let input = match input {
        Some(text) => serde_json::from_str(text).map_err(|e| {
            CliError::Continuum(continuum_host::Error::InvalidJson { what: "input".into(), message: e.to_string() })
        })?,
        None => Value::Object(Default::default()),
    };
    Ok(Some(ScheduleSpec {
        name: name.clone(),
        workflow: workflow.clone(),
        input,
        timing,
        overlap,
        catch_up: catch_up_ms.map(Duration::from_millis).unwrap_or(DEFAULT_CATCH_UP),
    }))
}

/// Checks the arguments (before the database is opened).
pub fn check(cmd: &ScheduleCommand) -> Result<(), CliError> {
    spec(cmd).map(|_| ())
}

/// Runs a schedule verb.
pub async fn run(c: &Continuum, cmd: ScheduleCommand) -> Result<u8, CliError> {
    let opts = CallOptions { instance: cmd.instance().map(str::to_string) };
    match &cmd {
        ScheduleCommand::Create { name, .. } => {
            let Some(spec) = spec(&cmd)? else { return Ok(EXIT_OK) };
            let info = c.create_schedule(&spec, opts).await?;
            outln!("schedule {name} created; next tick {}", next(&info));
        }
        ScheduleCommand::List { json, .. } => {
            let list = c.schedules(opts).await?;
            if *json {
                let doc: Vec<Value> = list.iter().map(to_json).collect();
                outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
            } else {
                for s in &list {
                    outln!(
                        "{}  {:<8} {:<16} {:<28} next {}  fired {}  skipped {}{}",
                        s.spec.name,
                        state(s),
                        s.spec.workflow,
                        timing(&s.spec.timing),
                        next(s),
                        s.fired,
                        s.skipped,
                        s.last_run_id.as_ref().map(|r| format!("  last {r}")).unwrap_or_default()
                    );
                }
            }
        }
        ScheduleCommand::Pause { name, .. } => {
            c.pause_schedule(name, opts).await?;
            outln!("schedule {name} paused");
        }
        ScheduleCommand::Resume { name, .. } => {
            let info = c.resume_schedule(name, opts).await?;
            outln!("schedule {name} resumed; next tick {}", next(&info));
        }
        ScheduleCommand::Delete { name, .. } => {
            c.delete_schedule(name, opts).await?;
            outln!("schedule {name} deleted");
        }
    }
    Ok(EXIT_OK)
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn next(s: &ScheduleInfo) -> String {
    s.next_fire_at.map(time).unwrap_or_else(|| "none".into())
}

fn state(s: &ScheduleInfo) -> &'static str {
    match (s.paused, s.next_fire_at) {
        (true, _) => "paused",
        (false, None) => "done",
        (false, Some(_)) => "active",
    }
}

fn timing(t: &ScheduleTiming) -> String {
    match t {
        ScheduleTiming::Cron { expression, time_zone } => format!("cron \"{expression}\" {time_zone}"),
        ScheduleTiming::At(at) => format!("at {}", time(*at)),
    }
}

fn to_json(s: &ScheduleInfo) -> Value {
    let (cron, time_zone, at) = match &s.spec.timing {
        ScheduleTiming::Cron { expression, time_zone } => (json!(expression), json!(time_zone), Value::Null),
        ScheduleTiming::At(at) => (Value::Null, Value::Null, json!(time(*at))),
    };
    json!({
        "name": s.spec.name,
        "workflow": s.spec.workflow,
        "input": s.spec.input,
        "cron": cron,
        "time_zone": time_zone,
        "at": at,
        "overlap": s.spec.overlap.as_str(),
        "catch_up_ms": u64::try_from(s.spec.catch_up.as_millis()).unwrap_or(u64::MAX),
        "state": state(s),
        "paused": s.paused,
        "next_fire_at": s.next_fire_at.map(time),
        "last_run_id": s.last_run_id,
        "fired": s.fired,
        "skipped": s.skipped,
        "origin": if s.from_manifest { "manifest" } else { "api" },
    })
}
