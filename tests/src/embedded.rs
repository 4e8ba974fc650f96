//! One-instance embedded hosts: a `Continuum` with the instance `default`
//! built through the embedding API and started.

use continuum_host::ActivityRegistry;
use continuum_host::{ChildrenConfig, Instance};
use continuum_host::Continuum;

use crate::{cache_dir, component};

/// Builds the instance `default` on `database` with the workflow
/// `workflow` (its component is the example of that name with `-` as `_`,
/// e.g. `order-flow` -> `order_flow.wasm`), the native `activities` and
/// the `children`; registers it in a new `Continuum` and starts it.
pub async fn embedded(database: &str, workflow: &str, activities: ActivityRegistry, children: ChildrenConfig) -> Continuum {
    let instance = Instance::builder("default")
        .database(database)
        .workflow(workflow, component(&workflow.replace('-', "_")))
        .activities(activities)
        .children(children)
        .cache_dir(cache_dir())
        .build()
        .await
        .expect("build the instance");
    let mut c = Continuum::new();
    c.register(instance).expect("register");
    c.start_all();
    c
}
