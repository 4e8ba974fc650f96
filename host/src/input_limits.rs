//! What the facade accepts from a caller: run ids, signal names, workflow
//! names and JSON payloads within stated limits, refused with a typed
//! error ([`Error::InvalidName`], [`Error::PayloadTooLarge`]) before
//! anything reaches the journal; and user-given text clipped to one short
//! line when an error message quotes it.

use serde_json::Value;

use crate::Error;

/// The longest run id accepted, in characters. A run id is 1 to this many
/// characters, none of them whitespace or control characters.
pub const MAX_RUN_ID_CHARS: usize = 256;
/// The longest signal name accepted, in characters. A signal name is 1 to
/// this many characters, none of them control characters.
pub const MAX_SIGNAL_NAME_CHARS: usize = 256;
/// The longest signal idempotency key accepted, in characters. A key is 1
/// to this many characters, none of them whitespace or control characters.
pub const MAX_SIGNAL_KEY_CHARS: usize = 256;
/// The longest workflow name accepted, in characters. A workflow name is 1
/// to this many characters, none of them whitespace or control characters.
pub const MAX_WORKFLOW_NAME_CHARS: usize = 256;
/// The largest JSON payload accepted (a run's input, a signal's payload),
/// in bytes of its JSON text.
pub const MAX_PAYLOAD_BYTES: usize = 4 << 20;

/// How many characters of a user-given value an error message quotes.
const QUOTED_CHARS: usize = 64;

/// Checks a run id.
pub(crate) fn check_run_id(run_id: &str) -> Result<(), Error> {
    check_name("run id", run_id, MAX_RUN_ID_CHARS, false)
}

/// Checks a signal name.
pub(crate) fn check_signal_name(name: &str) -> Result<(), Error> {
    check_name("signal name", name, MAX_SIGNAL_NAME_CHARS, true)
}

/// Checks a query's name (the rules of a signal's name).
pub(crate) fn check_query_name(name: &str) -> Result<(), Error> {
    check_name("query name", name, MAX_SIGNAL_NAME_CHARS, true)
}

/// Checks a signal's idempotency key.
pub(crate) fn check_signal_key(key: &str) -> Result<(), Error> {
    check_name("signal idempotency key", key, MAX_SIGNAL_KEY_CHARS, false)
}

/// Checks a workflow name.
pub(crate) fn check_workflow_name(name: &str) -> Result<(), Error> {
    check_name("workflow name", name, MAX_WORKFLOW_NAME_CHARS, false)
}

/// Why `value` cannot be a name of at most `max` characters (`spaces`:
/// whether inner spaces are allowed), if it cannot.
pub(crate) fn invalid_name(value: &str, max: usize, spaces: bool) -> Option<String> {
    let chars = value.chars().count();
    if chars == 0 {
        return Some("must not be empty".into());
    }
    if chars > max {
        return Some(format!("is {chars} characters long; at most {max} are allowed"));
    }
    if value.chars().any(char::is_control) {
        return Some("must not contain control characters".into());
    }
    if !spaces && value.chars().any(char::is_whitespace) {
        return Some("must not contain whitespace".into());
    }
    if value.trim() != value {
        return Some("must not begin or end with whitespace".into());
    }
    None
}

fn check_name(what: &'static str, value: &str, max: usize, spaces: bool) -> Result<(), Error> {
    match invalid_name(value, max, spaces) {
        None => Ok(()),
        Some(reason) => Err(Error::InvalidName { what, value: clip(value), reason }),
    }
}

/// Checks the size of a JSON payload (`what`: "input", "signal payload").
pub(crate) fn check_payload(what: &'static str, payload: &Value) -> Result<(), Error> {
    let mut counter = ByteCounter(0);
    // Writing to a counter cannot fail except by stopping early.
    let _ = serde_json::to_writer(&mut counter, payload);
    if counter.0 > MAX_PAYLOAD_BYTES {
        return Err(Error::PayloadTooLarge { what, limit: MAX_PAYLOAD_BYTES });
    }
    Ok(())
}

/// Counts bytes written, stopping just past the payload limit.
struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        if self.0 > MAX_PAYLOAD_BYTES {
            return Err(std::io::Error::other("over the payload limit"));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A user-given value as an error message quotes it: control characters
/// escaped (so the message stays one line) and at most 64 characters, the
/// rest counted.
pub(crate) fn clip(value: &str) -> String {
    let total = value.chars().count();
    let mut out: String = value
        .chars()
        .take(QUOTED_CHARS)
        .flat_map(|c| if c.is_control() { c.escape_debug().collect::<Vec<_>>() } else { vec![c] })
        .collect();
    if total > QUOTED_CHARS {
        out.push_str(&format!("… ({total} characters)"));
    }
    out
}

/// A foreign message (wasmtime's, a parser's) made one line of at most
/// `max` characters: line breaks and runs of whitespace become one space,
/// the rest is cut with an ellipsis.
pub(crate) fn one_line(message: &str, max: usize) -> String {
    let joined = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() <= max {
        return joined;
    }
    let mut out: String = joined.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_within_the_limits_pass_and_the_others_say_why() {
        assert!(check_run_id("order-1").is_ok());
        assert!(check_run_id(&"r".repeat(MAX_RUN_ID_CHARS)).is_ok());
        assert!(check_run_id("ü-ñ-漢字").is_ok());
        for bad in ["", " x", "a b", "tab\there", "nl\n", &"r".repeat(MAX_RUN_ID_CHARS + 1)] {
            match check_run_id(bad) {
                Err(Error::InvalidName { what: "run id", value, reason }) => {
                    assert!(!reason.is_empty());
                    assert!(!value.contains('\n') && value.chars().count() <= 64 + 20, "{value}");
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        assert!(check_signal_name("fraud review").is_ok());
        assert!(check_signal_name("").is_err());
        assert!(check_signal_name(" x").is_err());
        assert!(check_signal_name(&"s".repeat(100 * 1024)).is_err());
        assert!(check_workflow_name("order-flow").is_ok());
        assert!(check_workflow_name("").is_err());
    }

    #[test]
    fn payloads_over_the_limit_are_refused_without_being_held_twice() {
        assert!(check_payload("input", &serde_json::json!({"a": 1})).is_ok());
        let big = Value::String("x".repeat(MAX_PAYLOAD_BYTES));
        match check_payload("input", &big) {
            Err(Error::PayloadTooLarge { what: "input", limit }) => assert_eq!(limit, MAX_PAYLOAD_BYTES),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn clipped_and_one_line_texts_stay_short_and_on_one_line() {
        assert_eq!(clip("abc"), "abc");
        assert_eq!(clip("a\nb"), "a\\nb");
        let long = clip(&"x".repeat(8192));
        assert!(long.ends_with("… (8192 characters)"), "{long}");
        assert_eq!(one_line("a\n  b\tc", 100), "a b c");
        let cut = one_line(&"word ".repeat(1000), 300);
        assert_eq!(cut.chars().count(), 300);
        assert!(cut.ends_with('…'));
    }
}
