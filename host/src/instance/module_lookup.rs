//! Finding the module version a run recorded, telling apart "this instance
//! cannot run that version" (the run is parked until it is deployed) from a
//! failure that may pass, such as the database being unreachable (retried,
//! then left for recovery; never parked).

use std::sync::Arc;
use std::time::Duration;

use crate::modules::{ModuleError, ModuleRegistry, WorkflowModule};
use crate::Error;

/// How many times a failure that may pass is retried before the run is
/// left for recovery.
const TRIES: u32 = 4;
/// The wait after the first failure; doubled after each.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// The result of looking up a run's module version.
#[derive(Debug)]
pub(crate) enum ModuleLookup {
    /// The compiled module.
    Found(Arc<WorkflowModule>),
    /// The instance has no such version, or its stored bytes cannot be
    /// compiled: the run must be parked, never run on other code.
    Unavailable(String),
    /// Loading failed for a reason that may pass (the database, the engine
    /// of this process): the run is left for a later attempt.
    Transient(String),
}

/// Classifies the result of [`ModuleRegistry::module`].
pub(crate) fn classify(result: Result<Option<Arc<WorkflowModule>>, Error>, hash: &str, workflow: &str, instance: &str) -> ModuleLookup {
    match result {
        Ok(Some(m)) => ModuleLookup::Found(m),
        Ok(None) => ModuleLookup::Unavailable(format!(
            "module version {hash} of workflow `{workflow}` is not deployed in instance `{instance}`"
        )),
        Err(Error::Module(
            e @ (ModuleError::Compile { .. } | ModuleError::NotWasm { .. } | ModuleError::CoreModule { .. } | ModuleError::WrongWorld { .. }),
        )) => ModuleLookup::Unavailable(format!("module version {hash} of workflow `{workflow}` cannot be loaded: {e}")),
        Err(e) => ModuleLookup::Transient(format!("module version {hash} of workflow `{workflow}` could not be read: {e}")),
    }
}

/// Looks the version up, retrying failures that may pass with a growing
/// wait; the last result is returned.
pub(crate) async fn find(modules: &ModuleRegistry, hash: &str, workflow: &str, instance: &str) -> ModuleLookup {
    let mut wait = FIRST_BACKOFF;
    let mut tries = 1;
    loop {
        let found = classify(modules.module(hash).await, hash, workflow, instance);
        match found {
            ModuleLookup::Transient(ref why) if tries < TRIES => {
                tracing::debug!(instance, workflow, module_hash = hash, reason = %why, "loading the module failed; retrying");
                tokio::time::sleep(wait).await;
                wait *= 2;
                tries += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::JournalError;

    #[test]
    fn an_unknown_or_uncompilable_version_parks_and_a_database_error_does_not() {
        let unknown = classify(Ok(None), "h1", "wf", "default");
        assert!(matches!(&unknown, ModuleLookup::Unavailable(why) if why.contains("not deployed")), "{unknown:?}");
        let bad = Error::Module(ModuleError::Compile { path: "<db>".into(), message: "stored bytes hash to h2".into() });
        assert!(matches!(classify(Err(bad), "h1", "wf", "default"), ModuleLookup::Unavailable(_)));
        let db = Error::from(JournalError::Database(sqlx::Error::PoolTimedOut));
        assert!(matches!(classify(Err(db), "h1", "wf", "default"), ModuleLookup::Transient(_)));
        let engine = Error::Module(ModuleError::Engine("no memory".into()));
        assert!(matches!(classify(Err(engine), "h1", "wf", "default"), ModuleLookup::Transient(_)));
    }

    #[tokio::test]
    async fn a_closed_database_is_retried_and_never_taken_for_an_unknown_version() {
        let dir = std::env::temp_dir().join(format!("continuum-lookup-{}", uuid::Uuid::new_v4().simple()));
        let url = format!("sqlite:{}", dir.join("journal.db").display());
        let journal = Arc::new(crate::journal::SqliteJournal::connect(&url).await.expect("open"));
        crate::journal::Journal::migrate(journal.as_ref()).await.expect("migrate");
        let cache = crate::modules::CompileCache::new("default", None);
        let modules = ModuleRegistry::load("default".into(), journal.clone(), None, cache, &[], false).await.expect("registry");
        let unknown = find(&modules, "h1", "wf", "default").await;
        assert!(matches!(unknown, ModuleLookup::Unavailable(_)), "{unknown:?}");

        journal.close().await;
        let started = std::time::Instant::now();
        let down = find(&modules, "h1", "wf", "default").await;
        assert!(matches!(&down, ModuleLookup::Transient(why) if why.contains("could not be read")), "{down:?}");
        assert!(started.elapsed() >= FIRST_BACKOFF * 7, "retried with backoff: {:?}", started.elapsed());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
