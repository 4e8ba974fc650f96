//! WASM activity components: each attempt runs in a fresh store of the
//! component, which exports `activities()` and `invoke(name, input)`, with a
//! fresh WASI context built from the instance's [`Sandbox`].

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use wasmtime::component::ResourceTable;
use wasmtime::{Store, StoreLimitsBuilder};
use wasmtime_wasi::WasiCtx;

use crate::engine::bindings::activity::{ActivityPre, Activity as ActivityWorld};
use crate::engine::{ActivityCtx, WasmEngine};
use crate::modules::{read_component, CompileCache, ModuleError};

use super::registry::{Activity, ActivityError, ActivityFuture, ActivityRegistry};
use super::sandbox::Sandbox;

/// Memory one activity instance may grow to.
const ACTIVITY_MEMORY_LIMIT: usize = 256 << 20;

struct WasmActivity {
    engine: Arc<WasmEngine>,
    pre: ActivityPre<ActivityCtx>,
    name: String,
    sandbox: Sandbox,
}

fn new_store(engine: &WasmEngine, wasi: WasiCtx) -> Store<ActivityCtx> {
    let limits = StoreLimitsBuilder::new().memory_size(ACTIVITY_MEMORY_LIMIT).build();
    let mut store = Store::new(&engine.engine, ActivityCtx { limits, wasi, table: ResourceTable::new() });
    store.limiter(|c| &mut c.limits);
    store.epoch_deadline_async_yield_and_update(1);
    store
}

impl Activity for WasmActivity {
    fn invoke(&self, input: Value) -> ActivityFuture {
        let engine = self.engine.clone();
        let pre = self.pre.clone();
        let name = self.name.clone();
        let wasi = self.sandbox.wasi_ctx();
        Box::pin(async move {
            let wasi = wasi.map_err(|e| ActivityError::retryable(format!("activity `{name}`: {e}")))?;
            let mut store = new_store(&engine, wasi);
            let bytes = serde_json::to_vec(&input)
                .map_err(|e| ActivityError::fatal(format!("activity input is not JSON: {e}")))?;
            let instance = pre
                .instantiate_async(&mut store)
                .await
                .map_err(|e| ActivityError::retryable(format!("cannot instantiate the activity component: {e:#}")))?;
            let result = instance
                .call_invoke(&mut store, &name, &bytes)
                .await
                .map_err(|e| ActivityError::retryable(format!("activity `{name}` trapped: {e:#}")))?;
            match result {
                Ok(out) => serde_json::from_slice(&out)
                    .map_err(|e| ActivityError::fatal(format!("activity `{name}` returned invalid JSON: {e}"))),
                Err(e) => Err(ActivityError { message: e.message, retryable: e.retryable }),
            }
        })
    }
}

/// Loads an activity component and returns a registry of the activities it
/// exports; every attempt of them runs with WASI as `sandbox` grants.
pub async fn load_activity_component(
    engine: &Arc<WasmEngine>,
    cache: &CompileCache,
    path: &Path,
    sandbox: &Sandbox,
) -> Result<ActivityRegistry, ModuleError> {
    let bytes = read_component(path)?;
    let (_, component) = cache.component(&engine.engine, path, &bytes)?;
    let wrong = |message: String| ModuleError::WrongWorld { path: path.into(), world: "activity", message };
    let instance_pre = engine
        .activity_linker
        .instantiate_pre(&component)
        .map_err(|e| wrong(format!("{e:#} (activity components may import only WASI 0.2)")))?;
    let pre = ActivityPre::new(instance_pre).map_err(|e| wrong(format!("{e:#}")))?;
    // Asking for the names needs no capability at all.
    let mut store = new_store(engine, Sandbox::none().wasi_ctx().map_err(|e| wrong(e.to_string()))?);
    let instance: ActivityWorld = pre.instantiate_async(&mut store).await.map_err(|e| wrong(format!("{e:#}")))?;
    let names = instance
        .call_activities(&mut store)
        .await
        .map_err(|e| wrong(format!("`activities()` trapped: {e:#}")))?;
    let mut registry = ActivityRegistry::new();
    for name in names {
        let activity = WasmActivity { engine: engine.clone(), pre: pre.clone(), name: name.clone(), sandbox: sandbox.clone() };
        registry.insert(name, Arc::new(activity));
    }
    Ok(registry)
}
