//! Withdrawing an unconfirmed cancellation request on SQLite.

use chrono::{DateTime, Utc};

use super::SqliteJournal;
use crate::journal::{CancelWithdrawal, JournalError, RunKey};

/// See [`crate::journal::Journal::withdraw_cancel`].
pub(super) async fn withdraw(
    j: &SqliteJournal,
    key: &RunKey,
    requested_at: DateTime<Utc>,
) -> Result<CancelWithdrawal, JournalError> {
    let mut w = j.write().await?;
    match w.run_state(key).await? {
        None => return Err(JournalError::UnknownRun(key.clone())),
        Some(state) if state.is_final() => return Ok(CancelWithdrawal::AlreadyFinal(state)),
        Some(_) => {}
    }
    let done = sqlx::query(
        "UPDATE runs SET cancel_requested_at = NULL, updated_at = ?4 \
         WHERE instance = ?1 AND run_id = ?2 AND cancel_requested_at = ?3",
    )
    .bind(&key.instance)
    .bind(&key.run_id)
    .bind(requested_at.timestamp_millis())
    .bind(super::now_ms())
    .execute(&mut *w.tx)
    .await?;
    j.finish(w).await?;
    Ok(if done.rows_affected() == 1 { CancelWithdrawal::Withdrawn } else { CancelWithdrawal::NotOurs })
}
