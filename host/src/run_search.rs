//! Listing an instance's runs page by page ([`Continuum::runs_page`]):
//! the filters of a [`RunQuery`] (state, workflow, creation time, parent,
//! attributes), checked before anything is read, and the cursor that
//! carries a listing on to its next page, the same for the CLI and the
//! HTTP API (opaque to callers: the creation time and run id of the last
//! run listed, hex-encoded).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::input_limits::{check_run_id, check_workflow_name, clip};
use crate::{run_attributes, CallOptions, Continuum, Error, RunInfo, RunQuery};

/// A page of a listing of runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunPage {
    /// The runs, newest first (by creation time, then run id).
    pub runs: Vec<RunInfo>,
    /// Where the next page starts, when more runs match: pass it back as
    /// the query's cursor ([`decode_run_cursor`]). `None` on the last page.
    pub next_cursor: Option<String>,
}

/// The cursor of the position after the run created at `at` with
/// `run_id`.
pub fn encode_run_cursor(at: DateTime<Utc>, run_id: &str) -> String {
    hex::encode(format!("{}\n{run_id}", at.to_rfc3339_opts(SecondsFormat::Nanos, true)))
}

/// Decodes a cursor made by [`encode_run_cursor`] into the position it
/// names ([`RunQuery::before`]); [`Error::InvalidName`] (what: `cursor`)
/// for anything else.
pub fn decode_run_cursor(cursor: &str) -> Result<(DateTime<Utc>, String), Error> {
    let bad = || Error::InvalidName {
        what: "cursor",
        value: clip(cursor),
        reason: "pass back a next cursor as a listing gave it".into(),
    };
    let bytes = hex::decode(cursor.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (at, run_id) = text.split_once('\n').ok_or_else(bad)?;
    let at = DateTime::parse_from_rfc3339(at).map_err(|_| bad())?.with_timezone(&Utc);
    check_run_id(run_id).map_err(|_| bad())?;
    Ok((at, run_id.to_string()))
}

impl RunQuery {
    /// Checks the query's filters: a workflow name, parent run id, or
    /// attribute outside their limits is refused ([`Error::InvalidName`]),
    /// naming it. [`Continuum::runs_page`] checks this before reading.
    pub fn check(&self) -> Result<(), Error> {
        if let Some(w) = &self.workflow {
            check_workflow_name(w)?;
        }
        if let Some(p) = &self.parent {
            check_run_id(p)?;
        }
        for (key, value) in &self.attributes {
            run_attributes::check_filter(key, value)?;
        }
        Ok(())
    }
}

impl Continuum {
    /// A page of the instance's runs matching `query`, newest first, after
    /// its cursor, with the cursor of the next page when more runs match
    /// (read with one run more than the page, so a last page says so). A
    /// filter outside its limits is refused before anything is read; a
    /// `query.limit` below 1 lists nothing.
    pub async fn runs_page(&self, query: &RunQuery, opts: CallOptions) -> Result<RunPage, Error> {
        query.check()?;
        let mut ask = query.clone();
        ask.limit = query.limit.saturating_add(1);
        let mut runs = self.query_runs(&ask, opts).await?;
        let limit = usize::try_from(query.limit.max(0)).unwrap_or(usize::MAX);
        let more = runs.len() > limit;
        runs.truncate(limit);
        let next_cursor = runs.last().filter(|_| more).map(|r| encode_run_cursor(r.created_at, &r.key.run_id));
        Ok(RunPage { runs, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let at = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap();
        assert_eq!(decode_run_cursor(&encode_run_cursor(at, "run-1")).unwrap(), (at, "run-1".to_string()));
        for bad in ["", "zz", "00", &hex::encode("no newline"), &hex::encode("yesterday\nr"), &hex::encode("2026-01-01T00:00:00Z\n")] {
            let e = decode_run_cursor(bad).unwrap_err().to_string();
            assert!(e.starts_with("invalid cursor"), "{bad}: {e}");
        }
    }

    #[test]
    fn bad_filters_are_refused_naming_them() {
        let q = RunQuery { attributes: vec![("bad key".into(), "v".into())], ..RunQuery::default() };
        assert!(q.check().unwrap_err().to_string().contains("attribute key"));
        let q = RunQuery { parent: Some(String::new()), ..RunQuery::default() };
        assert!(q.check().unwrap_err().to_string().contains("run id"));
    }
}
