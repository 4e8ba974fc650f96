//! The activities an instance can execute: native Rust functions registered
//! through the embedding API, and WASM activity components from the
//! manifest.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::context::ActivityContext;

/// An activity's own failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ActivityError {
    /// Description.
    pub message: String,
    /// When false, no further attempt is made.
    pub retryable: bool,
    /// A machine-readable code the workflow sees with the failure; a retry
    /// policy may list codes it never retries.
    pub code: Option<String>,
}

impl ActivityError {
    /// A failure worth retrying.
    pub fn retryable(message: impl Into<String>) -> Self {
        Self { message: message.into(), retryable: true, code: None }
    }

    /// A failure no retry can fix: no further attempt is made (the name
    /// the SDK's `ActivityError` uses too).
    pub fn non_retryable(message: impl Into<String>) -> Self {
        Self { message: message.into(), retryable: false, code: None }
    }

    /// Gives the failure a machine-readable code.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }
}

/// The future an activity returns.
pub type ActivityFuture = Pin<Box<dyn Future<Output = Result<Value, ActivityError>> + Send>>;

/// Something that can execute one activity attempt.
pub trait Activity: Send + Sync + 'static {
    /// Runs one attempt with a JSON input, in the attempt's context
    /// (heartbeats, cancellation).
    fn invoke(&self, input: Value, ctx: ActivityContext) -> ActivityFuture;
}

struct FnActivity<F>(F);

impl<F, Fut> Activity for FnActivity<F>
where
    F: Fn(Value, ActivityContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, ActivityError>> + Send + 'static,
{
    fn invoke(&self, input: Value, ctx: ActivityContext) -> ActivityFuture {
        Box::pin((self.0)(input, ctx))
    }
}

/// Activities by name.
#[derive(Clone, Default)]
pub struct ActivityRegistry {
    by_name: HashMap<String, Arc<dyn Activity>>,
}

impl ActivityRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers an activity object under a name (replacing any previous).
    pub fn insert(&mut self, name: impl Into<String>, activity: Arc<dyn Activity>) {
        self.by_name.insert(name.into(), activity);
    }

    /// Registers a native function taking and returning JSON.
    ///
    /// ```
    /// # use continuum_host::ActivityRegistry;
    /// let mut reg = ActivityRegistry::new();
    /// reg.register_json("echo", |input| async move { Ok(input) });
    /// assert!(reg.contains("echo"));
    /// ```
    pub fn register_json<F, Fut>(&mut self, name: impl Into<String>, f: F)
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, ActivityError>> + Send + 'static,
    {
        self.insert(name, Arc::new(FnActivity(move |input, _ctx| f(input))));
    }

    /// Registers a native function with typed (serde) input and output.
    ///
    /// ```
    /// # use continuum_host::{ActivityError, ActivityRegistry};
    /// let mut reg = ActivityRegistry::new();
    /// reg.register("double", |n: u64| async move { Ok::<_, ActivityError>(n * 2) });
    /// ```
    pub fn register<I, O, F, Fut>(&mut self, name: impl Into<String>, f: F)
    where
        I: DeserializeOwned + Send + 'static,
        O: Serialize + Send + 'static,
        F: Fn(I) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, ActivityError>> + Send + 'static,
    {
        let f = Arc::new(f);
        self.register_json(name, move |input: Value| {
            let f = f.clone();
            async move {
                let input: I = serde_json::from_value(input)
                    .map_err(|e| ActivityError::non_retryable(format!("bad activity input: {e}")))?;
                let out = f(input).await?;
                serde_json::to_value(out)
                    .map_err(|e| ActivityError::non_retryable(format!("activity output is not JSON: {e}")))
            }
        });
    }

    /// Registers a native function with typed (serde) input and output
    /// that also gets its attempt's [`ActivityContext`]: heartbeats with
    /// details a later attempt resumes from, and cancellation.
    ///
    /// ```
    /// # use continuum_host::{ActivityContext, ActivityError, ActivityRegistry};
    /// let mut reg = ActivityRegistry::new();
    /// reg.register_with_context("count", |to: u64, ctx: ActivityContext| async move {
    ///     let from = ctx.last_heartbeat().await.and_then(|d| d.as_u64()).unwrap_or(0);
    ///     for i in from..to {
    ///         if ctx.heartbeat(&i) {
    ///             return Err(ActivityError::non_retryable("cancelled"));
    ///         }
    ///     }
    ///     Ok::<_, ActivityError>(to)
    /// });
    /// ```
    pub fn register_with_context<I, O, F, Fut>(&mut self, name: impl Into<String>, f: F)
    where
        I: DeserializeOwned + Send + 'static,
        O: Serialize + Send + 'static,
        F: Fn(I, ActivityContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, ActivityError>> + Send + 'static,
    {
        let f = Arc::new(f);
        let activity = FnActivity(move |input: Value, ctx: ActivityContext| {
            let f = f.clone();
            async move {
                let input: I = serde_json::from_value(input)
                    .map_err(|e| ActivityError::non_retryable(format!("bad activity input: {e}")))?;
                let out = f(input, ctx).await?;
                serde_json::to_value(out)
                    .map_err(|e| ActivityError::non_retryable(format!("activity output is not JSON: {e}")))
            }
        });
        self.insert(name, Arc::new(activity));
    }

    /// True if an activity of that name is registered.
    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// The activity of that name.
    pub fn get(&self, name: &str) -> Option<Arc<dyn Activity>> {
        self.by_name.get(name).cloned()
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.by_name.keys().cloned().collect();
        names.sort();
        names
    }

    /// Adds every activity of another registry.
    pub fn extend(&mut self, other: ActivityRegistry) {
        self.by_name.extend(other.by_name);
    }
}
