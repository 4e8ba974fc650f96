//! The cursor of a run listing: where the next page starts (the creation
//! time and run id of the last run listed), opaque to callers.

use chrono::{DateTime, Utc};

use crate::errors::ApiError;

/// Encodes the position after the run created at `at` with `run_id`
/// (the host's cursor, which the CLI prints too).
#[cfg(test)]
pub fn encode(at: DateTime<Utc>, run_id: &str) -> String {
    continuum_host::encode_run_cursor(at, run_id)
}

/// Decodes a cursor; 400 `bad_cursor` when it is not one of ours.
pub fn decode(cursor: &str) -> Result<(DateTime<Utc>, String), ApiError> {
    continuum_host::decode_run_cursor(cursor).map_err(|_| {
        ApiError::new(axum::http::StatusCode::BAD_REQUEST, "bad_cursor", "invalid cursor: pass back a next_cursor as given")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let at = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap();
        assert_eq!(decode(&encode(at, "run/1")).unwrap(), (at, "run/1".to_string()));
        for bad in ["", "zz", "00", &hex::encode("no newline"), &hex::encode("yesterday\nr")] {
            assert_eq!(decode(bad).unwrap_err().code, "bad_cursor", "{bad}");
        }
    }
}
