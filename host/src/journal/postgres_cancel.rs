//! Withdrawing an unconfirmed cancellation request on Postgres.

use chrono::{DateTime, Utc};

use super::{lock_run, PostgresJournal};
use crate::journal::{CancelWithdrawal, JournalError, RunKey};

/// See [`crate::journal::Journal::withdraw_cancel`].
pub(super) async fn withdraw(
    j: &PostgresJournal,
    key: &RunKey,
    requested_at: DateTime<Utc>,
) -> Result<CancelWithdrawal, JournalError> {
    let mut tx = j.pool.begin().await?;
    match lock_run(&mut tx, key).await? {
        None => return Err(JournalError::UnknownRun(key.clone())),
        Some(state) if state.is_final() => return Ok(CancelWithdrawal::AlreadyFinal(state)),
        Some(_) => {}
    }
    let done = sqlx::query(
        "UPDATE runs SET cancel_requested_at = NULL, updated_at = now() \
         WHERE instance = $1 AND run_id = $2 AND cancel_requested_at = $3",
    )
    .bind(&key.instance)
    .bind(&key.run_id)
    .bind(requested_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(if done.rows_affected() == 1 { CancelWithdrawal::Withdrawn } else { CancelWithdrawal::NotOurs })
}
