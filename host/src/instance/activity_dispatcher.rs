//! The activity dispatcher: claims durable activity tasks (`FOR UPDATE SKIP
//! LOCKED` on Postgres) for the activities this host provides, no more
//! than can start at once (the room the instance's and the queues'
//! concurrency limits and its own batch size leave), executes them through
//! the activity supervisor and records their outcome, fenced by the claim.

use std::sync::Arc;

use tokio::sync::OwnedSemaphorePermit;

use super::activity_workers::Announcer;
use super::options::ActivityDispatcherConfig;
use crate::activities::{ActivityExecutor, ActivityScope, AttemptStart, Reserved, Step};
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
    let mut announcer = Announcer::new();
    loop {
        announcer.renew(&shared, &names, &opts.queues).await;
        // Claim only what can start now: the room (the instance's limit,
        // the queue's, the batch size) is taken before claiming, so a
        // claimed task never waits, holding work other hosts could run.
        for (queues, room_queue) in claim_order(&exec, &opts.queues) {
            let mut room = Vec::new();
            while let Ok(permit) = in_flight.clone().try_acquire_owned() {
                match exec.try_reserve(&room_queue) {
                    Some(reserved) => room.push((permit, reserved)),
                    None => break,
                }
            }
            if room.is_empty() {
                continue;
            }
            let owner = shared.next_owner();
            let tasks = match shared.journal.claim_tasks(&shared.name, &queues, &names, &owner, shared.lease_ttl, room.len() as i64).await {
                Ok(tasks) => tasks,
                Err(e) => {
                    tracing::warn!(instance = %shared.name, error = %e, "claiming activity tasks failed");
                    continue;
                }
            };
            // Room left unused is given back as `room` drops.
            for (task, (permit, reserved)) in tasks.into_iter().zip(room.drain(..)) {
                tracing::info!(instance = %task.key.instance, run_id = %task.key.run_id, workflow = %task.workflow, activity = %task.name, op = task.op, attempt = task.attempt, "activity task claimed");
                tokio::spawn(execute(shared.clone(), exec.clone(), task, permit, reserved));
            }
        }
        tokio::select! {
            _ = shared.wakeups.tasks.notified() => {}
            _ = tokio::time::sleep(opts.poll_interval) => {}
        }
    }
}

/// The groups of queues to claim from, in turn, each with the queue whose
/// room it takes: a queue with a concurrency limit of its own alone, the
/// others together (they take only the instance's room; the empty name is
/// a queue without a limit).
fn claim_order(exec: &ActivityExecutor, queues: &[String]) -> Vec<(Vec<String>, String)> {
    let (limited, shared): (Vec<&String>, Vec<&String>) = queues.iter().partition(|q| exec.queue_room(q).is_some());
    let mut out: Vec<(Vec<String>, String)> = limited.into_iter().map(|q| (vec![q.clone()], q.clone())).collect();
    if !shared.is_empty() {
        out.push((shared.into_iter().cloned().collect(), String::new()));
    }
    out
}

/// Executes one claimed task and records its outcome, fenced by the claim.
async fn execute(shared: Arc<Shared>, exec: Arc<ActivityExecutor>, task: ClaimedTask, permit: OwnedSemaphorePermit, reserved: Reserved) {
    // The attempt counts when it starts, fenced by the claim: a claim that
    // expired before this host got to it (starved, frozen) starts nothing,
    // and the next claim runs the same attempt number.
    let started = match shared.journal.start_task(&task.key, task.op, task.claim_token).await {
        Ok(true) => true,
        Ok(false) => {
            tracing::info!(instance = %task.key.instance, run_id = %task.key.run_id, workflow = %task.workflow, activity = %task.name,
                attempt = task.attempt, "task claim gone before its attempt started; not started");
            false
        }
        Err(e) => {
            tracing::warn!(instance = %task.key.instance, run_id = %task.key.run_id, workflow = %task.workflow, activity = %task.name,
                error = %e, "recording the start of the task's attempt failed; not started (its claim expires and it is claimed again)");
            false
        }
    };
    if !started {
        drop(permit);
        drop(reserved);
        // Its room is free again: claim more without waiting for the poll.
        shared.wakeups.tasks.notify_one();
        return;
    }
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
    // One started claim is one attempt; the claim says which, counted
    // across workers and crashes.
    let start = AttemptStart { attempt: task.attempt, first_at: task.first_attempt_at, previous_lost: task.previous_lost };
    let step = exec.execute_attempt(scope, &task.name, task.input.clone(), &task.options, start, Some(reserved), cancel).await;
    renew.abort();
    let recorded = match &step {
        Step::Done(outcome) => shared.journal.complete_task(&task.key, task.op, task.claim_token, outcome).await,
        // The retry is the same task claimed again once its backoff has
        // passed, by whichever worker comes first.
        Step::Retry { delay, .. } => {
            let recorded = shared.journal.retry_task(&task.key, task.op, task.claim_token, *delay).await;
            if matches!(recorded, Ok(true)) {
                let (shared, delay) = (shared.clone(), *delay);
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    shared.wakeups.tasks.notify_one();
                });
            }
            recorded
        }
    };
    match recorded {
        Ok(true) => {}
        Ok(false) => tracing::info!(instance = %task.key.instance, run_id = %task.key.run_id, workflow = %task.workflow, activity = %task.name, "task claim gone (cancelled or expired); outcome discarded"),
        Err(e) => tracing::warn!(instance = %task.key.instance, run_id = %task.key.run_id, workflow = %task.workflow, activity = %task.name, error = %e, "recording the task outcome failed"),
    }
    shared.wakeups.dispatcher.notify_one();
    drop(permit);
    // Its room is free again: claim more without waiting for the poll.
    shared.wakeups.tasks.notify_one();
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
