//! The cursor of a run listing: where the next page starts (the creation
//! time and run id of the last run listed), opaque to callers.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::errors::ApiError;

/// Encodes the position after the run created at `at` with `run_id`.
pub fn encode(at: DateTime<Utc>, run_id: &str) -> String {
    hex::encode(format!("{}\n{run_id}", at.to_rfc3339_opts(SecondsFormat::Nanos, true)))
}

/// Decodes a cursor; 400 `bad_cursor` when it is not one of ours.
pub fn decode(cursor: &str) -> Result<(DateTime<Utc>, String), ApiError> {
    let bad = || ApiError::new(axum::http::StatusCode::BAD_REQUEST, "bad_cursor", "invalid cursor: pass back a next_cursor as given");
    let bytes = hex::decode(cursor.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (at, run_id) = text.split_once('\n').ok_or_else(bad)?;
    let at = DateTime::parse_from_rfc3339(at).map_err(|_| bad())?.with_timezone(&Utc);
    Ok((at, run_id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let at = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap();
        assert_eq!(decode(&encode(at, "run/1\nx")).unwrap(), (at, "run/1\nx".to_string()));
        for bad in ["", "zz", "00", &hex::encode("no newline"), &hex::encode("yesterday\nr")] {
            assert_eq!(decode(bad).unwrap_err().code, "bad_cursor", "{bad}");
        }
    }
}
