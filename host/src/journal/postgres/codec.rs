//! Postgres rows, parameters and payloads: timestamps as `timestamptz`,
//! the wake-up channel and its payloads, and the in-batch ordering rule of
//! `commit`.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::Postgres;

use crate::journal::codec::{col, common_columns, TsRow};
use crate::journal::reads::{Arg, BindArg};
use crate::journal::{JournalError, RunKey, RunWrite, Wake, WakeKind};

/// The one notification channel (`LISTEN`/`NOTIFY`).
pub(super) const WAKE_CHANNEL: &str = "continuum_wake";

impl TsRow for PgRow {
    common_columns!(PgRow);
    fn ts(&self, name: &str, key: &str) -> Result<Option<DateTime<Utc>>, JournalError> {
        col(self, name, key)
    }
}

/// Parameters of the shared reads: a time as `timestamptz`.
impl BindArg for Postgres {
    fn bind_arg<'q>(q: Query<'q, Postgres, PgArguments>, arg: Arg<'q>) -> Query<'q, Postgres, PgArguments> {
        match arg {
            Arg::Text(text) => q.bind(text),
            Arg::Int(n) => q.bind(n),
            Arg::OptText(text) => q.bind(text),
            Arg::OptInt(n) => q.bind(n),
            Arg::Time(at) => q.bind(at),
        }
    }
}

/// Whether a database error is a unique-key violation.
pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| d.is_unique_violation())
}

/// Applies the in-batch ordering rule to the fence results: once a write
/// with a transition released a run's lease, later writes of that run in
/// the same batch no longer hold it.
pub(super) fn plan_applied(writes: &[RunWrite], held: &[bool]) -> Vec<bool> {
    let mut released: HashSet<&RunKey> = HashSet::new();
    writes
        .iter()
        .zip(held)
        .map(|(w, &held)| {
            if !held || released.contains(&w.key) {
                return false;
            }
            if w.transition.is_some() {
                released.insert(&w.key);
            }
            true
        })
        .collect()
}

/// The name of a wake kind in notification payloads.
pub(super) fn wake_kind_name(kind: &WakeKind) -> &'static str {
    match kind {
        WakeKind::Run => "run",
        WakeKind::Cancel => "cancel",
        WakeKind::Task => "task",
        WakeKind::Deploy => "deploy",
        WakeKind::Schedule => "schedule",
    }
}

/// A notification payload: `<kind>\t<instance>\t<run_id>`.
pub(super) fn wake_payload(kind: &WakeKind, instance: &str, run_id: &str) -> String {
    format!("{}\t{instance}\t{run_id}", wake_kind_name(kind))
}

/// Parses a notification payload; `None` for anything malformed.
pub(super) fn parse_wake(payload: &str) -> Option<Wake> {
    let mut parts = payload.splitn(3, '\t');
    let kind = match parts.next()? {
        "run" => WakeKind::Run,
        "cancel" => WakeKind::Cancel,
        "task" => WakeKind::Task,
        "deploy" => WakeKind::Deploy,
        "schedule" => WakeKind::Schedule,
        _ => return None,
    };
    let instance = parts.next()?.to_string();
    let run_id = parts.next()?.to_string();
    Some(Wake { instance, run_id, kind })
}

