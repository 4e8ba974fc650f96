//! The activity dispatcher: claims durable activity tasks (`FOR UPDATE SKIP
//! LOCKED` on Postgres) for the activities this host provides, executes them
//! through the activity supervisor and records their outcome, fenced by the
//! claim.

use std::sync::Arc;

use super::options::ActivityDispatcherConfig;
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
        let free = in_flight.available_permits();
        if free > 0 {
            let owner = shared.next_owner();
            match shared
                .journal
                .claim_tasks(&shared.name, &opts.queues, &names, &owner, shared.lease_ttl, free as i64)
                .await
            {
                Ok(tasks) => {
                    for task in tasks {
                        let Ok(permit) = in_flight.clone().acquire_owned().await else { return };
                        tracing::info!(instance = %task.key.instance, run_id = %task.key.run_id, activity = %task.name, op = task.op, "activity task claimed");
                        let exec = exec.clone();
                        let shared = shared.clone();
                        tokio::spawn(async move {
                            // The claim is a lease: renewed while the attempt
                            // runs; once lost, the attempt is stopped, as
                            // another worker may have the task now.
                            let (lost, cancel) = tokio::sync::watch::channel(false);
                            let renew = tokio::spawn(renew_claim(shared.clone(), task.clone(), lost));
                            let scope = crate::activities::ActivityScope { run_id: Some(&task.key.run_id), workflow: None };
                            let outcome = exec.execute_for(scope, &task.name, task.input.clone(), &task.options, cancel).await;
                            renew.abort();
                            match shared.journal.complete_task(&task.key, task.op, task.claim_token, &outcome).await {
                                Ok(true) => {}
                                Ok(false) => tracing::warn!(instance = %task.key.instance, run_id = %task.key.run_id, activity = %task.name, "task claim expired; result discarded"),
                                Err(e) => tracing::warn!(instance = %task.key.instance, run_id = %task.key.run_id, activity = %task.name, error = %e, "recording the task outcome failed"),
                            }
                            shared.pubsub.dispatcher.notify_one();
                            drop(permit);
                        });
                    }
                }
                Err(e) => tracing::warn!(instance = %shared.name, error = %e, "claiming activity tasks failed"),
            }
        }
        tokio::select! {
            _ = shared.pubsub.tasks.notified() => {}
            _ = tokio::time::sleep(opts.poll_interval) => {}
        }
    }
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
                tracing::warn!(instance = %task.key.instance, run_id = %task.key.run_id, activity = %task.name, "task claim lost; stopping the attempt");
                lost.send_replace(true);
                return;
            }
            Err(e) => tracing::warn!(instance = %task.key.instance, run_id = %task.key.run_id, activity = %task.name, error = %e, "renewing the task claim failed"),
        }
    }
}
