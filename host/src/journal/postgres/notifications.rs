//! Wake-ups on Postgres ([`Notifications`]): `LISTEN` on the one channel,
//! keeping the instance's notifications.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::PgListener;

use super::codec::{parse_wake, WAKE_CHANNEL};
use super::PostgresJournal;
use crate::journal::{JournalError, Notifications, WakeStream};

#[async_trait]
impl Notifications for PostgresJournal {
    async fn listen(&self, instance: &str) -> Result<WakeStream, JournalError> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(WAKE_CHANNEL).await?;
        let state = (listener, instance.to_string());
        let stream = futures::stream::unfold(state, |(mut listener, instance)| async move {
            loop {
                match listener.recv().await {
                    Ok(n) => match parse_wake(n.payload()) {
                        Some(w) if w.instance == instance => return Some((w, (listener, instance))),
                        Some(_) => {}
                        None => tracing::warn!(instance = %instance, payload = n.payload(), "malformed wake-up notification"),
                    },
                    Err(e) => {
                        // PgListener reconnects on the next recv; wake-ups
                        // sent meanwhile are lost, which polling covers.
                        tracing::warn!(error = %e, instance = %instance, "wake-up listener failed; retrying");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
        });
        Ok(Box::pin(stream))
    }
}
