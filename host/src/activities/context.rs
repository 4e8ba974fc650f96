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

use crate::journal::{RunKey, SharedJournal};

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

/// Where the call's stored heartbeat is read from, on first use.
pub(crate) type HeartbeatSource = Option<(SharedJournal, RunKey, u32)>;

/// The latest heartbeat details known: not looked up yet, or known.
enum Last {
    Unread(HeartbeatSource),
    Known(Option<Value>),
}

struct Inner {
    info: AttemptInfo,
    last: Mutex<Last>,
    beats: watch::Sender<Option<Value>>,
    cancel: watch::Receiver<bool>,
}

/// The context of one activity attempt (cheap to clone).
///
/// ```
/// # use continuum_host::ActivityContext;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let ctx = ActivityContext::detached("resize");
/// assert_eq!(ctx.last_heartbeat().await, None);
/// assert!(!ctx.heartbeat(&serde_json::json!({"done": 3})));
/// assert_eq!(ctx.last_heartbeat().await, Some(serde_json::json!({"done": 3})));
/// assert!(!ctx.is_cancelled());
/// # });
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
    /// A context for `info` whose earlier heartbeat details are `last`
    /// when known (an earlier attempt in this process), else read from
    /// `source` when first asked for; cancelled when `cancel` turns true.
    pub(crate) fn new(
        info: AttemptInfo,
        last: Option<Value>,
        source: HeartbeatSource,
        cancel: watch::Receiver<bool>,
    ) -> (Self, Beats) {
        let (beats, rx) = watch::channel(None);
        let last = match last {
            Some(details) => Last::Known(Some(details)),
            None => Last::Unread(source),
        };
        let inner = Inner { info, last: Mutex::new(last), beats, cancel };
        (Self { inner: Arc::new(inner) }, Beats(rx))
    }

    /// A context outside any run and executor, never cancelled; its
    /// heartbeats go nowhere but [`ActivityContext::last_heartbeat`].
    pub fn detached(activity: &str) -> Self {
        let info = AttemptInfo { activity: activity.to_owned(), attempt: 1, ..AttemptInfo::default() };
        let (_never, cancel) = watch::channel(false);
        Self::new(info, None, None, cancel).0
    }

    /// Who this attempt is.
    pub fn info(&self) -> &AttemptInfo {
        &self.inner.info
    }

    /// The latest heartbeat details of this call: this attempt's own, or
    /// else those of an earlier attempt (looked up in the journal on first
    /// use, so calls that never ask cost nothing).
    pub async fn last_heartbeat(&self) -> Option<Value> {
        let source = match self.inner.last.lock() {
            Ok(mut last) => match &mut *last {
                Last::Known(details) => return details.clone(),
                Last::Unread(source) => source.take(),
            },
            Err(_) => return None,
        };
        let details = match source {
            Some((journal, key, op)) => match journal.heartbeats(&key).await {
                Ok(beats) => beats.into_iter().find(|h| h.op == op).map(|h| h.details),
                Err(e) => {
                    tracing::warn!(instance = %key.instance, run_id = %key.run_id, op, error = %e, "reading the last heartbeat failed");
                    None
                }
            },
            None => None,
        };
        if let Ok(mut last) = self.inner.last.lock() {
            // A heartbeat of this attempt meanwhile is newer.
            if let Last::Unread(_) = &*last {
                *last = Last::Known(details.clone());
            }
            if let Last::Known(d) = &*last {
                return d.clone();
            }
        }
        details
    }

    /// The latest details if known without a lookup (for carrying them to
    /// the next attempt), and whether a lookup found stored ones.
    pub(crate) fn known_heartbeat(&self) -> Option<Value> {
        match self.inner.last.lock().as_deref() {
            Ok(Last::Known(details)) => details.clone(),
            _ => None,
        }
    }

    /// Records progress; the executor stores the latest details durably
    /// (throttled). Returns true when the call has been cancelled.
    pub fn heartbeat(&self, details: &impl Serialize) -> bool {
        let details = serde_json::to_value(details).unwrap_or(Value::Null);
        if let Ok(mut last) = self.inner.last.lock() {
            *last = Last::Known(Some(details.clone()));
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
