//! Run attributes: key/value pairs a workflow sets on its own run
//! (`set-attribute` of the WIT `attributes` interface), journaled as
//! `attribute_set` and stored, indexed, for listing runs by them
//! ([`crate::RunQuery::attributes`]). Their limits are checked here, for
//! the workflow's call (refused, nothing journaled) and for a listing's
//! filter alike.

use crate::input_limits::clip;
use crate::Error;

/// The longest attribute key, in characters. A key is 1 to this many
/// characters, each an ASCII letter, digit, `_`, `-`, `.` or `:`.
pub const MAX_ATTRIBUTE_KEY_CHARS: usize = 64;
/// The longest attribute value, in characters. A value is 0 to this many
/// characters, none of them control characters.
pub const MAX_ATTRIBUTE_VALUE_CHARS: usize = 256;

/// Why `key` cannot be an attribute key, if it cannot.
fn key_problem(key: &str) -> Option<String> {
    let chars = key.chars().count();
    if chars == 0 {
        return Some("must not be empty".into());
    }
    if chars > MAX_ATTRIBUTE_KEY_CHARS {
        return Some(format!("is {chars} characters long; at most {MAX_ATTRIBUTE_KEY_CHARS} are allowed"));
    }
    if let Some(c) = key.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))) {
        return Some(format!("has the character {c:?}; a key is made of ASCII letters, digits, `_`, `-`, `.` and `:`"));
    }
    None
}

/// Why `value` cannot be an attribute value, if it cannot.
fn value_problem(value: &str) -> Option<String> {
    let chars = value.chars().count();
    if chars > MAX_ATTRIBUTE_VALUE_CHARS {
        return Some(format!("is {chars} characters long; at most {MAX_ATTRIBUTE_VALUE_CHARS} are allowed"));
    }
    if value.chars().any(char::is_control) {
        return Some("has a control character".into());
    }
    None
}

/// Why the workflow's `set-attribute(key, value)` is refused, if it is: a
/// message naming the key.
pub(crate) fn refusal(key: &str, value: &str) -> Option<String> {
    if let Some(p) = key_problem(key) {
        return Some(format!("invalid attribute key `{}`: {p}", clip(key)));
    }
    value_problem(value).map(|p| format!("invalid value of attribute `{}`: {p}", clip(key)))
}

/// Checks an attribute filter of a listing (`key`, `value`).
pub(crate) fn check_filter(key: &str, value: &str) -> Result<(), Error> {
    if let Some(reason) = key_problem(key) {
        return Err(Error::InvalidName { what: "attribute key", value: clip(key), reason });
    }
    if let Some(reason) = value_problem(value) {
        return Err(Error::InvalidName { what: "attribute value", value: clip(value), reason });
    }
    Ok(())
}

/// Parses an attribute filter written `key=value` (the first `=` ends the
/// key; the value may be empty and may hold `=`), checked like
/// [`crate::RunQuery::attributes`] are.
pub fn parse_attribute_filter(text: &str) -> Result<(String, String), Error> {
    let Some((key, value)) = text.split_once('=') else {
        return Err(Error::InvalidName {
            what: "attribute filter",
            value: clip(text),
            reason: "give it as key=value".into(),
        });
    };
    check_filter(key, value)?;
    Ok((key.to_string(), value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_within_the_limits_pass_and_others_are_named() {
        assert_eq!(refusal("customer", "c-42"), None);
        assert_eq!(refusal("a.b:c_d-1", ""), None);
        assert_eq!(refusal(&"k".repeat(MAX_ATTRIBUTE_KEY_CHARS), &"v".repeat(MAX_ATTRIBUTE_VALUE_CHARS)), None);
        let long = "k".repeat(MAX_ATTRIBUTE_KEY_CHARS + 1);
        for bad in ["", "has space", "a=b", &long] {
            let m = refusal(bad, "v").unwrap_or_default();
            assert!(m.starts_with("invalid attribute key"), "{bad}: {m}");
        }
        let m = refusal("note", &"v".repeat(MAX_ATTRIBUTE_VALUE_CHARS + 1)).unwrap_or_default();
        assert!(m.contains("attribute `note`") && m.contains("257 characters"), "{m}");
        assert!(refusal("note", "a\nb").is_some());
    }

    #[test]
    fn filters_are_key_equals_value() {
        assert_eq!(parse_attribute_filter("customer=c-42").unwrap(), ("customer".into(), "c-42".into()));
        assert_eq!(parse_attribute_filter("q=a=b").unwrap(), ("q".into(), "a=b".into()));
        assert_eq!(parse_attribute_filter("empty=").unwrap(), ("empty".into(), String::new()));
        for bad in ["customer", "=v", "bad key=v"] {
            let e = parse_attribute_filter(bad).unwrap_err().to_string();
            assert!(e.starts_with("invalid attribute"), "{bad}: {e}");
        }
    }
}
