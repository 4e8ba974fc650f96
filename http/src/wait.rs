//! The `?wait=` of a long poll: `30s`, `500ms`, `2m`, or plain seconds
//! (`1.5`), at most [`MAX_WAIT`].

use std::time::Duration;

use crate::errors::ApiError;

/// The longest a long poll may wait.
pub const MAX_WAIT: Duration = Duration::from_secs(600);

/// Parses a wait; 400 `bad_query` naming the value when it is not one.
pub fn parse_wait(text: &str) -> Result<Duration, ApiError> {
    let bad = |why: &str| {
        ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "bad_query",
            format!("invalid wait `{}`: {why}", crate::auth::clip(text)),
        )
    };
    let wait = parse_duration(text).map_err(bad)?;
    if wait > MAX_WAIT {
        return Err(bad(&format!("at most {}s", MAX_WAIT.as_secs())));
    }
    Ok(wait)
}

/// Parses a duration as the API and the CLI take them: a number with the
/// unit `ms`, `s` or `m` (seconds when it has none), 0 or more; else why
/// it is not one.
pub fn parse_duration(text: &str) -> Result<Duration, &'static str> {
    let t = text.trim();
    let (number, unit) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else {
        (t, 1.0)
    };
    let value: f64 = number.trim().parse().map_err(|_| "give a duration such as 30s, 500ms or 2m")?;
    let secs = value * unit;
    if !secs.is_finite() || secs < 0.0 {
        return Err("must be a duration of 0 or more");
    }
    Duration::try_from_secs_f64(secs).map_err(|_| "too long")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_parse_and_bad_ones_are_refused() {
        assert_eq!(parse_wait("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_wait("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_wait("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_wait("1.5").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_wait("0").unwrap(), Duration::ZERO);
        for bad in ["", "-1s", "abc", "NaN", "inf", "1e300", "11m", "1h"] {
            let e = parse_wait(bad).unwrap_err();
            assert_eq!(e.code, "bad_query", "{bad}");
        }
    }
}
