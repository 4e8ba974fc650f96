//! `continuum schedule create|list|pause|resume|delete`: an instance's
//! schedules, through the journal (a host serving the instance fires them)
//! or through a server's HTTP API (`--server`).

use std::time::Duration;

use clap::Subcommand;
use reqwest::Method;

use continuum_host::{CallOptions, Continuum, ScheduleDraft, ScheduleSpec, ScheduleView, DEFAULT_INSTANCE};

use crate::exit::{CliError, EXIT_OK};
use crate::remote_client::{Body, Remote};

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

/// The schedule `create` describes (`None` for another verb); input that
/// is not JSON is refused.
fn draft(cmd: &ScheduleCommand) -> Result<Option<ScheduleDraft>, CliError> {
    let ScheduleCommand::Create { name, cron, at, time_zone, workflow, input, overlap, catch_up_ms, .. } = cmd else {
        return Ok(None);
    };
    let input = input
        .as_deref()
        .map(|text| {
            serde_json::from_str(text).map_err(|e| {
                CliError::Continuum(continuum_host::Error::InvalidJson { what: "input".into(), message: e.to_string() })
            })
        })
        .transpose()?;
    Ok(Some(ScheduleDraft {
        name: name.clone(),
        workflow: workflow.clone(),
        input,
        cron: cron.clone(),
        time_zone: time_zone.clone(),
        at: at.clone(),
        overlap: Some(overlap.clone()),
        catch_up_ms: *catch_up_ms,
    }))
}

/// The spec `create` asks for, read as the server would read it.
fn spec(cmd: &ScheduleCommand) -> Result<Option<ScheduleSpec>, CliError> {
    let instance = cmd.instance().unwrap_or(DEFAULT_INSTANCE);
    Ok(draft(cmd)?.map(|d| d.to_spec(instance)).transpose()?)
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
            outln!("schedule {name} created; next tick {}", next(&ScheduleView::from(&info)));
        }
        ScheduleCommand::List { json, .. } => {
            let list: Vec<ScheduleView> = c.schedules(opts).await?.iter().map(ScheduleView::from).collect();
            print_list(&list, *json);
        }
        ScheduleCommand::Pause { name, .. } => {
            c.pause_schedule(name, opts).await?;
            outln!("schedule {name} paused");
        }
        ScheduleCommand::Resume { name, .. } => {
            let info = c.resume_schedule(name, opts).await?;
            outln!("schedule {name} resumed; next tick {}", next(&ScheduleView::from(&info)));
        }
        ScheduleCommand::Delete { name, .. } => {
            c.delete_schedule(name, opts).await?;
            outln!("schedule {name} deleted");
        }
    }
    Ok(EXIT_OK)
}

/// Runs a schedule verb through a server's HTTP API.
pub async fn run_remote(remote: &Remote, cmd: ScheduleCommand) -> Result<u8, CliError> {
    let instance = cmd.instance().unwrap_or(DEFAULT_INSTANCE).to_string();
    let url = |rest: &[&str]| {
        let mut segments = vec!["v1", "instances", instance.as_str(), "schedules"];
        segments.extend_from_slice(rest);
        remote.url(&segments, &[])
    };
    let none = Duration::ZERO;
    match &cmd {
        ScheduleCommand::Create { name, .. } => {
            let Some(draft) = draft(&cmd)? else { return Ok(EXIT_OK) };
            let body = Body::Json(serde_json::to_value(&draft).unwrap_or_default());
            let (_, a) = remote.call(Method::POST, url(&[]), Some(body), none, "schedule create").await?;
            let view: ScheduleView = remote.parse("schedule create", a)?;
            outln!("schedule {name} created; next tick {}", next(&view));
        }
        ScheduleCommand::List { json, .. } => {
            let (_, a) = remote.call(Method::GET, url(&[]), None, none, "schedule list").await?;
            let list: ScheduleList = remote.parse("schedule list", a)?;
            print_list(&list.schedules, *json);
        }
        ScheduleCommand::Pause { name, .. } => {
            remote.call(Method::POST, url(&[name.as_str(), "pause"]), None, none, "schedule pause").await?;
            outln!("schedule {name} paused");
        }
        ScheduleCommand::Resume { name, .. } => {
            let (_, a) = remote.call(Method::POST, url(&[name.as_str(), "resume"]), None, none, "schedule resume").await?;
            let view: ScheduleView = remote.parse("schedule resume", a)?;
            outln!("schedule {name} resumed; next tick {}", next(&view));
        }
        ScheduleCommand::Delete { name, .. } => {
            remote.call(Method::DELETE, url(&[name.as_str()]), None, none, "schedule delete").await?;
            outln!("schedule {name} deleted");
        }
    }
    Ok(EXIT_OK)
}

/// The API's list of schedules.
#[derive(serde::Deserialize)]
struct ScheduleList {
    schedules: Vec<ScheduleView>,
}

/// Prints schedules: one line each, or a JSON array.
fn print_list(list: &[ScheduleView], json: bool) {
    if json {
        outln!("{}", serde_json::to_string_pretty(list).unwrap_or_default());
        return;
    }
    for s in list {
        let timing = match (&s.cron, &s.at) {
            (Some(cron), _) => format!("cron \"{cron}\" {}", s.time_zone.as_deref().unwrap_or_default()),
            (None, at) => format!("at {}", at.as_deref().unwrap_or_default()),
        };
        outln!(
            "{}  {:<8} {:<16} {:<28} next {}  fired {}  skipped {}{}",
            s.name,
            s.state,
            s.workflow,
            timing,
            next(s),
            s.fired,
            s.skipped,
            s.last_run_id.as_ref().map(|r| format!("  last {r}")).unwrap_or_default()
        );
    }
}

fn next(s: &ScheduleView) -> &str {
    s.next_fire_at.as_deref().unwrap_or("none")
}
