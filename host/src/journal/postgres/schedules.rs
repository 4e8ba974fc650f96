//! Schedules on Postgres ([`ScheduleStore`]): a write is one statement in
//! its own transaction, with a notification when it changes what the
//! instance's schedulers wait for.

use async_trait::async_trait;
use sqlx::Postgres;

use super::{notify, PostgresJournal};
use crate::journal::reads::{Arg, BindArg};
use crate::journal::{JournalError, ScheduleStore, WakeKind};

#[async_trait]
impl ScheduleStore for PostgresJournal {
    async fn schedule_write(&self, sql: &str, args: &[Arg<'_>], wake: Option<&str>) -> Result<u64, JournalError> {
        let mut tx = self.pool.begin().await?;
        let query = args.iter().fold(sqlx::query::<Postgres>(sql), |q, arg| Postgres::bind_arg(q, *arg));
        let changed = query.execute(&mut *tx).await?.rows_affected();
        if let (Some(instance), true) = (wake, changed > 0) {
            notify(&mut tx, WakeKind::Schedule, instance, "").await?;
        }
        self.commit_tx(tx).await?;
        Ok(changed)
    }
}
