//! The activity dispatcher: claims durable activity tasks (`FOR UPDATE SKIP
//! LOCKED` on Postgres) for the activities this host provides, within the
//! room its queues' concurrency limits leave, executes them through the
//! activity supervisor and records their outcome, fenced by the claim.

use std::sync::Arc;

use tokio::sync::OwnedSemaphorePermit;

use super::options::ActivityDispatcherConfig;
use crate::activities::{ActivityExecutor, ActivityScope};
use super::Shared;
use crate::journal::ClaimedTask;


/// Runs the activity dispatcher until the instance stops.
pub async fn run(shared: Arc<Shared>, opts: ActivityDispatcherConfig) {
    let Some(exec) = shared.activities.clone() else { return };
    let names = exec.names();
    if names.is_empty() {
        return;
    }
    let in_flight = Arc::new(tokio::sync::Semaphore::new(opts.batch_size.max(1)));
    loop {
        for (queues, limit) in claims(&exec, &opts.queues, in_flight.available_permits()) {
            let owner = shared.next_owner();
            let tasks = match shared.journal.claim_tasks(&shared.name, &queues, &names, &owner, shared.lease_ttl, limit as i64).await {
                Ok(tasks) => tasks,
                Err(e) => {
                    tracing::warn!(instance = %shared.name, error = %e, "claiming activity tasks failed");
                    continue;
                }
            };
            for task in tasks {
                let Ok(permit) = in_flight.clone().acquire_owned().await else { return };
                tracing::info!(instance = %task.key.instance, run_id = %task.key.run_id, workflow = %task.workflow, activity = %task.name, op = task.op, "activity task claimed");
                tokio::spawn(execute(shared.clone(), exec.clone(), task, permit));
            }
        }
        tokio::select! {
            _ = shared.pubsub.tasks.notified() => {}
            _ = tokio::time::sleep(opts.poll_interval) => {}
        }
    }
}

/// What to claim now with `free` tasks of room: queues with a concurrency
/// limit of their own one by one (up to their room), the others together.
fn claims(exec: &ActivityExecutor, queues: &[String], free: usize) -> Vec<(Vec<String>, usize)> {
    if free == 0 {
        return Vec::new();
    }
    let mut shared = Vec::new();
    let mut out = Vec::new();
    for q in queues {
        match exec.queue_room(q) {
            None => shared.push(q.clone()),
            Some(0) => {}
            Some(room) => out.push((vec![q.clone()], room.min(free))),
        }
    }
    if !shared.is_empty() {
        out.push((shared, free));
    }
    out
}

/// Executes one claimed task and records its outcome, fenced by the claim.
async fn execute(shared: Arc<Shared>, exec: Arc<ActivityExecutor>, task: ClaimedTask, permit: OwnedSemaphorePermit) {
    // The claim is a lease: renewed while the attempt runs; once lost (the
    // run was cancelled or another worker has the task now) the attempt is
    // cancelled.
    let (lost, cancel) = tokio::sync::watch::channel(false);
    let renew = tokio::spawn(renew_claim(shared.clone(), task.clone(), lost));
    let scope = ActivityScope {
        run_id: Some(&task.key.run_id),
        workflow: Some(&task.workflow),
        op: Some(task.op),
        trace_context: task.trace_context.as_deref(),
    };
    let outcome = exec.execute_for(scope, &task.name, task.input.clone(), &task.options, cancel).await;
    renew.abort();
    match shared.journal.complete_task(&task.key, task.op, task.claim_token, &outcome).await {
        Ok(true) => {}
        Ok(false) => tracing::info!(instance = %task.key.instance, run_id = %task.key.run_id, workflow = %task.workflow, activity = %task.name, "task claim gone (cancelled or expired); outcome discarded"),
        Err(e) => tracing::warn!(instance = %task.key.instance, run_id = %task.key.run_id, workflow = %task.workflow, activity = %task.name, error = %e, "recording the task outcome failed"),
    }
    shared.pubsub.dispatcher.notify_one();
    drop(permit);
}

/// Renews a task's claim every third of the lease time until aborted;
/// reports a lost claim through `lost`.
async fn renew_claim(shared: Arc<Shared>, task: ClaimedTask, lost: tokio::sync::watch::Sender<bool>) {
    let every = shared.lease_ttl / 3;
    loop {
        tokio::time::sleep(every).await;
        match shared.journal.renew_task_claim(&task.key, task.op, task.claim_token, shared.lease_ttl).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(instance = %task.key.instance, run_id = %task.key.run_id, workflow = %task.workflow, activity = %task.name, "task claim lost; stopping the attempt");
                lost.send_replace(true);
                return;
            }
            Err(e) => tracing::warn!(instance = %task.key.instance, run_id = %task.key.run_id, workflow = %task.workflow, activity = %task.name, error = %e, "renewing the task claim failed"),
        }
    }
}
