//! The verbs through a server's HTTP API (`--server URL`, the token from
//! `CONTINUUM_TOKEN`): the same arguments, output and exit codes as
//! against the database ([`crate::direct`]); the manifest is not read.
//! `serve` and `demo` run in this process and refuse `--server`.

use std::path::Path;
use std::time::{Duration, Instant};

use continuum_host::{Error, Migrate, RunHistory, DEFAULT_INSTANCE};
use reqwest::Method;
use serde_json::{json, Value};

use crate::commands::{self, Command};
use crate::exit::{CliError, EXIT_OK};
use crate::print;
use crate::remote_answers as answer;
use crate::remote_client::{Body, Remote, TOKEN_ENV};

/// The largest page of runs the API gives.
const MAX_PAGE: usize = 1000;

/// Runs a verb through the API of `server`.
pub async fn execute(server: &str, command: Command) -> Result<u8, CliError> {
    let verb = command.verb();
    let refuse = || {
        CliError::Usage(format!(
            "`continuum {verb}` runs in this process and cannot go through a server: drop --server (and unset CONTINUUM_SERVER)"
        ))
    };
    if matches!(command, Command::Serve { .. } | Command::Demo) {
        return Err(refuse());
    }
    let remote = Remote::new(server, std::env::var(TOKEN_ENV).ok())?;
    let none = Duration::ZERO;
    match command {
        Command::Start { workflow, input, input_file, instance, run_id, fail_if_exists } => {
            let input = commands::start_input(input, input_file)?;
            let mut body = json!({"workflow": workflow, "input": input});
            if let Some(id) = run_id {
                body["run_id"] = json!(id);
            }
            if fail_if_exists {
                body["if_exists"] = json!("fail");
            }
            let url = remote.url(&["v1", "instances", of(&instance), "runs"], &[]);
            let (_, a) = remote.call(Method::POST, url, Some(Body::Json(body)), none, "start").await?;
            let started: answer::Started = remote.parse("start", a)?;
            print::started(&started.run_id, started.existed);
            Ok(EXIT_OK)
        }
        Command::Signal { run_id, name, payload, instance, key } => {
            let payload = commands::signal_payload(payload)?;
            let url = remote.url(&["v1", "instances", of(&instance), "runs", run_id.as_str(), "signals"], &[]);
            let mut body = json!({"name": name, "payload": payload});
            if let Some(k) = &key {
                body["idempotency_key"] = json!(k);
            }
            let (_, a) = remote.call(Method::POST, url, Some(Body::Json(body)), none, "signal").await?;
            let sent: answer::SignalSent = remote.parse("signal", a)?;
            print::signalled(&run_id, &name, key.as_deref(), sent.duplicate);
            Ok(EXIT_OK)
        }
        Command::Query { run_id, name, args, instance } => {
            let args = commands::query_args(args)?;
            let url = remote.url(&["v1", "instances", of(&instance), "runs", run_id.as_str(), "queries"], &[]);
            let body = json!({"name": name, "args": args});
            let (_, a) = remote.call(Method::POST, url, Some(Body::Json(body)), none, "query").await?;
            let answered: answer::QueryAnswered = remote.parse("query", a)?;
            print::answered(&answered.answer);
            Ok(EXIT_OK)
        }
        Command::Update { run_id, name, payload, timeout, instance } => {
            let payload = commands::signal_payload(payload)?;
            let timeout = commands::update_timeout(&timeout)?;
            update_run(&remote, of(&instance), &run_id, &name, payload, timeout).await
        }
        Command::Cancel { run_id, instance } => {
            let url = remote.url(&["v1", "instances", of(&instance), "runs", run_id.as_str(), "cancel"], &[]);
            let (_, a) = remote.call(Method::POST, url, None, none, "cancel").await?;
            let c: answer::Cancelled = remote.parse("cancel", a)?;
            print::cancelled(&run_id, &c.outcome("cancel").map_err(|r| remote.bad_answer("cancel", r))?);
            Ok(EXIT_OK)
        }
        Command::Terminate { run_id, instance } => {
            let url = remote.url(&["v1", "instances", of(&instance), "runs", run_id.as_str(), "terminate"], &[]);
            let (_, a) = remote.call(Method::POST, url, None, none, "terminate").await?;
            let c: answer::Cancelled = remote.parse("terminate", a)?;
            print::terminated(&run_id, &c.outcome("terminate").map_err(|r| remote.bad_answer("terminate", r))?);
            Ok(EXIT_OK)
        }
        Command::Pause { run_id, instance } | Command::Resume { run_id, instance } => {
            let verb = if verb == "pause" { "pause" } else { "resume" };
            let url = remote.url(&["v1", "instances", of(&instance), "runs", run_id.as_str(), verb], &[]);
            remote.call(Method::POST, url, None, none, verb).await?;
            print::paused(&run_id, verb == "pause");
            Ok(EXIT_OK)
        }
        Command::Retry { run_id, instance } => {
            let url = remote.url(&["v1", "instances", of(&instance), "runs", run_id.as_str(), "retry"], &[]);
            let (_, a) = remote.call(Method::POST, url, None, none, "retry").await?;
            let done: answer::ResetDone = remote.parse("retry", a)?;
            print::reset("retrying", &run_id, done.to_seq, done.superseded);
            Ok(EXIT_OK)
        }
        Command::Reset { run_id, to_seq, reason, instance } => {
            let url = remote.url(&["v1", "instances", of(&instance), "runs", run_id.as_str(), "reset"], &[]);
            let body = json!({"to_seq": to_seq, "reason": reason});
            let (_, a) = remote.call(Method::POST, url, Some(Body::Json(body)), none, "reset").await?;
            let done: answer::ResetDone = remote.parse("reset", a)?;
            print::reset("reset", &run_id, done.to_seq, done.superseded);
            Ok(EXIT_OK)
        }
        Command::Await { run_id, timeout, instance } => {
            let timeout = commands::await_timeout(timeout)?;
            await_run(&remote, of(&instance), &run_id, timeout).await
        }
        Command::Show { run_id, instance, json } => {
            let url = remote.url(&["v1", "instances", of(&instance), "runs", run_id.as_str(), "history"], &[]);
            let (_, a) = remote.call(Method::GET, url, None, none, "show").await?;
            let history: RunHistory = remote.parse("show", a)?;
            print::history(&history, json);
            Ok(EXIT_OK)
        }
        Command::Runs { instance, limit, state, workflow, since, until, parent, attrs, cursor, json } => {
            let filters = commands::RunFilters { state, workflow, since, until, parent, attrs, cursor };
            // Checked here as directly: the same refusals, before any call.
            let query = filters.query(limit)?;
            let mut params = Vec::new();
            if let Some(s) = query.state {
                params.push(("state", s.to_string()));
            }
            let times = [("created_since", query.created_since), ("created_until", query.created_until)];
            let text = [("workflow", filters.workflow), ("parent", filters.parent), ("cursor", filters.cursor)];
            params.extend(text.into_iter().filter_map(|(name, v)| v.map(|v| (name, v))));
            params.extend(times.into_iter().filter_map(|(name, t)| {
                t.map(|t| (name, t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)))
            }));
            params.extend(query.attributes.iter().map(|(k, v)| ("attr", format!("{k}={v}"))));
            list_runs(&remote, of(&instance), limit, params, json).await
        }
        Command::Workflows { instance } => {
            let url = remote.url(&["v1", "instances", of(&instance), "workflows"], &[]);
            let (_, a) = remote.call(Method::GET, url, None, none, "workflows").await?;
            let list: answer::WorkflowList = remote.parse("workflows", a)?;
            print::workflows(&list.workflows);
            Ok(EXIT_OK)
        }
        Command::Instances => {
            let (_, a) = remote.call(Method::GET, remote.url(&["v1", "instances"], &[]), None, none, "instances").await?;
            let list: answer::InstanceList = remote.parse("instances", a)?;
            list.instances.iter().for_each(|i| outln!("{}", i.name));
            Ok(EXIT_OK)
        }
        Command::Deploy { workflow, file, instance, migrate, check } => {
            let mut query = Vec::new();
            match commands::migrate(migrate) {
                Migrate::All => query.push(("migrate", "all".to_string())),
                Migrate::Runs(ids) => query.push(("migrate", run_list(&ids)?)),
                _ => {}
            }
            if check {
                query.push(("check", "true".to_string()));
            }
            let body = Body::Wasm(read_component(&file)?);
            let url = remote.url(&["v1", "instances", of(&instance), "workflows", workflow.as_str(), "versions"], &query);
            let (_, a) = remote.call(Method::POST, url, Some(body), none, "deploy").await?;
            let d: answer::Deployed = remote.parse("deploy", a)?;
            Ok(print::deployed(&print::Deployed {
                workflow,
                hash: d.hash,
                migrated: d.migrated,
                checks: d.checks.into_iter().map(|c| (c.run_id, c.verdict)).collect(),
                finished: d.finished,
                not_migrated: d.not_migrated.into_iter().map(|n| (n.run_id, n.reason)).collect(),
            }))
        }
        Command::Replay { module, workflow, runs, instance } => {
            let mut query = Vec::new();
            if let Some(w) = workflow {
                query.push(("workflow", w));
            }
            if !runs.is_empty() {
                query.push(("runs", run_list(&runs)?));
            }
            let body = Body::Wasm(read_component(&module)?);
            let url = remote.url(&["v1", "instances", of(&instance), "replay"], &query);
            let (_, a) = remote.call(Method::POST, url, Some(body), none, "replay").await?;
            let r: answer::Replayed = remote.parse("replay", a)?;
            let verdicts: Vec<_> = r.runs.into_iter().map(|c| (c.run_id, c.compatible, c.verdict)).collect();
            Ok(print::replayed(&verdicts))
        }
        Command::Schedule { verb } => crate::schedule::run_remote(&remote, verb).await,
        Command::Serve { .. } | Command::Demo => Err(refuse()),
    }
}

/// The instance a verb names, or the default one.
fn of(instance: &Option<String>) -> &str {
    instance.as_deref().unwrap_or(DEFAULT_INSTANCE)
}

/// Run ids as the API takes them in a query: separated by commas.
fn run_list(ids: &[String]) -> Result<String, CliError> {
    if let Some(id) = ids.iter().find(|id| id.contains(',')) {
        return Err(CliError::Usage(format!("run id `{id}` contains a comma, which cannot be passed through --server")));
    }
    Ok(ids.join(","))
}

/// A component file to upload.
fn read_component(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::Usage(format!("cannot read component file `{}`: {e}", path.display())))
}

/// `await`: long polls of the run's result (each at most the API's
/// longest wait) until it is final or `timeout` has passed.
async fn await_run(remote: &Remote, instance: &str, run_id: &str, timeout: Duration) -> Result<u8, CliError> {
    let begun = Instant::now();
    loop {
        let wait = timeout.saturating_sub(begun.elapsed()).min(continuum_http::wait::MAX_WAIT);
        let query = [("wait", format!("{}ms", wait.as_millis()))];
        let url = remote.url(&["v1", "instances", instance, "runs", run_id, "result"], &query);
        let (_, a) = remote.call(Method::GET, url, None, wait, "await").await?;
        let result: answer::RunResult = remote.parse("await", a)?;
        if result.done {
            return Ok(print::awaited(run_id, result.state, result.output, result.error));
        }
        if begun.elapsed() >= timeout {
            let (instance, run_id) = (instance.to_string(), run_id.to_string());
            return Err(Error::AwaitTimeout { instance, run_id, waited: timeout }.into());
        }
    }
}

/// `update`: sends the update with a long poll for its reply, then polls
/// on until the reply comes or `timeout` has passed (exit 4; the update
/// stays delivered).
async fn update_run(remote: &Remote, instance: &str, run_id: &str, name: &str, payload: Value, timeout: Duration) -> Result<u8, CliError> {
    let begun = Instant::now();
    let wait = timeout.min(continuum_http::wait::MAX_WAIT);
    let query = [("wait", format!("{}ms", wait.as_millis()))];
    let url = remote.url(&["v1", "instances", instance, "runs", run_id, "updates"], &query);
    let body = json!({"name": name, "payload": payload});
    let (_, a) = remote.call(Method::POST, url, Some(Body::Json(body)), wait, "update").await?;
    let mut answered: answer::UpdateAnswer = remote.parse("update", a)?;
    loop {
        if answered.replied {
            print::answered(&answered.reply.unwrap_or(Value::Null));
            return Ok(EXIT_OK);
        }
        if begun.elapsed() >= timeout {
            let (instance, run_id, update_id) = (instance.to_string(), answered.run_id, answered.update_id);
            return Err(Error::UpdateTimeout { instance, run_id, update_id, waited: timeout }.into());
        }
        let wait = timeout.saturating_sub(begun.elapsed()).min(continuum_http::wait::MAX_WAIT);
        let query = [("wait", format!("{}ms", wait.as_millis()))];
        let url = remote.url(&["v1", "instances", instance, "runs", answered.run_id.as_str(), "updates", answered.update_id.as_str()], &query);
        let (_, a) = remote.call(Method::GET, url, None, wait, "update").await?;
        answered = remote.parse("update", a)?;
    }
}

/// `runs`: pages of the listing, with its filters (and cursor), until
/// `limit` runs are printed or the listing ends; then the cursor of the
/// next page when more runs match.
async fn list_runs(remote: &Remote, instance: &str, limit: usize, filters: Vec<(&str, String)>, json: bool) -> Result<u8, CliError> {
    let mut left = limit;
    let mut shown = Vec::new();
    let mut params = filters;
    loop {
        // A limit of 0 still asks once: an unknown instance is an error either way.
        let mut query = params.clone();
        query.push(("limit", left.clamp(1, MAX_PAGE).to_string()));
        let url = remote.url(&["v1", "instances", instance, "runs"], &query);
        let (_, a) = remote.call(Method::GET, url, None, Duration::ZERO, "runs").await?;
        let page: answer::RunPage = remote.parse("runs", a)?;
        let n = page.runs.len().min(left);
        left -= n;
        shown.extend(page.runs.into_iter().take(n));
        match page.next_cursor {
            Some(next) if left > 0 => {
                params.retain(|(name, _)| *name != "cursor");
                params.push(("cursor", next));
            }
            next => {
                print::runs(&shown, next.as_deref().filter(|_| limit > 0), json);
                return Ok(EXIT_OK);
            }
        }
    }
}
