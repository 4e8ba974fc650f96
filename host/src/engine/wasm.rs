//! The process-wide wasmtime engine: deterministic configuration for
//! workflows, epoch ticks for fair scheduling and timeouts, and the linkers
//! that give guests the host's imports (and nothing else: no WASI).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, OptLevel};

use super::bindings;
use super::run_ctx::RunCtx;

/// How often the epoch advances; a guest yields to other tasks at least
/// this often.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Store data of a WASM activity attempt.
pub struct ActivityCtx {
    /// Memory limits.
    pub limits: wasmtime::StoreLimits,
}

/// The shared engine and linkers.
pub struct WasmEngine {
    /// The wasmtime engine.
    pub engine: Engine,
    /// Linker for workflows: the `host` interface only.
    pub workflow_linker: Linker<RunCtx>,
    /// Linker for activity components: nothing imported (no WASI yet).
    pub activity_linker: Linker<ActivityCtx>,
}

impl WasmEngine {
    /// The process's engine, created on first use (with its epoch ticker).
    pub fn shared() -> Result<Arc<WasmEngine>, String> {
        static ENGINE: OnceLock<Result<Arc<WasmEngine>, String>> = OnceLock::new();
        ENGINE.get_or_init(|| WasmEngine::new().map(Arc::new)).clone()
    }

    fn new() -> Result<WasmEngine, String> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.cranelift_opt_level(OptLevel::Speed);
        // Determinism: the same inputs give the same results on every host.
        config.cranelift_nan_canonicalization(true);
        config.relaxed_simd_deterministic(true);
        config.epoch_interruption(true);
        let engine = Engine::new(&config).map_err(|e| format!("cannot configure wasmtime: {e}"))?;
        let mut workflow_linker = Linker::new(&engine);
        bindings::workflow::Workflow::add_to_linker::<RunCtx, HasSelf<RunCtx>>(
            &mut workflow_linker,
            |ctx| ctx,
        )
        .map_err(|e| format!("cannot link the workflow host imports: {e}"))?;
        let activity_linker = Linker::new(&engine);
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
        Ok(WasmEngine { engine, workflow_linker, activity_linker })
    }
}
