//! The memory limit of one WASM guest (an activity attempt, or a workflow
//! run's activation): a store limiter that refuses to grow linear memory
//! past the instance's `max_memory_mb` (the activity supervisor's or the
//! run supervisor's) and remembers that it did, so the guest is reported as
//! stopped for its memory rather than as an anonymous trap. A workflow
//! guest's growth is also taken from its instance's
//! [`MemoryBudget`](crate::engine::MemoryBudget) when it has one.

use wasmtime::ResourceLimiter;

use crate::engine::BudgetShare;

/// Tables may hold this many elements (function references).
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// Caps a guest's linear memory at `limit` bytes.
#[derive(Debug)]
pub struct MemoryCap {
    limit: usize,
    exceeded: Option<usize>,
    /// The guest's share of its instance's budget, if it is held to one.
    share: Option<BudgetShare>,
    /// Core instances, tables and memories the store may hold (wasmtime's
    /// defaults unless [`with_shape`](Self::with_shape) sets them).
    shape: (usize, usize, usize),
}

impl MemoryCap {
    /// A cap of `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self { limit, exceeded: None, share: None, shape: (10_000, 10_000, 10_000) }
    }

    /// The same cap, growth also taken from `share`'s budget.
    pub(crate) fn with_budget(self, share: BudgetShare) -> Self {
        Self { share: Some(share), ..self }
    }

    /// The guest's share of its instance's budget, if it is held to one.
    pub(crate) fn share_mut(&mut self) -> Option<&mut BudgetShare> {
        self.share.as_mut()
    }

    /// Whether the instance's budget refused the guest something.
    pub fn budget_refused(&self) -> bool {
        self.share.as_ref().is_some_and(BudgetShare::refused)
    }

    /// The same cap, with at most `instances` core instances, `tables`
    /// tables and `memories` linear memories in the store.
    pub fn with_shape(self, instances: usize, tables: usize, memories: usize) -> Self {
        Self { shape: (instances, tables, memories), ..self }
    }

    /// The cap, in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The size the guest asked to grow to past the cap, if it did.
    pub fn exceeded(&self) -> Option<usize> {
        self.exceeded
    }
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.exceeded = Some(desired);
            // A trap, not a failed `memory.grow`: the guest is stopped
            // here instead of running on into its own out-of-memory path.
            return Err(wasmtime::Error::msg(format!(
                "linear memory would grow to {} MiB, past the instance's limit of {} MiB",
                desired >> 20,
                self.limit >> 20
            )));
        }
        if let Some(share) = self.share.as_mut() {
            if !share.grow_memory(desired.saturating_sub(current)) {
                let budget = share.budget();
                return Err(wasmtime::Error::msg(format!(
                    "the instance's workflow guests hold {} MiB of `run_supervisor.max_guests_memory_mb` = {} MiB; \
                     this activation is deferred",
                    budget.used() >> 20,
                    budget.limit() >> 20
                )));
            }
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.shape.0
    }

    fn tables(&self) -> usize {
        self.shape.1
    }

    fn memories(&self) -> usize {
        self.shape.2
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
