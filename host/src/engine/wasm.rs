//! The process-wide wasmtime engine: deterministic configuration for
//! workflows, epoch ticks for fair scheduling and timeouts, and the linkers
//! that give guests the host's imports: workflows get the `host` interface
//! and a deterministic WASI (journaled clocks and randomness, output to the
//! run's log, no files or network: `workflow_wasi.rs`); activity components
//! get WASI p2, sandboxed per attempt by the `WasiCtx` in their
//! [`ActivityCtx`].
//!
//! There are two engines, alike but for what a pool slot keeps when its
//! guest is gone: components that start from a large memory image (Python,
//! JavaScript: `memory_footprint.rs`) run on one that keeps it resident;
//! the others on one that gives it back, so that a host's memory stays
//! what its small guests use.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::component::ResourceTable;
use wasmtime::{Config, Engine, OptLevel};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings;
use super::run_ctx::RunCtx;

/// How often the epoch advances; a guest yields to other tasks at least
/// this often.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Guest instances alive at once in one process (runs executing plus
/// activity attempts plus replay checks).
pub const POOL_INSTANCES: u32 = 2_000;

/// The most linear memory any guest may have.
pub const MAX_GUEST_MEMORY: usize = 256 << 20;

/// Memory a pool slot of the large-image engine keeps resident after its
/// guest is gone (at most;
/// a guest's slot keeps what its memory had grown to). Its contents are
/// copied back from the component's image with `memcpy` when the guest
/// leaves, instead of `madvise` dropping the pages: Python and JavaScript
/// workflows start from an image of 10-20 MB and write a few hundred of
/// its pages per activation (reference counts, the allocator), each of
/// which would otherwise fault back in with a TLB flush on every core, in
/// every activation. (`PAGEMAP_SCAN` resets only the written pages, but
/// gives up after 32 separate regions and drops the rest; these guests
/// write far more.) The copy costs what is kept, written or not: 16 MiB
/// holds CPython's 12 MiB and StarlingMonkey's 9 MiB start; what a guest
/// grows past it is dropped as before.
pub const KEEP_RESIDENT: usize = 16 << 20;

/// Store data of a WASM activity attempt.
pub struct ActivityCtx {
    /// The instance's memory limit.
    pub limits: crate::activities::MemoryCap,
    /// The attempt's context (heartbeats, cancellation).
    pub context: crate::activities::ActivityContext,
    /// The attempt's WASI context, built from the instance's sandbox.
    pub wasi: WasiCtx,
    /// The guest's WASI resources (files, streams, sockets).
    pub table: ResourceTable,
}

impl WasiView for ActivityCtx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// The shared engine and linkers.
pub struct WasmEngine {
    /// The wasmtime engine.
    pub engine: Engine,
    /// Linker for workflows: the `host` interface and the workflow WASI.
    pub workflow_linker: Linker<RunCtx>,
    /// Linker for activity components: WASI p2 (async).
    pub activity_linker: Linker<ActivityCtx>,
    /// What a pool slot keeps resident (0: nothing).
    keep_resident: usize,
}

impl WasmEngine {
    /// The process's engine for small guests, created on first use (with
    /// its epoch ticker).
    pub fn shared() -> Result<Arc<WasmEngine>, String> {
        static ENGINE: OnceLock<Result<Arc<WasmEngine>, String>> = OnceLock::new();
        ENGINE.get_or_init(|| WasmEngine::new(0).map(Arc::new)).clone()
    }

    /// The process's engine for components that start from a large memory
    /// image, created on first use.
    fn shared_large() -> Result<Arc<WasmEngine>, String> {
        static ENGINE: OnceLock<Result<Arc<WasmEngine>, String>> = OnceLock::new();
        ENGINE.get_or_init(|| WasmEngine::new(KEEP_RESIDENT).map(Arc::new)).clone()
    }

    /// The engine that runs the component `bytes`: this one, or the
    /// large-image engine when the component starts with a memory of
    /// [`memory_footprint::LARGE_IMAGE`] or more.
    pub fn for_component(self: &Arc<Self>, bytes: &[u8]) -> Result<Arc<WasmEngine>, String> {
        if self.keep_resident == 0 && super::memory_footprint::is_large(bytes) {
            WasmEngine::shared_large()
        } else {
            Ok(self.clone())
        }
    }

    fn new(keep_resident: usize) -> Result<WasmEngine, String> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.cranelift_opt_level(OptLevel::Speed);
        // Determinism: the same inputs give the same results on every host.
        config.cranelift_nan_canonicalization(true);
        config.relaxed_simd_deterministic(true);
        config.epoch_interruption(true);
        // Guests are instantiated per run attempt and per activity attempt:
        // reuse memory slots instead of mapping and unmapping fresh linear
        // memories each time (mmap/munmap serialize threads in the kernel).
        if std::env::var_os("CONTINUUM_ON_DEMAND_ALLOCATOR").is_none() {
            let mut pool = wasmtime::PoolingAllocationConfig::new();
            pool.total_component_instances(POOL_INSTANCES);
            pool.total_core_instances(POOL_INSTANCES * 4);
            pool.total_memories(POOL_INSTANCES * 2);
            pool.total_tables(POOL_INSTANCES * 2);
            pool.max_memory_size(MAX_GUEST_MEMORY);
            pool.linear_memory_keep_resident(keep_resident);
            pool.table_keep_resident(keep_resident / 16);
            config.memory_reservation(MAX_GUEST_MEMORY as u64);
            config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = Engine::new(&config).map_err(|e| format!("cannot configure wasmtime: {e}"))?;
        let mut workflow_linker = Linker::new(&engine);
        bindings::workflow::Workflow::add_to_linker::<RunCtx, HasSelf<RunCtx>>(
            &mut workflow_linker,
            |ctx| ctx,
        )
        .map_err(|e| format!("cannot link the workflow host imports: {e}"))?;
        super::workflow_wasi::add_to_linker(&mut workflow_linker)
            .map_err(|e| format!("cannot link the workflow WASI: {e}"))?;
        let mut activity_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut activity_linker)
            .map_err(|e| format!("cannot link WASI for activity components: {e}"))?;
        bindings::activity::continuum::workflow::activity_context::add_to_linker::<ActivityCtx, HasSelf<ActivityCtx>>(
            &mut activity_linker,
            |ctx| ctx,
        )
        .map_err(|e| format!("cannot link the activity context: {e}"))?;
        let weak = engine.weak();
        std::thread::Builder::new()
            .name("continuum-epoch".into())
            .spawn(move || loop {
                std::thread::sleep(EPOCH_TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => return,
                }
            })
            .map_err(|e| format!("cannot start the epoch thread: {e}"))?;
        Ok(WasmEngine { engine, workflow_linker, activity_linker, keep_resident })
    }
}
