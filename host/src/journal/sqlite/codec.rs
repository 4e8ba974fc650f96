//! SQLite rows and parameters: timestamps as milliseconds since the epoch,
//! and lists passed as JSON arrays.

use chrono::{DateTime, Utc};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::Sqlite;

use crate::journal::codec::{col, common_columns, corrupt, TsRow};
use crate::journal::reads::{Arg, BindArg};
use crate::journal::JournalError;

impl TsRow for SqliteRow {
    common_columns!(SqliteRow);
    fn ts(&self, name: &str, key: &str) -> Result<Option<DateTime<Utc>>, JournalError> {
        col::<_, Option<i64>>(self, name, key)?.map(|ms| from_ms(key, ms)).transpose()
    }
}

/// Parameters of the shared reads: a time as milliseconds since the epoch.
impl BindArg for Sqlite {
    fn bind_arg<'q>(q: Query<'q, Sqlite, SqliteArguments<'q>>, arg: Arg<'q>) -> Query<'q, Sqlite, SqliteArguments<'q>> {
        match arg {
            Arg::Text(text) => q.bind(text),
            Arg::Int(n) => q.bind(n),
            Arg::OptText(text) => q.bind(text),
            Arg::OptInt(n) => q.bind(n),
            Arg::Time(at) => q.bind(at.timestamp_millis()),
        }
    }
}

/// Converts milliseconds since the epoch (SQLite's timestamps).
fn from_ms(key: &str, ms: i64) -> Result<DateTime<Utc>, JournalError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| corrupt(key, format!("timestamp {ms} out of range")))
}

/// A JSON array of strings, for `IN (SELECT value FROM json_each(?))`.
pub(super) fn json_list(items: &[String]) -> Result<String, JournalError> {
    serde_json::to_string(items).map_err(|e| corrupt("?", format!("cannot encode a list: {e}")))
}
