//! The `attributes` interface of the WIT contract, implemented on
//! [`RunCtx`]: `set-attribute` journals `attribute_set` live (the
//! `run_attributes` row is written by the commit that records it) and is
//! matched against the journal on replay, where nothing is set again. A
//! key or value outside the limits is refused with a message naming the
//! key, and nothing is recorded: the refusal depends on the arguments
//! alone, so a replay refuses it the same way.

use crate::journal::EventBody;
use crate::run_attributes;

use super::bindings::workflow::continuum::workflow::attributes;
use super::interrupt::Interrupt;
use super::replay::{Command, Replayed};
use super::run_ctx::RunCtx;

type HostResult<T> = wasmtime::Result<T>;

impl attributes::Host for RunCtx {
    async fn set_attribute(&mut self, key: String, value: String) -> HostResult<Result<(), String>> {
        if let Some(refusal) = run_attributes::refusal(&key, &value) {
            if self.history.caught_up() {
                tracing::warn!(reason = %refusal, "set-attribute refused");
            }
            return Ok(Err(refusal));
        }
        let cmd = Command::Attribute { key: key.clone(), value: value.clone() };
        if let Replayed::Live = self.command(cmd).map_err(Interrupt::trap)?.1 {
            tracing::debug!(attribute = %key, "attribute set");
            self.append(EventBody::AttributeSet { key, value });
        }
        Ok(Ok(()))
    }
}
