//! The signal router: listens to the journal's notifications (LISTEN/NOTIFY
//! on Postgres) and routes each to the child it concerns: a cancellation to
//! the run executing here, a ready run to the dispatcher, a new task to the
//! activity dispatcher.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use crate::journal::WakeKind;

use super::options::SignalRouterConfig;
use super::Shared;

/// Runs the router until the instance stops; resubscribes if the stream
/// ends.
pub async fn run(shared: Arc<Shared>, _opts: SignalRouterConfig) {
    loop {
        match shared.journal.listen(&shared.name).await {
            Ok(mut wakes) => {
                // Anything sent while we were not listening is found by polling.
                shared.pubsub.dispatcher.notify_one();
                while let Some(wake) = wakes.next().await {
                    match wake.kind {
                        WakeKind::Cancel => {
                            match shared.registry.cancel(&wake.run_id) {
                                Some(workflow) => tracing::info!(instance = %wake.instance, run_id = %wake.run_id, %workflow, "cancellation delivered to the run"),
                                None => shared.pubsub.dispatcher.notify_one(),
                            }
                        }
                        // A run became due (started, signalled, a result
                        // or a timer came in): not an event of its own; the
                        // dispatcher that takes it logs `lease acquired`.
                        WakeKind::Run => shared.pubsub.dispatcher.notify_one(),
                        WakeKind::Task => shared.pubsub.tasks.notify_one(),
                        WakeKind::Deploy => {
                            match shared.modules.refresh().await {
                                Ok(()) => tracing::info!(instance = %wake.instance, workflow = %wake.run_id, "deploy seen; current versions refreshed"),
                                Err(e) => tracing::warn!(instance = %wake.instance, error = %e, "refreshing module versions failed"),
                            }
                            shared.pubsub.dispatcher.notify_one();
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
