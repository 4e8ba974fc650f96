//! Who serves which activities, and what becomes of a call no host serves.
//!
//! Each host whose activity dispatcher runs announces, in the instance's
//! database, the activity names and task queues it serves, and renews that
//! while it lives ([`Announcer`]). Every host's recovery round then looks
//! at the tasks no attempt of which has started ([`watch`]):
//! - a task past its call's schedule-to-start deadline fails, with
//!   `unknown_activity` when no live host serves its activity on its queue,
//!   else with `timed_out`;
//! - a task that has waited longer than the lease TTL for an activity no
//!   live host serves is logged as a warning (once a minute per activity
//!   and queue), and `continuum show` names it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::Shared;
use crate::journal::{served, ActivityWorker, Failure, FailureKind, WaitingTask};

/// Tasks looked at per round.
const SCAN_LIMIT: i64 = 256;
/// How often one activity on one queue is warned about at most.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// Announces this host's activities and queues, and renews the announcement
/// before it expires.
pub(super) struct Announcer {
    last: Option<Instant>,
}

impl Announcer {
    /// An announcer that has not announced yet.
    pub(super) fn new() -> Self {
        Self { last: None }
    }

    /// Announces (again) when the last announcement is older than half
    /// the lease TTL; the announcement lives three lease TTLs.
    pub(super) async fn renew(&mut self, shared: &Shared, names: &[String], queues: &[String]) {
        let every = shared.lease_ttl / 2;
        if self.last.is_some_and(|at| at.elapsed() < every) {
            return;
        }
        let ttl = shared.lease_ttl.saturating_mul(3);
        match shared.journal.announce_worker(&shared.name, &shared.worker_id, names, queues, ttl).await {
            Ok(()) => self.last = Some(Instant::now()),
            Err(e) => tracing::warn!(instance = %shared.name, error = %e, "announcing the activity worker failed"),
        }
    }
}

/// What the watcher remembers between rounds: when it last warned about
/// each activity and queue.
#[derive(Default)]
pub(super) struct Watch {
    warned: HashMap<(String, String), Instant>,
}

/// One round: fails the calls past their schedule-to-start deadline and
/// warns about calls waiting for an activity no live host serves.
pub(super) async fn watch(shared: &Shared, state: &mut Watch) {
    let journal = &shared.journal;
    let late = match journal.past_start_deadline(&shared.name, SCAN_LIMIT).await {
        Ok(late) => late,
        Err(e) => return tracing::warn!(instance = %shared.name, error = %e, "reading tasks past their start deadline failed"),
    };
    let waiting = match journal.long_waiting(&shared.name, shared.lease_ttl, SCAN_LIMIT).await {
        Ok(waiting) => waiting,
        Err(e) => return tracing::warn!(instance = %shared.name, error = %e, "reading waiting tasks failed"),
    };
    if late.is_empty() && waiting.is_empty() {
        return;
    }
    let workers = match journal.live_workers(&shared.name).await {
        Ok(workers) => workers,
        Err(e) => return tracing::warn!(instance = %shared.name, error = %e, "reading the activity workers failed"),
    };
    for task in late {
        let failure = start_failure(&shared.name, &task, &workers);
        match journal.fail_unstarted(&task.key, task.op, &failure).await {
            Ok(true) => tracing::warn!(instance = %task.key.instance, run_id = %task.key.run_id, activity = %task.name,
                queue = %task.queue, op = task.op, error = %failure.message, "activity call failed before it started"),
            Ok(false) => {}
            Err(e) => tracing::warn!(instance = %shared.name, run_id = %task.key.run_id, error = %e, "failing a late activity task failed"),
        }
    }
    state.warned.retain(|_, at| at.elapsed() < WARN_EVERY);
    for task in waiting {
        if served(&workers, &task.name, &task.queue) {
            continue;
        }
        let seen = (task.name.clone(), task.queue.clone());
        if state.warned.contains_key(&seen) {
            continue;
        }
        state.warned.insert(seen, Instant::now());
        tracing::warn!(instance = %task.key.instance, run_id = %task.key.run_id, activity = %task.name, queue = %task.queue,
            op = task.op, "{}", unserved_message(&shared.name, &task.name, &task.queue));
    }
}

/// The failure of a call whose first attempt did not start in time.
fn start_failure(instance: &str, task: &WaitingTask, workers: &[ActivityWorker]) -> Failure {
    if served(workers, &task.name, &task.queue) {
        let message = format!(
            "activity `{}` did not start within its schedule-to-start timeout (its queue `{}` is served, but no worker took it in time)",
            task.name, task.queue
        );
        Failure::new(FailureKind::TimedOut, message, 0)
    } else {
        let message = format!("{} (the call's schedule-to-start timeout passed)", unserved_message(instance, &task.name, &task.queue));
        Failure::new(FailureKind::UnknownActivity, message, 0)
    }
}

/// "no host of instance `I` serves activity `A` on queue `Q`".
pub(crate) fn unserved_message(instance: &str, name: &str, queue: &str) -> String {
    format!("no host of instance `{instance}` serves activity `{name}` on queue `{queue}`")
}
