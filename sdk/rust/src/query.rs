//! Queries: a caller asks a run a question (`continuum query RUN NAME
//! ARGS`) and the workflow answers it from its state, without changing it.
//!
//! A workflow registers handlers with [`Workflow::on_query`]. The host
//! answers a query by replaying the run's history read-only into a fresh
//! guest; the SDK hands the query to the handler once the guest is where
//! the run is (just before the wait it is blocked at, or after the
//! workflow function returned). So a handler sees the state the workflow
//! built up to there. Handlers must only read: nothing they do is
//! recorded, and calls that start something (activities, timers) are not
//! executed in a query.

use std::cell::RefCell;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::bindings::workflow_world::continuum::workflow::queries as wit;
use crate::workflow::{decode_json, Workflow};

/// A registered handler, on the raw JSON arguments.
type Handler = Box<dyn Fn(&[u8]) -> Result<Vec<u8>, String>>;

thread_local! {
    /// The handlers registered so far, by name (a later registration of a
    /// name replaces the earlier one).
    static HANDLERS: RefCell<Vec<(String, Handler)>> = const { RefCell::new(Vec::new()) };
}

impl Workflow {
    /// Registers the handler of the query `name`: it takes the query's
    /// arguments (decoded from JSON as `A`; `()` takes `null`) and returns
    /// the answer (encoded as JSON) or an error message, which the caller
    /// gets as the query's failure. Register handlers before the workflow
    /// waits; the handler captures what it reports (a `Rc<Cell<_>>` or
    /// `Rc<RefCell<_>>` the workflow updates). Registering a name again
    /// replaces its handler.
    ///
    /// ```no_run
    /// use continuum_sdk::prelude::*;
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// fn counter(ctx: &Workflow, _: ()) -> Result<u64, WorkflowError> {
    ///     let count = Rc::new(Cell::new(0u64));
    ///     let seen = count.clone();
    ///     ctx.on_query("count", move |_: ()| Ok(seen.get()));
    ///     ctx.on_query("times", {
    ///         let count = count.clone();
    ///         move |factor: u64| count.get().checked_mul(factor).ok_or_else(|| "overflow".to_string())
    ///     });
    ///     while ctx.signal::<String>("inc")? != "stop" {
    ///         count.set(count.get() + 1);
    ///     }
    ///     Ok(count.get())
    /// }
    /// continuum_sdk::workflow!(counter);
    /// ```
    pub fn on_query<A, R, F>(&self, name: &str, handler: F)
    where
        A: DeserializeOwned,
        R: Serialize,
        F: Fn(A) -> Result<R, String> + 'static,
    {
        let query = name.to_string();
        let raw: Handler = Box::new(move |args: &[u8]| {
            let args: A = decode_json(args).map_err(|e| format!("cannot decode the arguments of query `{query}`: {e}"))?;
            let answer = handler(args)?;
            serde_json::to_vec(&answer).map_err(|e| format!("cannot encode the answer of query `{query}`: {e}"))
        });
        HANDLERS.with(|h| {
            let mut h = h.borrow_mut();
            h.retain(|(n, _)| n != name);
            h.push((name.to_string(), raw));
        });
    }
}

/// Answers the pending query, if the host has one now: called just before
/// a wait on `waiting_on` may block, and after the workflow function
/// returned (with no handles). A workflow that registered no handler does
/// not ask (the host then says it answers no queries). When it answers,
/// the host stops the guest: the call does not return.
pub(crate) fn answer_pending(waiting_on: &[u32]) {
    if HANDLERS.with(|h| h.borrow().is_empty()) {
        return;
    }
    let Some(call) = wit::pending_query(waiting_on) else {
        return;
    };
    let answer = HANDLERS.with(|h| {
        let h = h.borrow();
        match h.iter().find(|(n, _)| *n == call.name) {
            Some((_, handler)) => match handler(&call.args) {
                Ok(bytes) => wit::QueryAnswer::Ok(bytes),
                Err(message) => wit::QueryAnswer::Err(message),
            },
            None => wit::QueryAnswer::UnknownQuery(h.iter().map(|(n, _)| n.clone()).collect()),
        }
    });
    wit::answer_query(&answer);
}
