//! The `query` verb of the facade: ask a run a question its workflow
//! answers from its state. The run's journal is replayed read-only into a
//! fresh guest of the run's module version (see `engine::query_replay`):
//! no lease is taken and nothing is written, so a query works on a run
//! whether it executes somewhere, waits, or has finished.

use serde_json::Value;

use crate::engine::{query_replay, QueryAnswer, QueryEnd};
use crate::input_limits::{check_payload, check_query_name, check_run_id};
use crate::instance::module_lookup::{classify, ModuleLookup};
use crate::journal::load_history;
use crate::{CallOptions, Continuum, Error};

impl Continuum {
    /// Asks the run `run_id` the query `name` with the JSON arguments
    /// `args` and returns its workflow's answer (JSON). A run that
    /// continued as new is answered by its chain's latest run.
    ///
    /// Nothing is journaled and no lease is taken: the run's journal is
    /// replayed read-only into a fresh guest, which answers once it is where
    /// the run is (waiting, or finished). Errors: [`Error::UnknownRun`],
    /// [`Error::QueriesUnsupported`] (the workflow registers no query
    /// handler where the run is), [`Error::UnknownQuery`],
    /// [`Error::QueryFailed`] (the handler failed, or the replay did).
    ///
    /// ```no_run
    /// # async fn demo(c: &continuum_host::Continuum) -> Result<(), continuum_host::Error> {
    /// use continuum_host::CallOptions;
    /// let status = c.query("order-1", "status", serde_json::Value::Null, CallOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn query(&self, run_id: &str, name: &str, args: Value, opts: CallOptions) -> Result<Value, Error> {
        check_run_id(run_id)?;
        check_query_name(name)?;
        check_payload("query arguments", &args)?;
        let inst = self.instance(opts.instance.as_deref())?;
        let run = inst.chain_end(run_id).await?;
        let (instance, run_id, workflow) = (inst.name().to_string(), run.key.run_id.clone(), run.workflow.clone());
        let failed = |message: String| Error::QueryFailed {
            instance: instance.clone(),
            run_id: run_id.clone(),
            query: name.to_string(),
            message,
        };
        let module = match classify(inst.modules().module(&run.module_hash).await, &run.module_hash, &workflow, &instance) {
            ModuleLookup::Found(m) => m,
            ModuleLookup::Unavailable(why) => return Err(failed(why)),
            ModuleLookup::Transient(why) => return Err(failed(why)),
        };
        let history = load_history(inst.journal(), &run.key).await.map_err(|e| Error::from_journal(e, &run.key))?;
        let started = std::time::Instant::now();
        let end = query_replay(inst.shared.run_env(), module, &run, &history.events, name, args).await;
        let micros = started.elapsed().as_micros() as u64;
        match end {
            QueryEnd::Answered(QueryAnswer::Ok(answer)) => {
                tracing::info!(instance = %instance, run_id = %run_id, workflow = %workflow, query = name, micros, "query answered");
                Ok(answer)
            }
            QueryEnd::Answered(QueryAnswer::Err(message)) => {
                tracing::info!(instance = %instance, run_id = %run_id, workflow = %workflow, query = name, error = %message, "query handler failed");
                Err(failed(message))
            }
            QueryEnd::Answered(QueryAnswer::Unknown(known)) => {
                Err(Error::UnknownQuery { instance, run_id, workflow, query: name.to_string(), known: known.join(", ") })
            }
            QueryEnd::Unsupported => Err(Error::QueriesUnsupported { instance, run_id, workflow }),
            QueryEnd::Failed(message) => {
                tracing::warn!(instance = %instance, run_id = %run_id, workflow = %workflow, query = name, error = %message, "query replay failed");
                Err(failed(format!("the replay failed: {message}")))
            }
        }
    }
}
