//! WASM activity components: each attempt runs in a fresh store of the
//! component, which exports `activities()` and `invoke(name, input)`.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use wasmtime::{Store, StoreLimitsBuilder};

use crate::engine::bindings::activity::{ActivityPre, Activity as ActivityWorld};
use crate::engine::{ActivityCtx, WasmEngine};
use crate::modules::{read_component, CompileCache, ModuleError};

use super::registry::{Activity, ActivityError, ActivityFuture, ActivityRegistry};

/// Memory one activity instance may grow to.
const ACTIVITY_MEMORY_LIMIT: usize = 256 << 20;

struct WasmActivity {
    engine: Arc<WasmEngine>,
    pre: ActivityPre<ActivityCtx>,
    name: String,
}

fn new_store(engine: &WasmEngine) -> Store<ActivityCtx> {
    let limits = StoreLimitsBuilder::new().memory_size(ACTIVITY_MEMORY_LIMIT).build();
    let mut store = Store::new(&engine.engine, ActivityCtx { limits });
    store.limiter(|c| &mut c.limits);
    store.epoch_deadline_async_yield_and_update(1);
    store
}

impl Activity for WasmActivity {
    fn invoke(&self, input: Value) -> ActivityFuture {
        let engine = self.engine.clone();
        let pre = self.pre.clone();
        let name = self.name.clone();
        Box::pin(async move {
            let mut store = new_store(&engine);
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
/// exports.
pub async fn load_activity_component(
    engine: &Arc<WasmEngine>,
    cache: &CompileCache,
    path: &Path,
) -> Result<ActivityRegistry, ModuleError> {
    let bytes = read_component(path)?;
    let (_, component) = cache.component(&engine.engine, path, &bytes)?;
    let wrong = |message: String| ModuleError::WrongWorld { path: path.into(), world: "activity", message };
    let instance_pre = engine
        .activity_linker
        .instantiate_pre(&component)
        .map_err(|e| wrong(format!("{e:#} (activity components get no imports in this version)")))?;
    let pre = ActivityPre::new(instance_pre).map_err(|e| wrong(format!("{e:#}")))?;
    let mut store = new_store(engine);
    let instance: ActivityWorld = pre.instantiate_async(&mut store).await.map_err(|e| wrong(format!("{e:#}")))?;
    let names = instance
        .call_activities(&mut store)
        .await
        .map_err(|e| wrong(format!("`activities()` trapped: {e:#}")))?;
    let mut registry = ActivityRegistry::new();
    for name in names {
        registry.insert(name.clone(), Arc::new(WasmActivity { engine: engine.clone(), pre: pre.clone(), name }));
    }
    Ok(registry)
}
