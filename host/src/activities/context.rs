//! What one activity attempt knows about itself and can tell the host: who
//! it is, the latest heartbeat of its call (from an earlier attempt, even
//! one on a host that crashed), heartbeats of its own, and cancellation.
//!
//! Native activities get an [`ActivityContext`] through
//! [`ActivityRegistry::register_with_context`](super::ActivityRegistry::register_with_context);
//! WASM activities reach the same object through the `activity-context`
//! interface of the `activity` world.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;

/// The attempt an activity runs as.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttemptInfo {
    /// The instance.
    pub instance: String,
    /// The calling run (empty when the activity is called outside a run).
    pub run_id: String,
    /// The activity's name.
    pub activity: String,
    /// 1 for the first attempt of the call.
    pub attempt: u32,
}

struct Inner {
    info: AttemptInfo,
    last: Mutex<Option<Value>>,
    beats: watch::Sender<Option<Value>>,
    cancel: watch::Receiver<bool>,
}

/// The context of one activity attempt (cheap to clone).
///
/// ```
/// # use continuum_host::activities::ActivityContext;
/// let ctx = ActivityContext::detached("resize");
/// assert!(!ctx.heartbeat(&serde_json::json!({"done": 3})));
/// assert_eq!(ctx.last_heartbeat(), Some(serde_json::json!({"done": 3})));
/// assert!(!ctx.is_cancelled());
/// ```
#[derive(Clone)]
pub struct ActivityContext {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ActivityContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivityContext").field("info", &self.inner.info).finish_non_exhaustive()
    }
}

/// The executor's side of an attempt's context: the heartbeats it sends.
pub(crate) struct Beats(pub watch::Receiver<Option<Value>>);

impl ActivityContext {
    /// A context for `info`, starting from the heartbeat details `last`
    /// (of an earlier attempt), cancelled when `cancel` turns true.
    pub(crate) fn new(info: AttemptInfo, last: Option<Value>, cancel: watch::Receiver<bool>) -> (Self, Beats) {
        let (beats, rx) = watch::channel(None);
        let inner = Inner { info, last: Mutex::new(last), beats, cancel };
        (Self { inner: Arc::new(inner) }, Beats(rx))
    }

    /// A context outside any run and executor, never cancelled; its
    /// heartbeats go nowhere but [`ActivityContext::last_heartbeat`].
    pub fn detached(activity: &str) -> Self {
        let info = AttemptInfo { activity: activity.to_owned(), attempt: 1, ..AttemptInfo::default() };
        let (_never, cancel) = watch::channel(false);
        Self::new(info, None, cancel).0
    }

    /// Who this attempt is.
    pub fn info(&self) -> &AttemptInfo {
        &self.inner.info
    }

    /// The latest heartbeat details of this call: this attempt's own, or
    /// else those of an earlier attempt.
    pub fn last_heartbeat(&self) -> Option<Value> {
        self.inner.last.lock().map(|l| l.clone()).unwrap_or(None)
    }

    /// Records progress; the executor stores the latest details durably
    /// (throttled). Returns true when the call has been cancelled.
    pub fn heartbeat(&self, details: &impl Serialize) -> bool {
        let details = serde_json::to_value(details).unwrap_or(Value::Null);
        if let Ok(mut last) = self.inner.last.lock() {
            *last = Some(details.clone());
        }
        self.inner.beats.send_replace(Some(details));
        self.is_cancelled()
    }

    /// True once the call has been cancelled: its run was cancelled, or
    /// this host lost the task. The activity should stop soon; the
    /// executor stops it after a grace period.
    pub fn is_cancelled(&self) -> bool {
        *self.inner.cancel.borrow()
    }

    /// Completes when the call is cancelled (never, for a detached one).
    pub async fn cancelled(&self) {
        let mut cancel = self.inner.cancel.clone();
        if cancel.wait_for(|c| *c).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
