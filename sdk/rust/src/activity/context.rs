//! The attempt's context, over the `activity-context` import: who the
//! attempt is, heartbeats with details a later attempt resumes from (the
//! host keeps them across retries and host crashes), and cancellation.
//!
//! ```no_run
//! use continuum_sdk::prelude::*;
//! use continuum_sdk::activity;
//! use std::time::Duration;
//!
//! #[derive(Serialize, Deserialize, Default)]
//! struct Progress { done: u32 }
//!
//! fn import_rows(total: u32) -> Result<u32, ActivityError> {
//!     // Resume where an earlier attempt got to.
//!     let mut progress: Progress = activity::last_heartbeat().unwrap_or_default();
//!     while progress.done < total {
//!         activity::sleep(Duration::from_millis(10)); // one row of work
//!         progress.done += 1;
//!         if activity::heartbeat(&progress) {
//!             return Err(ActivityError::non_retryable("cancelled"));
//!         }
//!     }
//!     Ok(progress.done)
//! }
//! # continuum_sdk::activities! { "import_rows" => import_rows }
//! ```

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::bindings::activity_world::continuum::workflow::activity_context;
use crate::bindings::activity_world::wasi::clocks::monotonic_clock;

/// The attempt being run.
///
/// ```no_run
/// use continuum_sdk::activity;
/// let attempt = activity::info();
/// if attempt.attempt > 1 {
///     activity::heartbeat(&format!("retrying {} for run {}", attempt.activity, attempt.run_id));
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptInfo {
    /// The instance.
    pub instance: String,
    /// The calling run (empty outside a run).
    pub run_id: String,
    /// The activity's name.
    pub activity: String,
    /// 1 for the first attempt of the call.
    pub attempt: u32,
}

/// Who this attempt is.
///
/// ```no_run
/// let who = continuum_sdk::activity::info();
/// println!("{} attempt {} in instance {}", who.activity, who.attempt, who.instance);
/// ```
pub fn info() -> AttemptInfo {
    let i = activity_context::info();
    AttemptInfo { instance: i.instance, run_id: i.run_id, activity: i.activity, attempt: i.attempt }
}

/// Reports progress with `details`; a later attempt of the same call (after
/// a retry or a host crash) reads the latest details with
/// [`last_heartbeat`]. Returns true when the call has been cancelled: the
/// activity should stop and return.
///
/// ```no_run
/// use continuum_sdk::activity;
/// for page in 0..10u32 {
///     // ... fetch and store one page ...
///     if activity::heartbeat(&page) {
///         break; // cancelled: stop early
///     }
/// }
/// ```
pub fn heartbeat<T: Serialize>(details: &T) -> bool {
    let bytes = serde_json::to_vec(details).unwrap_or_else(|_| b"null".to_vec());
    activity_context::heartbeat(&bytes)
}

/// The latest heartbeat details of this call (an earlier attempt's, or
/// this one's), decoded; `None` when there are none or they do not decode
/// as `T`.
///
/// ```no_run
/// // Resume after the last page an earlier attempt reported.
/// let start: u32 = continuum_sdk::activity::last_heartbeat::<u32>().map_or(0, |p| p + 1);
/// ```
pub fn last_heartbeat<T: DeserializeOwned>() -> Option<T> {
    activity_context::last_heartbeat().and_then(|bytes| serde_json::from_slice(&bytes).ok())
}

/// True once the call has been cancelled (its workflow was cancelled, or
/// the host lost the task). The host stops the attempt after a grace
/// period if it does not return.
///
/// ```no_run
/// while !continuum_sdk::activity::is_cancelled() {
///     // ... one unit of work ...
///     # break;
/// }
/// ```
pub fn is_cancelled() -> bool {
    activity_context::is_cancelled()
}

/// Blocks the attempt for `duration` (the host keeps running other work).
///
/// ```no_run
/// use std::time::Duration;
/// // Back off before polling a slow remote system again.
/// continuum_sdk::activity::sleep(Duration::from_millis(200));
/// ```
pub fn sleep(duration: Duration) {
    let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    monotonic_clock::subscribe_duration(nanos).block();
}
