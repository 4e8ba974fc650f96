//! The verbs against the database directly: each opens the instance's
//! database as a client (no host needed) and prints through
//! [`crate::print`], as the same verbs over HTTP do.

use continuum_host::{
    CallOptions, Continuum, DeployOptions, IfExists, Manifest, Mode, SignalOptions, StartOptions, DEFAULT_INSTANCE,
};

use crate::commands::{self, Cli, Command};
use crate::exit::{CliError, EXIT_OK};
use crate::{demo, print, schedule, serve};

async fn client(manifest: &Manifest, instance: Option<&str>) -> Result<Continuum, CliError> {
    let only: Vec<String> = vec![instance.unwrap_or(DEFAULT_INSTANCE).to_string()];
    Ok(Continuum::from_manifest(manifest, Mode::Client, &only).await?)
}

/// Runs a verb on the manifest's databases (or, for `serve` and `demo`,
/// in this process).
pub async fn execute(cli: Cli) -> Result<u8, CliError> {
    let manifest = Manifest::load(&cli.manifest)?;
    match cli.command {
        Command::Serve { instances, http_listen, no_http } => {
            serve::serve(manifest, &cli.manifest, instances, http_listen, no_http).await
        }
        Command::Start { workflow, input, input_file, instance, run_id, fail_if_exists } => {
            let input = commands::start_input(input, input_file)?;
            let c = client(&manifest, instance.as_deref()).await?;
            let if_exists = if fail_if_exists { IfExists::Fail } else { IfExists::Return };
            let started = c.start_run(&workflow, input, StartOptions { instance, run_id, if_exists }).await?;
            print::started(&started.run_id, started.existed);
            Ok(EXIT_OK)
        }
        Command::Signal { run_id, name, payload, instance, key } => {
            let payload = commands::signal_payload(payload)?;
            let c = client(&manifest, instance.as_deref()).await?;
            let opts = SignalOptions { instance, idempotency_key: key.clone() };
            let sent = c.send_signal(&run_id, &name, payload, opts).await?;
            print::signalled(&run_id, &name, key.as_deref(), sent.duplicate);
            Ok(EXIT_OK)
        }
        Command::Query { run_id, name, args, instance } => {
            let args = commands::query_args(args)?;
            let c = client(&manifest, instance.as_deref()).await?;
            print::answered(&c.query(&run_id, &name, args, CallOptions { instance }).await?);
            Ok(EXIT_OK)
        }
        Command::Update { run_id, name, payload, timeout, instance } => {
            let payload = commands::signal_payload(payload)?;
            let timeout = commands::update_timeout(&timeout)?;
            let c = client(&manifest, instance.as_deref()).await?;
            print::answered(&c.update(&run_id, &name, payload, timeout, CallOptions { instance }).await?);
            Ok(EXIT_OK)
        }
        Command::Cancel { run_id, instance } => {
            let c = client(&manifest, instance.as_deref()).await?;
            print::cancelled(&run_id, &c.cancel(&run_id, CallOptions { instance }).await?);
            Ok(EXIT_OK)
        }
        Command::Terminate { run_id, instance } => {
            let c = client(&manifest, instance.as_deref()).await?;
            print::terminated(&run_id, &c.terminate(&run_id, CallOptions { instance }).await?);
            Ok(EXIT_OK)
        }
        Command::Pause { run_id, instance } => {
            let c = client(&manifest, instance.as_deref()).await?;
            c.pause(&run_id, CallOptions { instance }).await?;
            print::paused(&run_id, true);
            Ok(EXIT_OK)
        }
        Command::Resume { run_id, instance } => {
            let c = client(&manifest, instance.as_deref()).await?;
            c.resume(&run_id, CallOptions { instance }).await?;
            print::paused(&run_id, false);
            Ok(EXIT_OK)
        }
        Command::Retry { run_id, instance } => {
            let c = client(&manifest, instance.as_deref()).await?;
            let done = c.retry(&run_id, CallOptions { instance }).await?;
            print::reset("retrying", &done.run_id, done.to_seq, done.superseded);
            Ok(EXIT_OK)
        }
        Command::Reset { run_id, to_seq, reason, instance } => {
            let c = client(&manifest, instance.as_deref()).await?;
            let done = c.reset(&run_id, to_seq, reason, CallOptions { instance }).await?;
            print::reset("reset", &done.run_id, done.to_seq, done.superseded);
            Ok(EXIT_OK)
        }
        Command::Await { run_id, timeout, instance } => {
            let timeout = commands::await_timeout(timeout)?;
            let c = client(&manifest, instance.as_deref()).await?;
            let outcome = c.await_run(&run_id, timeout, CallOptions { instance }).await?;
            Ok(print::awaited(&run_id, outcome.state, outcome.output, outcome.error))
        }
        Command::Show { run_id, instance, json } => {
            let c = client(&manifest, instance.as_deref()).await?;
            print::history(&c.history(&run_id, CallOptions { instance }).await?, json);
            Ok(EXIT_OK)
        }
        Command::Runs { instance, limit, state, workflow, since, until, parent, attrs, cursor, json } => {
            let filters = commands::RunFilters { state, workflow, since, until, parent, attrs, cursor };
            let query = filters.query(limit)?;
            let c = client(&manifest, instance.as_deref()).await?;
            let page = c.runs_page(&query, CallOptions { instance }).await?;
            print::runs(&page.runs, page.next_cursor.as_deref(), json);
            Ok(EXIT_OK)
        }
        Command::Workflows { instance } => {
            let c = client(&manifest, instance.as_deref()).await?;
            print::workflows(&c.workflows(CallOptions { instance }).await?);
            Ok(EXIT_OK)
        }
        Command::Instances => {
            manifest.instances.keys().for_each(|name| outln!("{name}"));
            Ok(EXIT_OK)
        }
        Command::Deploy { workflow, file, instance, migrate, check } => {
            let c = client(&manifest, instance.as_deref()).await?;
            let migrate = commands::migrate(migrate);
            let report = c.deploy(&workflow, &file, DeployOptions { instance, migrate, check }).await?;
            Ok(print::deployed(&print::Deployed {
                workflow,
                hash: report.hash,
                migrated: report.migrated,
                checks: report.checks.iter().map(|(run, v)| (run.clone(), v.to_string())).collect(),
                finished: report.finished,
                not_migrated: report.not_migrated,
            }))
        }
        Command::Replay { module, workflow, runs, instance } => {
            let c = client(&manifest, instance.as_deref()).await?;
            let verdicts = c.replay(workflow.as_deref(), &module, &runs, CallOptions { instance }).await?;
            let verdicts: Vec<_> = verdicts.into_iter().map(|(run, v)| (run, v.is_compatible(), v.to_string())).collect();
            Ok(print::replayed(&verdicts))
        }
        Command::Schedule { verb } => {
            schedule::check(&verb)?;
            let c = client(&manifest, verb.instance()).await?;
            schedule::run(&c, verb).await
        }
        Command::Demo => demo::run(&manifest).await,
    }
}
