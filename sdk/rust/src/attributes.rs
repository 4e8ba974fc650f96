//! Run attributes: key/value pairs a workflow sets on its own run, by
//! which runs are listed (`continuum runs --attr customer=c-42`, or the
//! `attr` parameter of the HTTP listing).

use crate::bindings::workflow_world::continuum::workflow::attributes as wit;
use crate::error::WorkflowError;
use crate::workflow::Workflow;

/// The code of the error [`Workflow::set_attribute`] returns for a key or
/// value outside the limits.
pub const INVALID_ATTRIBUTE: &str = "invalid_attribute";

impl Workflow {
    /// Sets attribute `key` of this run to `value`; setting a key again
    /// replaces its value. Journaled: the attribute is stored with the
    /// journal entry, and a replay sets nothing again (so set attributes
    /// from the run's input or from journaled results, like every other
    /// step, and keep the calls in the same order on every replay).
    ///
    /// A key is 1 to 64 characters, each an ASCII letter, digit, `_`, `-`,
    /// `.` or `:`; a value at most 256 characters, none of them control
    /// characters. Outside those limits the call is refused and nothing is
    /// recorded: the error (code [`INVALID_ATTRIBUTE`]) names the key, and
    /// returning it with `?` fails the run with it.
    ///
    /// ```no_run
    /// # use continuum_sdk::prelude::*;
    /// # fn f(ctx: &Workflow) -> Result<(), WorkflowError> {
    /// ctx.set_attribute("customer", "c-42")?;
    /// ctx.set_attribute("tier", "gold")?;
    /// // continuum runs --attr customer=c-42 --attr tier=gold
    /// # Ok(()) }
    /// ```
    pub fn set_attribute(&self, key: &str, value: &str) -> Result<(), WorkflowError> {
        wit::set_attribute(key, value).map_err(|message| WorkflowError::new(INVALID_ATTRIBUTE, message))
    }
}
