//! Schedules on SQLite ([`ScheduleStore`]): a write is one statement under
//! the journal's write lock, broadcasting a wake-up in-process when it
//! changes what the instance's scheduler waits for.

use async_trait::async_trait;
use sqlx::Sqlite;

use super::SqliteJournal;
use crate::journal::reads::{Arg, BindArg};
use crate::journal::{JournalError, ScheduleStore, Wake, WakeKind};

#[async_trait]
impl ScheduleStore for SqliteJournal {
    async fn schedule_write(&self, sql: &str, args: &[Arg<'_>], wake: Option<&str>) -> Result<u64, JournalError> {
        let mut w = self.write().await?;
        let query = args.iter().fold(sqlx::query::<Sqlite>(sql), |q, arg| Sqlite::bind_arg(q, *arg));
        let changed = query.execute(&mut *w.tx).await?.rows_affected();
        if let (Some(instance), true) = (wake, changed > 0) {
            w.wakes.push(Wake { instance: instance.to_string(), run_id: String::new(), kind: WakeKind::Schedule });
        }
        self.finish(w).await?;
        Ok(changed)
    }
}
