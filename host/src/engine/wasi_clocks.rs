//! `wasi:clocks` for workflow guests: both clocks read the run's journaled
//! time, the same reading as the `now` host import.
//!
//! Every `wall-clock.now` and `monotonic-clock.now` the guest makes is one
//! journaled clock read (a `clock_read` event, like `now`): live, the host's
//! time in milliseconds is recorded; on replay, the recorded value is
//! returned. So Python's `time.time()` (or JavaScript's `Date.now()`, C's
//! `clock_gettime`) gives the value `now` gives, and the same value again
//! on every replay.
//!
//! The monotonic clock counts nanoseconds since the Unix epoch, at the
//! journal's millisecond resolution, and never goes back: a reading below
//! the previous one (the host's clock was set back, or the run moved to a
//! host whose clock is behind) returns the previous one. The floor is
//! derived from the journaled readings alone, so replay repeats it.
//!
//! A pollable from `subscribe-instant` or `subscribe-duration` is ready at
//! once: a workflow does not block in WASI (a real wait would hold the run's
//! engine and its outcome would depend on timing); it waits through the
//! SDK's durable timers, which survive a crash.

use wasmtime::component::Resource;
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock::{self, Duration as WasiDuration, Instant};
use wasmtime_wasi::p2::bindings::clocks::wall_clock::{self, Datetime};
use wasmtime_wasi::p2::{subscribe, DynPollable, Pollable};

use super::interrupt::Interrupt;
use super::run_ctx::RunCtx;

/// The resolution of both clocks: the journal records milliseconds.
const RESOLUTION_NS: u64 = 1_000_000;

impl wall_clock::Host for RunCtx {
    fn now(&mut self) -> wasmtime::Result<Datetime> {
        let ms = self.read_clock().map_err(Interrupt::trap)?;
        Ok(Datetime { seconds: ms / 1000, nanoseconds: (ms % 1000) as u32 * 1_000_000 })
    }

    fn resolution(&mut self) -> wasmtime::Result<Datetime> {
        Ok(Datetime { seconds: 0, nanoseconds: RESOLUTION_NS as u32 })
    }
}

impl monotonic_clock::Host for RunCtx {
    fn now(&mut self) -> wasmtime::Result<Instant> {
        let ms = self.read_clock().map_err(Interrupt::trap)?;
        let ns = ms.saturating_mul(1_000_000).max(self.monotonic_floor_ns);
        self.monotonic_floor_ns = ns;
        Ok(ns)
    }

    fn resolution(&mut self) -> wasmtime::Result<Instant> {
        Ok(RESOLUTION_NS)
    }

    fn subscribe_instant(&mut self, _when: Instant) -> wasmtime::Result<Resource<DynPollable>> {
        ready_at_once(self)
    }

    fn subscribe_duration(&mut self, _duration: WasiDuration) -> wasmtime::Result<Resource<DynPollable>> {
        ready_at_once(self)
    }
}

/// A pollable that is ready at once (it yields to the runtime once, so a
/// guest polling in a loop does not starve other tasks).
struct ReadyAtOnce;

#[async_trait::async_trait]
impl Pollable for ReadyAtOnce {
    async fn ready(&mut self) {
        tokio::task::yield_now().await;
    }
}

fn ready_at_once(ctx: &mut RunCtx) -> wasmtime::Result<Resource<DynPollable>> {
    let table = ctx.wasi().table;
    let ready = table.push(ReadyAtOnce)?;
    subscribe(table, ready)
}
