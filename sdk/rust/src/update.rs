//! Updates: a signal whose sender waits for the workflow's reply
//! (`continuum update RUN NAME PAYLOAD`). The workflow receives an update
//! like a signal, with [`Workflow::update`], and answers its sender with
//! [`Update::reply`] (or [`Update::reject`]). The reply is journaled: a
//! replay does not send it again.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::bindings::workflow_world::continuum::workflow::host;
use crate::bindings::workflow_world::continuum::workflow::updates as wit;
use crate::error::{ActivityFailed, WorkflowError};
use crate::workflow::{decode_json, Workflow};

/// A signal received by [`Workflow::update`]: its payload, and its update id
/// when its sender waits for a reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Update<T> {
    /// The payload.
    pub value: T,
    id: Option<String>,
}

impl<T> Update<T> {
    /// The update id, when the signal was sent as an update (`None` for a
    /// plain signal: nobody waits for a reply).
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// Replies `reply` (encoded as JSON) to the sender. Does nothing for a
    /// plain signal. Fails (code `update_refused`) when this update was
    /// replied to already, or the reply does not encode.
    pub fn reply<R: Serialize + ?Sized>(&self, reply: &R) -> Result<(), WorkflowError> {
        let Some(id) = &self.id else { return Ok(()) };
        let bytes = serde_json::to_vec(reply)
            .map_err(|e| WorkflowError::new("update_refused", format!("cannot encode the reply to update `{id}`: {e}")))?;
        wit::reply_update(id, Ok(bytes.as_slice())).map_err(|m| WorkflowError::new("update_refused", m))
    }

    /// Rejects the update: its sender gets the error `message`. Does
    /// nothing for a plain signal.
    pub fn reject(&self, message: &str) -> Result<(), WorkflowError> {
        let Some(id) = &self.id else { return Ok(()) };
        wit::reply_update(id, Err(message)).map_err(|m| WorkflowError::new("update_refused", m))
    }
}

impl Workflow {
    /// Waits for the next signal called `name`, sent as an update
    /// (`continuum update`) or as a plain signal, and returns it; reply to
    /// an update with [`Update::reply`] or [`Update::reject`] (its sender
    /// waits for that).
    ///
    /// ```no_run
    /// use continuum_sdk::prelude::*;
    /// fn approvals(ctx: &Workflow, _: ()) -> Result<u32, WorkflowError> {
    ///     let mut approved = 0;
    ///     while approved < 3 {
    ///         let update = ctx.update::<String>("approve")?;
    ///         if update.value.is_empty() {
    ///             update.reject("an approval names its approver")?;
    ///             continue;
    ///         }
    ///         approved += 1;
    ///         update.reply(&approved)?;
    ///     }
    ///     Ok(approved)
    /// }
    /// continuum_sdk::workflow!(approvals);
    /// ```
    pub fn update<T: DeserializeOwned>(&self, name: &str) -> Result<Update<T>, ActivityFailed> {
        let handle = host::receive_signal(name);
        crate::query::answer_pending(&[handle]);
        let bytes = match host::wait(handle) {
            crate::bindings::workflow_world::continuum::workflow::types::Completion::Ok(bytes) => bytes,
            crate::bindings::workflow_world::continuum::workflow::types::Completion::Err(f) => return Err(f.into()),
        };
        let value = decode_json::<T>(&bytes).map_err(|e| ActivityFailed::bad_payload(e.to_string()))?;
        Ok(Update { value, id: wit::update_id_of(handle) })
    }
}
