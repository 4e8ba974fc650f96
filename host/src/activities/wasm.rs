//! WASM activity components: each attempt runs in a fresh store of the
//! component, which exports `activities()` and `invoke(name, input)`, with a
//! fresh WASI context built from the instance's [`Sandbox`], the instance's
//! memory cap, and the attempt's [`ActivityContext`] behind the
//! `activity-context` import.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store};
use wasmtime_wasi::WasiCtx;

use crate::engine::bindings::activity::continuum::workflow::activity_context;
use crate::engine::bindings::activity::{ActivityPre, Activity as ActivityWorld};
use crate::engine::{ActivityCtx, WasmEngine};
use crate::modules::{foreign_message, read_component, CompileCache, ModuleError};

use super::context::ActivityContext;
use super::memory_cap::MemoryCap;
use super::registry::{Activity, ActivityError, ActivityFuture, ActivityRegistry};
use super::sandbox::Sandbox;

struct WasmActivity {
    pre: ActivityPre<ActivityCtx>,
    name: String,
    sandbox: Sandbox,
    max_memory: usize,
}

fn new_store(engine: &Engine, wasi: WasiCtx, max_memory: usize, context: ActivityContext) -> Store<ActivityCtx> {
    let data = ActivityCtx { limits: MemoryCap::new(max_memory), context, wasi, table: ResourceTable::new() };
    let mut store = Store::new(engine, data);
    store.limiter(|c| &mut c.limits);
    // Yield to the scheduler at every epoch tick: a guest that loops
    // forever still lets its timeout (and everything else) run.
    store.epoch_deadline_async_yield_and_update(1);
    store
}

impl activity_context::Host for ActivityCtx {
    async fn info(&mut self) -> activity_context::AttemptInfo {
        let info = self.context.info();
        activity_context::AttemptInfo {
            instance: info.instance.clone(),
            run_id: info.run_id.clone(),
            activity: info.activity.clone(),
            attempt: info.attempt,
        }
    }

    async fn last_heartbeat(&mut self) -> Option<Vec<u8>> {
        self.context.last_heartbeat().await.map(|d| d.to_string().into_bytes())
    }

    async fn heartbeat(&mut self, details: Vec<u8>) -> bool {
        // Details that are not JSON are kept as a JSON string.
        let details = serde_json::from_slice::<Value>(&details)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&details).into_owned()));
        self.context.heartbeat(&details)
    }

    async fn is_cancelled(&mut self) -> bool {
        self.context.is_cancelled()
    }
}

impl Activity for WasmActivity {
    fn invoke(&self, input: Value, ctx: ActivityContext) -> ActivityFuture {
        let pre = self.pre.clone();
        let name = self.name.clone();
        let wasi = self.sandbox.wasi_ctx();
        let max_memory = self.max_memory;
        Box::pin(async move {
            let wasi = wasi.map_err(|e| ActivityError::retryable(format!("activity `{name}`: {e}")))?;
            let mut store = new_store(pre.engine(), wasi, max_memory, ctx);
            let bytes = serde_json::to_vec(&input)
                .map_err(|e| ActivityError::non_retryable(format!("activity input is not JSON: {e}")))?;
            let instance = pre
                .instantiate_async(&mut store)
                .await
                .map_err(|e| ActivityError::retryable(format!("cannot instantiate the activity component: {e:#}")))?;
            let result = match instance.call_invoke(&mut store, &name, &bytes).await {
                Ok(r) => r,
                Err(e) if store.data().limits.exceeded().is_some() => {
                    // Growing again would hit the same limit: no retry.
                    let limit = store.data().limits.limit() >> 20;
                    return Err(ActivityError::non_retryable(format!(
                        "activity `{name}` was stopped: it exceeded the instance's memory limit of {limit} MiB ({e:#})"
                    )));
                }
                Err(e) => return Err(ActivityError::retryable(format!("activity `{name}` trapped: {e:#}"))),
            };
            match result {
                Ok(out) => serde_json::from_slice(&out)
                    .map_err(|e| ActivityError::non_retryable(format!("activity `{name}` returned invalid JSON: {e}"))),
                Err(e) => Err(ActivityError { message: e.message, retryable: e.retryable, code: e.code }),
            }
        })
    }
}

/// Reads, compiles and links an activity component against the
/// `activity` world (WASI 0.2 and `activity-context` imported, the
/// activity interface exported), without running it: what checks an
/// activity file where its activities are not served.
pub(crate) fn link_activity_component(
    engine: &Arc<WasmEngine>,
    cache: &CompileCache,
    path: &Path,
) -> Result<ActivityPre<ActivityCtx>, ModuleError> {
    let bytes = read_component(path)?;
    let engine = engine.for_component(&bytes).map_err(ModuleError::Engine)?;
    let (hash, component, source) = cache.component_from(&engine.engine, path, &bytes)?;
    let wrong = |message: String| ModuleError::WrongWorld { path: path.into(), world: "activity", message };
    let instance_pre = engine
        .activity_linker
        .instantiate_pre(&component)
        .map_err(|e| wrong(format!("{} (activity components may import only WASI 0.2)", foreign_message(&e))))?;
    let pre = ActivityPre::new(instance_pre).map_err(|e| wrong(foreign_message(&e)))?;
    cache.log_ready(source, "activity component", &hash, path);
    Ok(pre)
}

/// Loads an activity component and returns a registry of the activities it
/// exports; every attempt of them runs with WASI as `sandbox` grants.
/// Each attempt's linear memory is capped at `max_memory` bytes.
pub async fn load_activity_component(
    engine: &Arc<WasmEngine>,
    cache: &CompileCache,
    path: &Path,
    sandbox: &Sandbox,
    max_memory: usize,
) -> Result<ActivityRegistry, ModuleError> {
    let pre = link_activity_component(engine, cache, path)?;
    let wrong = |message: String| ModuleError::WrongWorld { path: path.into(), world: "activity", message };
    // Asking for the names needs no capability at all.
    let wasi = Sandbox::none().wasi_ctx().map_err(|e| wrong(e.to_string()))?;
    let mut store = new_store(pre.engine(), wasi, max_memory, ActivityContext::detached("activities"));
    let instance: ActivityWorld = pre.instantiate_async(&mut store).await.map_err(|e| wrong(foreign_message(&e)))?;
    let names = instance
        .call_activities(&mut store)
        .await
        .map_err(|e| wrong(format!("`activities()` trapped: {}", foreign_message(&e))))?;
    let mut registry = ActivityRegistry::new();
    for name in names {
        let activity = WasmActivity {
            pre: pre.clone(),
            name: name.clone(),
            sandbox: sandbox.clone(),
            max_memory,
        };
        registry.insert(name, Arc::new(activity));
    }
    Ok(registry)
}
