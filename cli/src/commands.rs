//! The `continuum` command line: its verbs and arguments, and where they
//! go. `serve` runs a host and `demo` the order flow in this process; every
//! other verb works against the database directly ([`crate::direct`]), so
//! it works whether or not a host is up, or, with `--server URL`, through a
//! server's HTTP API ([`crate::remote`]), with the same output and exit
//! codes.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use serde_json::Value;

use continuum_host::{Error, Migrate, RunQuery, RunState};

pub use crate::exit::{exit_code, CliError, EXIT_USAGE};
use crate::{direct, output, remote};

/// A durable workflow runtime for WebAssembly workflows.
#[derive(Debug, Parser)]
#[command(name = "continuum", version, about)]
pub struct Cli {
    /// The manifest.
    #[arg(long, global = true, env = "CONTINUUM_MANIFEST", default_value = "instances.toml")]
    pub manifest: PathBuf,
    /// Go through this server's HTTP API (`http://HOST:PORT`, a `continuum
    /// serve` with `[http]`) instead of opening the database; the manifest
    /// is not read. The bearer token, when the server requires one, is
    /// taken from the environment variable CONTINUUM_TOKEN.
    #[arg(long, global = true, env = "CONTINUUM_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a host for the manifest's instances until interrupted.
    Serve {
        /// Serve only these instances (repeatable); all when absent.
        #[arg(long = "instance")]
        instances: Vec<String>,
        /// Serve the HTTP API on this address instead of the manifest's
        /// `[http] listen` (a second host on the same machine; port 0 picks
        /// a free one).
        #[arg(long, value_name = "ADDR", conflicts_with = "no_http")]
        http_listen: Option<std::net::SocketAddr>,
        /// Serve no HTTP API, whatever the manifest says.
        #[arg(long)]
        no_http: bool,
    },
    /// Start a run; prints its run id.
    Start {
        /// The workflow name.
        workflow: String,
        /// The JSON input (default `{}`).
        input: Option<String>,
        /// Read the JSON input from a file.
        #[arg(long, conflicts_with = "input")]
        input_file: Option<PathBuf>,
        /// The instance (default: `default`).
        #[arg(long)]
        instance: Option<String>,
        /// The run id (default: a new UUID). A run with this id and the
        /// same workflow and input is returned, not started again; with
        /// another workflow or input the start is refused (exit 2).
        #[arg(long)]
        run_id: Option<String>,
        /// Refuse (exit 2) a run id that exists even with the same
        /// workflow and input.
        #[arg(long, requires = "run_id")]
        fail_if_exists: bool,
    },
    /// Send a signal with a JSON payload to a run.
    Signal {
        /// The run id.
        run_id: String,
        /// The signal name.
        name: String,
        /// The JSON payload (default `null`).
        payload: Option<String>,
        /// The instance.
        #[arg(long)]
        instance: Option<String>,
        /// An idempotency key: the run receives the signal once, however
        /// often it is sent with this key.
        #[arg(long)]
        key: Option<String>,
    },
    /// Ask a run a query; prints the workflow's answer (JSON). The run's
    /// history is replayed read-only: nothing is written, no lease taken.
    Query {
        /// The run id.
        run_id: String,
        /// The query name.
        name: String,
        /// The JSON arguments (default `null`).
        args: Option<String>,
        /// The instance.
        #[arg(long)]
        instance: Option<String>,
    },
    /// Send a run an update (a signal whose sender waits for the
    /// workflow's reply) and print the reply (JSON). On timeout (exit 4)
    /// the update stays delivered.
    Update {
        /// The run id.
        run_id: String,
        /// The update name (the signal the workflow receives).
        name: String,
        /// The JSON payload (default `null`).
        payload: Option<String>,
        /// How long to wait for the reply (`30s`, `500ms`, `2m`).
        #[arg(long, default_value = "30s")]
        timeout: String,
        /// The instance.
        #[arg(long)]
        instance: Option<String>,
    },
    /// Cancel a run: the workflow is told and may clean up before it ends
    /// as cancelled (the request stands if it has not ended in 5 s).
    Cancel {
        /// The run id.
        run_id: String,
        /// The instance.
        #[arg(long)]
        instance: Option<String>,
    },
    /// Terminate a run: stop it at once, with no clean-up.
    Terminate {
        /// The run id.
        run_id: String,
        /// The instance.
        #[arg(long)]
        instance: Option<String>,
    },
    /// Pause a run: no host executes it until it is resumed (signals and
    /// activity results still arrive and wait).
    Pause {
        /// The run id.
        run_id: String,
        /// The instance.
        #[arg(long)]
        instance: Option<String>,
    },
    /// Resume a paused run.
    Resume {
        /// The run id.
        run_id: String,
        /// The instance.
        #[arg(long)]
        instance: Option<String>,
    },
    /// Retry a failed run from its last journaled step (an activity that
    /// failed for good runs again).
    Retry {
        /// The run id.
        run_id: String,
        /// The instance.
        #[arg(long)]
        instance: Option<String>,
    },
    /// Reset a run to a journal entry: it goes on live from there; the
    /// later entries are kept as the reset's history (`show` lists them).
    Reset {
        /// The run id.
        run_id: String,
        /// The last journal entry to keep (its `seq`, as `show` prints it).
        #[arg(long = "to", allow_negative_numbers = true)]
        to_seq: i64,
        /// Why (recorded with the reset).
        #[arg(long)]
        reason: Option<String>,
        /// The instance.
        #[arg(long)]
        instance: Option<String>,
    },
    /// Wait for a run to finish; prints its output (or error) as JSON.
    Await {
        /// The run id.
        run_id: String,
        /// Seconds to wait.
        #[arg(long, default_value_t = 60.0, allow_negative_numbers = true)]
        timeout: f64,
        /// The instance.
        #[arg(long)]
        instance: Option<String>,
    },
    /// Print a run's state and journal.
    Show {
        /// The run id.
        run_id: String,
        /// The instance.
        #[arg(long)]
        instance: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List an instance's runs, newest first, with filters, a page at a
    /// time.
    #[command(after_help = "When more runs match than the page shows, the cursor of the next page is printed: \
on stderr as `next page: --cursor CURSOR` in text mode; with --json as a last line `{\"next_cursor\": \"CURSOR\"}` \
on stdout (a run's object never has that field). Pass it back with --cursor and the same filters.")]
    Runs {
        /// The instance.
        #[arg(long)]
        instance: Option<String>,
        /// How many runs (a page).
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Only runs in this state (pending, running, suspended, completed,
        /// failed, cancelled, drifted, continued).
        #[arg(long)]
        state: Option<String>,
        /// Only runs of this workflow.
        #[arg(long)]
        workflow: Option<String>,
        /// Only runs created at or after this time (RFC 3339, like
        /// 2026-01-31T12:00:00Z).
        #[arg(long)]
        since: Option<String>,
        /// Only runs created before this time (RFC 3339).
        #[arg(long)]
        until: Option<String>,
        /// Only the children of this run.
        #[arg(long)]
        parent: Option<String>,
        /// Only runs whose attribute KEY is VALUE (set by the workflow with
        /// `set-attribute`); repeat for several, all must hold.
        #[arg(long = "attr", value_name = "KEY=VALUE")]
        attrs: Vec<String>,
        /// Go on from where a listing stopped: the cursor it printed.
        #[arg(long)]
        cursor: Option<String>,
        /// Print one JSON object per run, a line each.
        #[arg(long)]
        json: bool,
    },
    /// List an instance's workflows with their versions (the current one
    /// marked).
    Workflows {
        /// The instance.
        #[arg(long)]
        instance: Option<String>,
    },
    /// List the instances: the manifest's, or with `--server` those the
    /// server serves that the token reaches.
    Instances,
    /// Make a module the current version of a workflow on every host,
    /// without a restart.
    Deploy {
        /// The workflow name.
        workflow: String,
        /// The component file.
        file: PathBuf,
        /// The instance.
        #[arg(long)]
        instance: Option<String>,
        /// Move unfinished runs to the new version: all of them, or the
        /// run ids listed after the flag.
        #[arg(long, num_args = 0.., value_name = "RUN")]
        migrate: Option<Vec<String>>,
        /// Replay the runs to migrate on the new version first; refuse the
        /// deploy if any would diverge. Only the runs checked are moved, each
        /// only if it recorded nothing since its check and is not executing;
        /// the others are named and the exit code is 4 (deploying again
        /// retries them).
        #[arg(long)]
        check: bool,
    },
    /// Replay recorded histories on a candidate module and report, per run,
    /// whether it is compatible or where it first diverges.
    #[command(after_help = "Either name runs (their workflow is the candidate's; they must all be of one workflow, \
and of --workflow when it is given), or name --workflow alone to replay every unfinished run of it.")]
    Replay {
        /// The candidate component file.
        #[arg(long)]
        module: PathBuf,
        /// The workflow the candidate is a version of: all its unfinished
        /// runs are replayed when no run id is given. Optional with run ids
        /// (taken from the runs).
        #[arg(long, required_unless_present = "runs")]
        workflow: Option<String>,
        /// Run ids (all of one workflow).
        runs: Vec<String>,
        /// The instance.
        #[arg(long)]
        instance: Option<String>,
    },
    /// Create, list, pause, resume or delete an instance's schedules.
    Schedule {
        /// The verb.
        #[command(subcommand)]
        verb: crate::schedule::ScheduleCommand,
    },
    /// Run the order-flow demo on the default instance, in this process.
    Demo,
}

impl Command {
    /// The verb's name, for messages.
    pub fn verb(&self) -> &'static str {
        match self {
            Command::Serve { .. } => "serve",
            Command::Start { .. } => "start",
            Command::Signal { .. } => "signal",
            Command::Query { .. } => "query",
            Command::Update { .. } => "update",
            Command::Cancel { .. } => "cancel",
            Command::Terminate { .. } => "terminate",
            Command::Pause { .. } => "pause",
            Command::Resume { .. } => "resume",
            Command::Retry { .. } => "retry",
            Command::Reset { .. } => "reset",
            Command::Await { .. } => "await",
            Command::Show { .. } => "show",
            Command::Runs { .. } => "runs",
            Command::Workflows { .. } => "workflows",
            Command::Instances => "instances",
            Command::Deploy { .. } => "deploy",
            Command::Replay { .. } => "replay",
            Command::Schedule { .. } => "schedule",
            Command::Demo => "demo",
        }
    }
}

/// Parses the arguments. Help and version are printed as clap prints
/// them; a usage error is printed as one line (`error: ...`, without the
/// usage block) and gives exit code 2.
pub fn parse_args() -> Result<Cli, ExitCode> {
    use clap::error::ErrorKind;
    match Cli::try_parse() {
        Ok(cli) => Ok(cli),
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                // A closed stdout (`continuum --help | head -1`) is no error.
                let _ = e.print();
                Err(ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(EXIT_USAGE)))
            }
            _ => {
                let text = e.render().to_string();
                let parts: Vec<&str> = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information"))
                    .map(|l| l.strip_prefix("error:").unwrap_or(l).trim())
                    .collect();
                // A line ending in `:` introduces the next one.
                let mut message = String::new();
                for part in parts {
                    if !message.is_empty() {
                        message.push_str(if message.ends_with(':') { " " } else { "; " });
                    }
                    message.push_str(part);
                }
                errln!("error: {} (see `continuum --help`)", output::one_line(&message));
                Err(ExitCode::from(EXIT_USAGE))
            }
        },
    }
}

/// Runs the command line; returns the process exit code.
pub async fn run(cli: Cli) -> ExitCode {
    // An empty CONTINUUM_SERVER is no server.
    let result = match cli.server.clone().filter(|s| !s.trim().is_empty()) {
        Some(server) => remote::execute(&server, cli.command).await,
        None => direct::execute(cli).await,
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            errln!("error: {}", output::one_line(&e.to_string()));
            ExitCode::from(exit_code(&e))
        }
    }
}

fn parse_json(what: &str, text: &str) -> Result<Value, CliError> {
    serde_json::from_str(text)
        .map_err(|e| CliError::Continuum(Error::InvalidJson { what: what.to_string(), message: e.to_string() }))
}

/// Reads an input file, refusing one far over the payload limit without
/// reading it whole (`/dev/zero` ends too); the library checks the limit
/// itself on the parsed value.
fn read_input_file(path: &std::path::Path) -> Result<String, CliError> {
    use std::io::Read;
    let cannot = |e: std::io::Error| CliError::Usage(format!("cannot read input file `{}`: {e}", path.display()));
    let most = continuum_host::MAX_PAYLOAD_BYTES as u64 * 4;
    let mut text = String::new();
    std::fs::File::open(path).and_then(|f| f.take(most + 1).read_to_string(&mut text)).map_err(cannot)?;
    if text.len() as u64 > most {
        return Err(CliError::Usage(format!(
            "input file `{}` is larger than {most} bytes (an input may be at most {} bytes of JSON)",
            path.display(),
            continuum_host::MAX_PAYLOAD_BYTES
        )));
    }
    Ok(text)
}

/// The JSON input of `start`: the argument, the file, or `{}`.
pub fn start_input(input: Option<String>, input_file: Option<PathBuf>) -> Result<Value, CliError> {
    match (input, input_file) {
        (Some(text), _) => parse_json("input", &text),
        (None, Some(path)) => {
            let text = read_input_file(&path)?;
            parse_json(&format!("input in `{}`", path.display()), &text)
        }
        (None, None) => Ok(Value::Object(Default::default())),
    }
}

/// The JSON payload of `signal` (default `null`).
pub fn signal_payload(payload: Option<String>) -> Result<Value, CliError> {
    match payload {
        Some(text) => parse_json("signal payload", &text),
        None => Ok(Value::Null),
    }
}

/// The JSON arguments of `query` (default `null`).
pub fn query_args(args: Option<String>) -> Result<Value, CliError> {
    match args {
        Some(text) => parse_json("query arguments", &text),
        None => Ok(Value::Null),
    }
}

/// `update --timeout`: a number with the unit `ms`, `s` or `m` (seconds
/// when it has none).
pub fn update_timeout(text: &str) -> Result<Duration, CliError> {
    continuum_http::wait::parse_duration(text).map_err(|why| CliError::Usage(format!("invalid --timeout `{text}`: {why}")))
}

/// `await --timeout` in seconds, as a duration.
pub fn await_timeout(timeout: f64) -> Result<Duration, CliError> {
    Duration::try_from_secs_f64(timeout)
        .map_err(|_| CliError::Usage(format!("invalid --timeout {timeout}: give seconds, from 0 to {}", u64::MAX)))
}

/// `runs --state`, parsed.
pub fn state_filter(state: Option<&str>) -> Result<Option<RunState>, CliError> {
    state
        .map(|s| {
            RunState::parse(s).ok_or_else(|| {
                CliError::Usage(format!(
                    "invalid --state `{}` (one of pending, running, suspended, completed, failed, cancelled, drifted, continued)",
                    output::one_line(s)
                ))
            })
        })
        .transpose()
}

/// The filters of `runs`, as given on the command line.
pub struct RunFilters {
    /// `--state`.
    pub state: Option<String>,
    /// `--workflow`.
    pub workflow: Option<String>,
    /// `--since`.
    pub since: Option<String>,
    /// `--until`.
    pub until: Option<String>,
    /// `--parent`.
    pub parent: Option<String>,
    /// `--attr`, each `key=value`.
    pub attrs: Vec<String>,
    /// `--cursor`.
    pub cursor: Option<String>,
}

/// A time of `runs --since` / `--until`.
fn time_filter(flag: &str, text: Option<&str>) -> Result<Option<chrono::DateTime<chrono::Utc>>, CliError> {
    text.map(|t| {
        chrono::DateTime::parse_from_rfc3339(t.trim()).map(|d| d.with_timezone(&chrono::Utc)).map_err(|_| {
            CliError::Usage(format!("invalid {flag} `{}`: give an RFC 3339 time such as 2026-01-31T12:00:00Z", output::one_line(t)))
        })
    })
    .transpose()
}

impl RunFilters {
    /// The query of a page of `limit` runs, every filter checked: an
    /// unknown state, a time that is not RFC 3339, an `--attr` that is not
    /// `key=value` (or outside the limits), a cursor no listing gave are
    /// refused, naming the flag.
    pub fn query(&self, limit: usize) -> Result<RunQuery, CliError> {
        let attributes = self
            .attrs
            .iter()
            .map(|a| continuum_host::parse_attribute_filter(a).map_err(|e| CliError::Usage(format!("--attr: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let before = self
            .cursor
            .as_deref()
            .map(|c| continuum_host::decode_run_cursor(c).map_err(|e| CliError::Usage(format!("--cursor: {e}"))))
            .transpose()?;
        let query = RunQuery {
            state: state_filter(self.state.as_deref())?,
            workflow: self.workflow.clone(),
            created_since: time_filter("--since", self.since.as_deref())?,
            created_until: time_filter("--until", self.until.as_deref())?,
            before,
            parent: self.parent.clone(),
            attributes,
            limit: i64::try_from(limit).unwrap_or(i64::MAX),
        };
        query.check()?;
        Ok(query)
    }
}

/// `deploy --migrate`, as the deploy takes it.
pub fn migrate(ids: Option<Vec<String>>) -> Migrate {
    match ids {
        None => Migrate::None,
        Some(ids) if ids.is_empty() => Migrate::All,
        Some(ids) => Migrate::Runs(ids),
    }
}
