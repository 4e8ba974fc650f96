//! [`Notifications`]: wake-ups, as the wake-up router of an instance
//! listens for them.

use std::pin::Pin;

use async_trait::async_trait;
use futures::Stream;

use super::{JournalError, Wake};

/// A stream of wake-up notifications for one instance.
pub type WakeStream = Pin<Box<dyn Stream<Item = Wake> + Send>>;

/// Subscribing to wake-ups (Postgres `LISTEN`/`NOTIFY`, in process on
/// SQLite).
#[async_trait]
pub trait Notifications: Send + Sync + 'static {
    /// Subscribes to the instance's wake-ups.
    async fn listen(&self, instance: &str) -> Result<WakeStream, JournalError>;
}
