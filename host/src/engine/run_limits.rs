//! What one workflow run may use on a host, and how a guest's store is
//! held to it: CPU time per activation (counted at each epoch tick, which
//! is also where a cancellation stops a guest that never calls the host),
//! linear memory, and what the run records in its journal (per activation
//! before it is committed, and in all).
//!
//! An activation is one execution attempt of a run: the guest replays its
//! journal and goes on live until it waits (suspends) or ends.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::{Store, UpdateDeadline};

use crate::manifest::RunSupervisorConfig;

use super::cpu_meter::CpuMeter;
use super::interrupt::Interrupt;
use super::run_ctx::{RunCtx, CANCEL_DELIVERY_GRACE};

/// The limits of one run's guest (from the run supervisor's options).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunLimits {
    /// CPU time one activation may spend (`max_activation_ms`).
    pub max_activation_time: Duration,
    /// Linear memory the guest may grow to, in bytes (`max_memory_mb`).
    pub max_memory: usize,
    /// Events one activation may record before they are committed
    /// (`max_activation_events`).
    pub max_activation_events: usize,
    /// Journal data one activation may record before it is committed, in
    /// bytes of JSON (`max_activation_mb`).
    pub max_activation_bytes: usize,
    /// Events a run's journal may hold (`max_history_events`).
    pub max_history_events: u64,
    /// Core instances, tables and memories the guest may create
    /// (`max_core_instances`, `max_tables`, `max_memories`).
    pub store_shape: StoreShape,
    /// How long a workflow may clean up once a cancellation was delivered
    /// to it (`cancel_cleanup_ms`).
    pub cancel_cleanup: Duration,
}

/// How many core instances, tables and linear memories one workflow guest
/// may create (language runtimes differ: CPython needs 38 core instances,
/// a Rust guest one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreShape {
    /// Core (module) instances.
    pub instances: usize,
    /// Tables.
    pub tables: usize,
    /// Linear memories.
    pub memories: usize,
}

impl Default for RunLimits {
    fn default() -> Self {
        RunLimits::from(&RunSupervisorConfig::default())
    }
}

impl From<&RunSupervisorConfig> for RunLimits {
    fn from(c: &RunSupervisorConfig) -> Self {
        RunLimits {
            max_activation_time: c.max_activation,
            max_memory: c.max_memory,
            max_activation_events: c.max_activation_events,
            max_activation_bytes: c.max_activation_bytes,
            max_history_events: c.max_history_events,
            store_shape: StoreShape { instances: c.max_core_instances, tables: c.max_tables, memories: c.max_memories },
            cancel_cleanup: c.cancel_cleanup,
        }
    }
}

/// A journal limit a run reached: the next step would record past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JournalLimit {
    /// The activation recorded this many events without committing them.
    #[error(
        "the workflow recorded {0} journal events in one activation without waiting; \
         `run_supervisor.max_activation_events` = {0} allows no more"
    )]
    ActivationEvents(usize),
    /// The activation recorded this much journal data (MiB) without
    /// committing it.
    #[error(
        "the workflow recorded {0} MiB of journal data in one activation without waiting; \
         `run_supervisor.max_activation_mb` = {0} allows no more"
    )]
    ActivationMb(usize),
    /// The run's journal holds this many events.
    #[error("the run's journal holds {0} events; `run_supervisor.max_history_events` = {0} allows no more")]
    HistoryEvents(u64),
}

impl JournalLimit {
    /// The manifest key of the limit.
    pub fn key(&self) -> &'static str {
        match self {
            JournalLimit::ActivationEvents(_) => "run_supervisor.max_activation_events",
            JournalLimit::ActivationMb(_) => "run_supervisor.max_activation_mb",
            JournalLimit::HistoryEvents(_) => "run_supervisor.max_history_events",
        }
    }

    /// The limit's value, in the manifest's unit.
    pub fn value(&self) -> u64 {
        match self {
            JournalLimit::ActivationEvents(n) | JournalLimit::ActivationMb(n) => *n as u64,
            JournalLimit::HistoryEvents(n) => *n,
        }
    }
}

impl RunCtx {
    /// Fails with the journal limit the run has reached, if any: checked
    /// before every step the guest records live, so what an activation
    /// holds uncommitted stays within its limits (give or take the one
    /// step that reaches them).
    pub(crate) fn check_journal_limits(&mut self) -> Result<(), Interrupt> {
        let pending = self.pending_bytes;
        if let Some(share) = self.memory.share_mut() {
            if !share.set_journal(pending) {
                let budget = share.budget();
                return Err(Interrupt::MemoryDeferred { used_mb: budget.used() >> 20, limit_mb: budget.limit() >> 20 });
            }
        }
        let limits = &self.env.limits;
        let reached = if self.pending.events.len() >= limits.max_activation_events {
            Some(JournalLimit::ActivationEvents(limits.max_activation_events))
        } else if self.pending_bytes >= limits.max_activation_bytes {
            Some(JournalLimit::ActivationMb(limits.max_activation_bytes >> 20))
        } else if self.history.last_seq() >= 0 && self.history.last_seq() as u64 >= limits.max_history_events {
            Some(JournalLimit::HistoryEvents(limits.max_history_events))
        } else {
            None
        };
        match reached {
            Some(limit) => Err(Interrupt::JournalLimit(limit)),
            None => Ok(()),
        }
    }
}

/// Holds `store`'s guest to the run's limits: its memory (the store's
/// limiter), and at each epoch tick its CPU time and the run's
/// cancellation; between ticks the guest yields to other tasks. Returns
/// the meter of the activation's CPU time: the guest's futures must be
/// polled through it ([`CpuMeter::meter`]).
pub(crate) fn guard(store: &mut Store<RunCtx>) -> Arc<CpuMeter> {
    let meter = CpuMeter::new();
    let budget = store.data().env.limits.max_activation_time;
    store.limiter(|c| &mut c.memory);
    let ticks = meter.clone();
    store.epoch_deadline_callback(move |mut ctx| {
        // A guest that never calls the host is terminated here.
        ctx.data().check_cancel().map_err(Interrupt::trap)?;
        // A cancellation is delivered at the guest's next host call; one
        // that makes none in time (live, past its replay) cannot be told.
        let data = ctx.data_mut();
        if data.cancel_undelivered() && data.history.caught_up() {
            let seen = *data.cancel_seen_at.get_or_insert_with(std::time::Instant::now);
            if seen.elapsed() > CANCEL_DELIVERY_GRACE {
                let why = format!(
                    "the workflow made no host call within {} ms of its cancellation, so it could not be told",
                    CANCEL_DELIVERY_GRACE.as_millis()
                );
                return Err(Interrupt::Terminated(why).trap());
            }
        }
        if ticks.used() > budget {
            return Err(Interrupt::CpuLimit(budget).trap());
        }
        Ok(UpdateDeadline::Yield(1))
    });
    store.set_epoch_deadline(1);
    meter
}

/// The run error for an instantiation the store's shape refused (wasmtime
/// reports "instance count too high", "table count too high" or "memory
/// count too high"), naming the manifest key; `None` for any other error.
pub(crate) fn store_limit(error: &wasmtime::Error, shape: StoreShape) -> Option<crate::RunError> {
    let text = format!("{error:#}");
    let (what, key, allowed) = if text.contains("instance count too high") {
        ("core instances", "max_core_instances", shape.instances)
    } else if text.contains("table count too high") {
        ("tables", "max_tables", shape.tables)
    } else if text.contains("memory count too high") {
        ("linear memories", "max_memories", shape.memories)
    } else {
        return None;
    };
    Some(crate::RunError::store_limit(what, key, allowed, &text))
}
