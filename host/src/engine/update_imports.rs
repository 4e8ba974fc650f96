//! The `updates` interface of the WIT contract, implemented on
//! [`RunCtx`]: `update-id-of` tells a received signal's update id (from
//! the journal: the same on replay), and `reply-update` journals
//! `update_replied` live and commits it at once (the sender waits for it
//! in the run's journal), and is matched against the journal on replay, where nothing
//! is replied again. A reply to an update the run has not received, or
//! has replied to already, is refused with a message and nothing is
//! recorded: the refusal depends on the history alone, so a replay
//! refuses it the same way.

use crate::journal::EventBody;

use super::bindings::workflow::continuum::workflow::updates;
use super::interrupt::Interrupt;
use super::replay::{Command, Replayed};
use super::run_ctx::RunCtx;

type HostResult<T> = wasmtime::Result<T>;

impl updates::Host for RunCtx {
    async fn update_id_of(&mut self, op: u32) -> HostResult<Option<String>> {
        Ok(self.history.update_id_of(op).map(str::to_string))
    }

    async fn reply_update(&mut self, update_id: String, reply: Result<Vec<u8>, String>) -> HostResult<Result<(), String>> {
        if !self.history.update_received(&update_id) {
            return Ok(Err(format!("this run has not received update `{update_id}`")));
        }
        if self.history.update_replied(&update_id) {
            return Ok(Err(format!("update `{update_id}` was replied to already")));
        }
        let (reply, error) = match reply {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(v) => (Some(v), None),
                Err(e) => return Ok(Err(format!("the reply to update `{update_id}` is not valid JSON: {e}"))),
            },
            Err(message) => (None, Some(message)),
        };
        let cmd = Command::UpdateReply { update_id: update_id.clone() };
        let replayed = self.command(cmd).map_err(Interrupt::trap)?.1;
        self.history.mark_replied(&update_id);
        if let Replayed::Live = replayed {
            if self.history.caught_up() {
                tracing::info!(update_id = %update_id, rejected = error.is_some(), "update replied");
            }
            self.append(EventBody::UpdateReplied { update_id, reply, error });
            // Committed now (fenced by the lease), not at the next wait:
            // the sender is waiting for it. Never in a query execution.
            if self.query.is_none() {
                self.flush(None).await.map_err(Interrupt::trap)?;
            }
        }
        Ok(Ok(()))
    }
}
