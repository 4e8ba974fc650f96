//! The activity dispatcher: claims durable activity tasks (`FOR UPDATE SKIP
//! LOCKED` on Postgres) for the activities this host provides, executes them
//! through the activity supervisor and records their outcome, fenced by the
//! claim.

use std::sync::Arc;
use std::time::Duration;

use super::options::ActivityDispatcherConfig;
use super::Shared;

/// How long a claim lasts before another host may take the task over.
const CLAIM_TTL: Duration = Duration::from_secs(300);

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
                .claim_tasks(&shared.name, &opts.queues, &names, &owner, CLAIM_TTL, free as i64)
                .await
            {
                Ok(tasks) => {
                    for task in tasks {
                        let Ok(permit) = in_flight.clone().acquire_owned().await else { return };
                        tracing::info!(instance = %task.key.instance, run_id = %task.key.run_id, activity = %task.name, op = task.op, "activity task claimed");
                        let exec = exec.clone();
                        let shared = shared.clone();
                        tokio::spawn(async move {
                            let (_never, cancel) = tokio::sync::watch::channel(false);
                            let scope = crate::activities::ActivityScope { run_id: Some(&task.key.run_id), workflow: None };
                            let outcome = exec.execute_for(scope, &task.name, task.input.clone(), &task.options, cancel).await;
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
