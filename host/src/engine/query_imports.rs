//! The `queries` interface of the WIT contract, implemented on [`RunCtx`].
//! In a live run `pending-query` always answers none. In a query execution
//! (see [`super::query_replay`]) it hands the guest the query once the
//! guest is where the recorded run is: every recorded command replayed
//! (but for clock and random reads a language runtime makes on its own),
//! and about to block on operations none of which completed in the
//! journal (or returned). `answer-query` keeps the answer and stops the
//! guest.

use serde_json::Value;

use super::bindings::workflow::continuum::workflow::queries;
use super::interrupt::Interrupt;
use super::run_ctx::RunCtx;

type HostResult<T> = wasmtime::Result<T>;

/// How the workflow answered a query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum QueryAnswer {
    /// Its handler's answer (JSON).
    Ok(Value),
    /// Its handler failed with this message.
    Err(String),
    /// It has no handler of that name; the names it has.
    Unknown(Vec<String>),
}

/// The query a query execution asks, and what became of it.
#[derive(Debug, Clone)]
pub(crate) struct QueryExec {
    /// The query's name.
    pub name: String,
    /// Its arguments.
    pub args: Value,
    /// `pending-query` handed it to the guest.
    pub asked: bool,
    /// The guest's answer, once given.
    pub answer: Option<QueryAnswer>,
}

impl QueryExec {
    /// A query not asked yet.
    pub(crate) fn new(name: String, args: Value) -> Self {
        QueryExec { name, args, asked: false, answer: None }
    }
}

impl queries::Host for RunCtx {
    async fn pending_query(&mut self, waiting_on: Vec<u32>) -> HostResult<Option<queries::QueryCall>> {
        // A live run (or a replay check) is never asked a query.
        let Some(query) = self.query.as_ref() else {
            return Ok(None);
        };
        // Not there yet: recorded commands remain (but for reads a
        // language runtime makes on its own), or the guest will not block
        // (one of the operations completed in the journal).
        if query.asked
            || self.history.replaying_more_than_reads()
            || waiting_on.iter().any(|op| self.history.completion(*op).is_some())
        {
            return Ok(None);
        }
        let args = serde_json::to_vec(&query.args).map_err(|e| Interrupt::Contract(format!("cannot encode the query's arguments: {e}")).trap())?;
        let name = query.name.clone();
        if let Some(q) = self.query.as_mut() {
            q.asked = true;
        }
        Ok(Some(queries::QueryCall { name, args }))
    }

    async fn answer_query(&mut self, answer: queries::QueryAnswer) -> HostResult<()> {
        let Some(query) = self.query.as_mut().filter(|q| q.asked) else {
            return Err(Interrupt::Contract("answer-query without a pending query".into()).trap());
        };
        query.answer = Some(match answer {
            queries::QueryAnswer::Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(v) => QueryAnswer::Ok(v),
                Err(e) => QueryAnswer::Err(format!("the query's answer is not valid JSON: {e}")),
            },
            queries::QueryAnswer::Err(message) => QueryAnswer::Err(message),
            queries::QueryAnswer::UnknownQuery(known) => QueryAnswer::Unknown(known),
        });
        // Answered: the guest goes no further.
        Err(Interrupt::ReplayEnd.trap())
    }
}
