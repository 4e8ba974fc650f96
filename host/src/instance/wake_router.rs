//! The wake router: listens to the journal's notifications (LISTEN/NOTIFY
//! on Postgres; on SQLite, the wake-ups of this process's own writes, those
//! of other processes being found by the children's polling) and routes
//! each wake-up to the child it concerns: a cancellation to the run
//! executing here, a ready run (started, signalled, a result or a timer
//! came in) to the dispatcher, a new task to the activity dispatcher, a
//! deploy to the module registry. Signals themselves are not routed: they
//! are journal rows a run reads when it executes.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use crate::engine::StopRequest;
use crate::journal::{RunKey, WakeKind};

use super::options::WakeRouterConfig;
use super::Shared;

/// Runs the router until the instance stops; resubscribes if the stream
/// ends.
pub async fn run(shared: Arc<Shared>, _opts: WakeRouterConfig) {
    loop {
        match shared.journal.listen(&shared.name).await {
            Ok(mut wakes) => {
                // Anything sent while we were not listening is found by polling.
                shared.wakeups.dispatcher.notify_one();
                while let Some(wake) = wakes.next().await {
                    match wake.kind {
                        WakeKind::Cancel => {
                            let asked = standing_request(&shared, &wake.instance, &wake.run_id).await;
                            let routed = match asked {
                                StopRequest::None => None,
                                StopRequest::Cancel => shared.registry.cancel(&wake.run_id),
                                StopRequest::Terminate => shared.registry.terminate(&wake.run_id),
                            };
                            if asked == StopRequest::None {
                                tracing::debug!(instance = %wake.instance, run_id = %wake.run_id, "cancellation withdrawn before delivery");
                            } else if let Some(workflow) = routed {
                                tracing::info!(instance = %wake.instance, run_id = %wake.run_id, %workflow, request = ?asked, "cancellation routed to the run");
                            } else {
                                shared.wakeups.dispatcher.notify_one();
                            }
                        }
                        // A run became due (started, signalled, a result
                        // or a timer came in): not an event of its own; the
                        // dispatcher that takes it logs `lease acquired`.
                        // A run that finished here and is due again was
                        // reset: its remembered end is stale.
                        WakeKind::Run => {
                            shared.finished_runs.forget(&wake.run_id);
                            shared.wakeups.dispatcher.notify_one()
                        }
                        WakeKind::Task => shared.wakeups.tasks.notify_one(),
                        WakeKind::Schedule => shared.wakeups.scheduler.notify_one(),
                        WakeKind::Deploy => {
                            match shared.modules.refresh().await {
                                Ok(()) => tracing::info!(instance = %wake.instance, workflow = %wake.run_id, "deploy seen; current versions refreshed"),
                                Err(e) => tracing::warn!(instance = %wake.instance, error = %e, "refreshing module versions failed"),
                            }
                            shared.wakeups.dispatcher.notify_one();
                        }
                    }
                }
                tracing::warn!(instance = %shared.name, "notification stream ended; resubscribing");
            }
            Err(e) => tracing::warn!(instance = %shared.name, error = %e, "cannot listen for notifications"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The request recorded for a run: a notification can arrive late (a host
/// that was cut off), after its caller withdrew an unconfirmed
/// termination. When the journal cannot say, a cancellation is delivered
/// (the workflow may clean up; a stale request is rarer than a failing
/// read).
async fn standing_request(shared: &Shared, instance: &str, run_id: &str) -> StopRequest {
    match shared.journal.get_run(&RunKey::new(instance, run_id)).await {
        Ok(Some(run)) if run.state.is_final() => StopRequest::None,
        Ok(Some(run)) if run.cancel_requested_at.is_some() => StopRequest::Terminate,
        Ok(Some(run)) if run.graceful_cancel_at.is_some() => StopRequest::Cancel,
        Ok(_) => StopRequest::None,
        Err(_) => StopRequest::Cancel,
    }
}
