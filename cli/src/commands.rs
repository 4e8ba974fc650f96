//! The `continuum` command line: `serve` runs a host; `start`, `signal`,
//! `cancel`, `await`, `show` and `runs` work against the database directly,
//! so they work whether or not a host is up; `demo` runs the order flow on
//! the embedded default instance.

use std::path::PathBuf;
use std::sync::Arc;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use serde_json::Value;

use continuum_host::{
    CallOptions, CancelOutcome, Continuum, DeployOptions, Error, Manifest, ManifestError, Migrate, Mode, RunState, SignalOptions, StartOptions, IfExists,
    DEFAULT_INSTANCE,
};

use crate::{demo, output, show};

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: the run ended failed, cancelled or drifted (`await`).
pub const EXIT_RUN_NOT_COMPLETED: u8 = 3;
/// Exit code: a retryable condition (timeout, cancel not confirmed).
pub const EXIT_RETRYABLE: u8 = 4;
/// Exit code: bad usage, bad manifest, unknown instance/workflow/run.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: anything else (database unreachable, ...).
pub const EXIT_FAILURE: u8 = 1;

/// How long requests in flight may take to end when a host stops.
const HTTP_SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// A durable workflow runtime for WebAssembly workflows.
#[derive(Debug, Parser)]
#[command(name = "continuum", version, about)]
pub struct Cli {
    /// The manifest.
    #[arg(long, global = true, env = "CONTINUUM_MANIFEST", default_value = "instances.toml")]
    pub manifest: PathBuf,
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
    /// List an instance's latest runs.
    Runs {
        /// The instance.
        #[arg(long)]
        instance: Option<String>,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
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
    /// Run the order-flow demo on the default instance, in this process.
    Demo,
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
    match execute(cli).await {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            errln!("error: {}", output::one_line(&e.to_string()));
            ExitCode::from(exit_code(&e))
        }
    }
}

/// The exit code for an error.
pub fn exit_code(e: &CliError) -> u8 {
    match e {
        CliError::Manifest(_) | CliError::Usage(_) => EXIT_USAGE,
        CliError::Continuum(e) if e.is_retryable() => EXIT_RETRYABLE,
        CliError::Continuum(Error::DeployRefused { .. }) => EXIT_RUN_NOT_COMPLETED,
        CliError::Continuum(
            Error::InstanceNotRegistered(_)
            | Error::InstanceAlreadyRegistered(_)
            | Error::UnknownWorkflow { .. }
            | Error::InvalidJson { .. }
            | Error::UnknownRun { .. }
            | Error::RunExists { .. }
            | Error::RunConflict { .. }
            | Error::SignalKeyConflict { .. }
            | Error::RunFinished { .. }
            | Error::WorkflowMismatch { .. }
            | Error::NothingToReplay
            | Error::Module(_)
            | Error::WorkflowModule { .. }
            | Error::ActivityModule { .. }
            | Error::InvalidName { .. }
            | Error::PayloadTooLarge { .. }
            | Error::Manifest(_)
            | Error::InvalidNode { .. }
            | Error::Config { .. },
        ) => EXIT_USAGE,
        _ => EXIT_FAILURE,
    }
}

/// Errors of the command line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The manifest is invalid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The runtime refused.
    #[error(transparent)]
    Continuum(#[from] Error),
    /// Bad arguments.
    #[error("{0}")]
    Usage(String),
    /// The HTTP API could not start.
    #[error(transparent)]
    Http(#[from] continuum_http::ServeError),
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

async fn client(manifest: &Manifest, instance: Option<&str>) -> Result<Continuum, CliError> {
    let only: Vec<String> = vec![instance.unwrap_or(DEFAULT_INSTANCE).to_string()];
    Ok(Continuum::from_manifest(manifest, Mode::Client, &only).await?)
}

/// Applies `serve`'s `--http-listen` and `--no-http` to the manifest's
/// `[http]`; an address given without an `[http]` table is served with its
/// defaults. Without tokens the address must be loopback, as in the
/// manifest.
fn override_http(manifest: &mut Manifest, listen: Option<std::net::SocketAddr>, off: bool) -> Result<(), CliError> {
    if off {
        manifest.http = None;
        return Ok(());
    }
    let Some(listen) = listen else { return Ok(()) };
    let mut http = manifest.http.clone().unwrap_or_else(|| continuum_host::HttpConfig::loopback(listen));
    if !http.requires_tokens() && !listen.ip().is_loopback() {
        return Err(CliError::Usage(format!(
            "--http-listen {listen}: not a loopback address, and the manifest configures no HTTP tokens (loopback only without them)"
        )));
    }
    http.listen = listen;
    manifest.http = Some(http);
    Ok(())
}

async fn execute(cli: Cli) -> Result<u8, CliError> {
    let manifest = Manifest::load(&cli.manifest)?;
    match cli.command {
        Command::Serve { instances, http_listen, no_http } => {
            let mut manifest = manifest;
            override_http(&mut manifest, http_listen, no_http)?;
            manifest.validate_files()?;
            let continuum = Arc::new(Continuum::from_manifest(&manifest, Mode::Serve, &instances).await?);
            // Bound before anything runs: a taken port stops the host at once.
            let server = match &manifest.http {
                Some(cfg) => Some((continuum_http::Server::bind(continuum.clone(), cfg, manifest.data_dir.join("uploads")).await?, cfg.requires_tokens())),
                None => None,
            };
            continuum.start_all();
            errln!("continuum: serving {} (manifest {})", continuum.instance_names().join(", "), cli.manifest.display());
            let http = server.map(|(server, tokens)| {
                if tokens {
                    errln!("continuum: HTTP API on http://{} (bearer tokens required)", server.local_addr);
                } else {
                    errln!("continuum: HTTP API on http://{} (no tokens configured: loopback only, no authentication)", server.local_addr);
                }
                let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
                let task = tokio::spawn(server.serve(async move {
                    let _ = stopped.await;
                }));
                (stop, task)
            });
            shutdown_signal().await;
            if let Some((stop, mut task)) = http {
                let _ = stop.send(());
                // Long polls and streams end with the process, not before.
                if tokio::time::timeout(HTTP_SHUTDOWN_GRACE, &mut task).await.is_err() {
                    task.abort();
                }
            }
            continuum.stop_all().await;
            Ok(EXIT_OK)
        }
        Command::Start { workflow, input, input_file, instance, run_id, fail_if_exists } => {
            let input = match (input, input_file) {
                (Some(text), _) => parse_json("input", &text)?,
                (None, Some(path)) => {
                    let text = read_input_file(&path)?;
                    parse_json(&format!("input in `{}`", path.display()), &text)?
                }
                (None, None) => Value::Object(Default::default()),
            };
            let c = client(&manifest, instance.as_deref()).await?;
            let if_exists = if fail_if_exists { IfExists::Fail } else { IfExists::Return };
            let started = c.start_run(&workflow, input, StartOptions { instance, run_id, if_exists }).await?;
            if started.existed {
                errln!("continuum: run `{}` exists with the same workflow and input: not started again", started.run_id);
            }
            outln!("{}", started.run_id);
            Ok(EXIT_OK)
        }
        Command::Signal { run_id, name, payload, instance, key } => {
            let payload = match payload {
                Some(text) => parse_json("signal payload", &text)?,
                None => Value::Null,
            };
            let c = client(&manifest, instance.as_deref()).await?;
            let sent = c.send_signal(&run_id, &name, payload, SignalOptions { instance, idempotency_key: key.clone() }).await?;
            if sent.duplicate {
                outln!("signal `{name}` was sent to run {run_id} before with key `{}`: not sent again", key.unwrap_or_default());
            } else {
                outln!("signal `{name}` sent to run {run_id}");
            }
            Ok(EXIT_OK)
        }
        Command::Cancel { run_id, instance } => {
            let c = client(&manifest, instance.as_deref()).await?;
            match c.cancel(&run_id, CallOptions { instance }).await? {
                CancelOutcome::Cancelled => outln!("run {run_id} cancelled"),
                CancelOutcome::AlreadyFinal(state) => outln!("run {run_id} had already finished: {state}"),
                CancelOutcome::Requested => {
                    outln!("run {run_id}: cancellation requested; the workflow is told and cleans up (the request stands)")
                }
                other => outln!("run {run_id}: {other:?}"),
            }
            Ok(EXIT_OK)
        }
        Command::Terminate { run_id, instance } => {
            let c = client(&manifest, instance.as_deref()).await?;
            match c.terminate(&run_id, CallOptions { instance }).await? {
                CancelOutcome::AlreadyFinal(state) => outln!("run {run_id} had already finished: {state}"),
                _ => outln!("run {run_id} terminated"),
            }
            Ok(EXIT_OK)
        }
        Command::Await { run_id, timeout, instance } => {
            let timeout = Duration::try_from_secs_f64(timeout)
                .map_err(|_| CliError::Usage(format!("invalid --timeout {timeout}: give seconds, from 0 to {}", u64::MAX)))?;
            let c = client(&manifest, instance.as_deref()).await?;
            let outcome = c.await_run(&run_id, timeout, CallOptions { instance }).await?;
            match outcome.state {
                RunState::Completed => {
                    outln!("{}", outcome.output.unwrap_or(Value::Null));
                    Ok(EXIT_OK)
                }
                state => {
                    outln!("{}", outcome.error.unwrap_or(Value::Null));
                    errln!("run {run_id} ended {state}");
                    Ok(EXIT_RUN_NOT_COMPLETED)
                }
            }
        }
        Command::Show { run_id, instance, json } => {
            let c = client(&manifest, instance.as_deref()).await?;
            let history = c.history(&run_id, CallOptions { instance }).await?;
            if json {
                // Through a JSON value: keys sorted, as this command always printed them.
                let doc = serde_json::to_value(&history).unwrap_or_default();
                outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
            } else {
                out!("{}", show::render(&history));
            }
            Ok(EXIT_OK)
        }
        Command::Runs { instance, limit } => {
            let c = client(&manifest, instance.as_deref()).await?;
            for run in c.runs(limit, CallOptions { instance }).await? {
                outln!("{}  {:<10} {:<16} {}", run.key.run_id, run.state, run.workflow, run.created_at.to_rfc3339());
            }
            Ok(EXIT_OK)
        }
        Command::Deploy { workflow, file, instance, migrate, check } => {
            let c = client(&manifest, instance.as_deref()).await?;
            let migrate = match migrate {
                None => Migrate::None,
                Some(ids) if ids.is_empty() => Migrate::All,
                Some(ids) => Migrate::Runs(ids),
            };
            let report = c.deploy(&workflow, &file, DeployOptions { instance, migrate, check }).await?;
            for (run, verdict) in &report.checks {
                outln!("run {run}: {verdict}");
            }
            for run in &report.finished {
                outln!("run {run}: finished on its version before it could be migrated");
            }
            for (run, why) in &report.not_migrated {
                outln!("run {run}: not migrated: {why}");
            }
            outln!("deployed {workflow} version {} ({} run(s) migrated)", report.hash, report.migrated);
            if report.not_migrated.is_empty() {
                Ok(EXIT_OK)
            } else {
                errln!("{} run(s) not migrated; deploying again retries them", report.not_migrated.len());
                Ok(EXIT_RETRYABLE)
            }
        }
        Command::Replay { module, workflow, runs, instance } => {
            let c = client(&manifest, instance.as_deref()).await?;
            let verdicts = c.replay(workflow.as_deref(), &module, &runs, CallOptions { instance }).await?;
            let mut all_ok = true;
            for (run, verdict) in &verdicts {
                all_ok &= verdict.is_compatible();
                outln!("run {run}: {verdict}");
            }
            outln!("{} run(s) replayed, {}", verdicts.len(), if all_ok { "all compatible" } else { "some incompatible" });
            Ok(if all_ok { EXIT_OK } else { EXIT_RUN_NOT_COMPLETED })
        }
        Command::Demo => demo::run(&manifest).await,
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
