//! The lease fence on SQLite, written once: the run `?1`/`?2` while its
//! lease is still owner `?3` with token `?4`. Commits, renewals and
//! releases all select their run through it, inside the write transaction
//! (SQLite's single writer: nothing can move the lease in between).

use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::Sqlite;

use crate::journal::{Lease, RunKey};

/// The fence condition on `runs`, over `?1` to `?4` ([`bind`]).
pub(super) const FENCE: &str = "instance = ?1 AND run_id = ?2 AND lease_owner = ?3 AND lease_token = ?4";

/// Binds the run and its lease as `?1` to `?4`.
pub(super) fn bind<'q>(
    q: Query<'q, Sqlite, SqliteArguments<'q>>,
    key: &'q RunKey,
    lease: &'q Lease,
) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    q.bind(&key.instance).bind(&key.run_id).bind(&lease.owner).bind(lease.token)
}
