//! The statements on activity tasks both stores run alike, written once
//! with numbered `$N` parameters (which SQLite takes as Postgres does): the
//! claim fence every write of a claim's holder goes through, a task's key
//! as the first three parameters, and the forgetting of a heartbeat.

use sqlx::query::Query;
use sqlx::{Database, Encode, Type};

use super::RunKey;

/// An `UPDATE` of the activity task `$1`/`$2`/`$3` ([`bind_task`]) that
/// applies only while the claim is still its holder's: claim token `$4`,
/// still claimed, and not expired at `$now` (an SQL expression: the
/// store's now).
macro_rules! claim_fenced {
    ($set:literal, $now:literal) => {
        concat!(
            "UPDATE activity_tasks SET ",
            $set,
            " WHERE instance = $1 AND run_id = $2 AND op = $3 AND claim_token = $4 AND state = 'claimed' \
               AND claim_expires_at > ",
            $now
        )
    };
}
pub(in crate::journal) use claim_fenced;

/// The `SET` of a task insert's `ON CONFLICT (instance, run_id, op) DO
/// UPDATE`: a task row a reset superseded (state `superseded`: its call's
/// schedule was taken out of the journal) is replaced by the new call's
/// task, as new, keeping its claim token, which the reset moved on, so a
/// worker still holding a claim of the superseded task can never complete
/// the new one. Any other row is kept (the `WHERE`).
pub(in crate::journal) const REPLACE_SUPERSEDED: &str = "name = excluded.name, input = excluded.input, \
    options = excluded.options, queue = excluded.queue, priority = excluded.priority, state = 'pending', \
    claim_owner = NULL, claim_expires_at = NULL, outcome = NULL, journaled = excluded.journaled, \
    attempts_started = excluded.attempts_started, attempts_ended = excluded.attempts_ended, \
    first_attempt_at = excluded.first_attempt_at, ready_at = excluded.ready_at, \
    start_deadline = excluded.start_deadline, created_at = excluded.created_at \
    WHERE activity_tasks.state = 'superseded'";

/// Forgets the heartbeat of task `$1`/`$2`/`$3`.
pub(in crate::journal) const CLEAR_HEARTBEAT: &str =
    "DELETE FROM activity_heartbeats WHERE instance = $1 AND run_id = $2 AND op = $3";

/// Binds the task `op` of the run `key` as `$1` to `$3`.
pub(in crate::journal) fn bind_task<'q, DB: Database>(
    q: Query<'q, DB, DB::Arguments<'q>>,
    key: &'q RunKey,
    op: u32,
) -> Query<'q, DB, DB::Arguments<'q>>
where
    &'q str: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    q.bind(key.instance.as_str()).bind(key.run_id.as_str()).bind(i64::from(op))
}
