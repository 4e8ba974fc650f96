//! Wake-ups on SQLite ([`Notifications`]): the journal broadcasts each
//! committed transaction's wake-ups in process; a listener keeps its
//! instance's.

use async_trait::async_trait;
use tokio::sync::broadcast;

use super::SqliteJournal;
use crate::journal::{JournalError, Notifications, WakeStream};

#[async_trait]
impl Notifications for SqliteJournal {
    async fn listen(&self, instance: &str) -> Result<WakeStream, JournalError> {
        let rx = self.wakes.subscribe();
        let stream = futures::stream::unfold((rx, instance.to_string()), |(mut rx, instance)| async move {
            loop {
                match rx.recv().await {
                    Ok(w) if w.instance == instance => return Some((w, (rx, instance))),
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, instance = %instance, "wake-up listener lagged; polling covers");
                    }
                    // The journal is gone.
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        Ok(Box::pin(stream))
    }
}
