//! Idempotent starts: a start under a run id that exists is the same start
//! again when its workflow and input are the run's (it returns that run),
//! and a conflict otherwise, named by the first difference found.

use serde_json::Value;

use crate::input_limits::clip;

/// How a start under an existing run id differs from that run, if it does:
/// its workflow, or the first place (a JSON pointer) where the inputs
/// differ.
pub(crate) fn difference(run_workflow: &str, run_input: &Value, workflow: &str, input: &Value) -> Option<String> {
    if run_workflow != workflow {
        return Some(format!("it runs workflow `{run_workflow}`, not `{}`", clip(workflow)));
    }
    let (pointer, was, now) = first_difference(run_input, input, String::new())?;
    let at = if pointer.is_empty() { "the input".to_string() } else { format!("the input at `{pointer}`") };
    Some(format!("{at} is {} there, {} here", shown(was), shown(now)))
}

fn shown(v: Option<&Value>) -> String {
    match v {
        None => "absent".into(),
        Some(v) => clip(&v.to_string()),
    }
}

/// Where `a` and `b` first differ (object keys in order, then array
/// items), with the two values there (`None`: absent on that side).
fn first_difference<'a>(a: &'a Value, b: &'a Value, at: String) -> Option<(String, Option<&'a Value>, Option<&'a Value>)> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let path = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => first_difference(p, q, path),
                    (p, q) => Some((path, p, q)),
                }
            })
        }
        (Value::Array(x), Value::Array(y)) => {
            let n = x.len().max(y.len());
            (0..n).find_map(|i| match (x.get(i), y.get(i)) {
                (Some(p), Some(q)) => first_difference(p, q, format!("{at}/{i}")),
                (p, q) => Some((format!("{at}/{i}"), p, q)),
            })
        }
        _ if a == b => None,
        _ => Some((at, Some(a), Some(b))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_same_start_has_no_difference() {
        let input = json!({"order": {"id": "o-1", "lines": [1, 2]}, "rush": false});
        assert_eq!(difference("order-flow", &input, "order-flow", &input.clone()), None);
    }

    #[test]
    fn the_first_difference_is_named() {
        let run = json!({"order": {"id": "o-1", "lines": [1, 2]}, "rush": false});
        assert_eq!(
            difference("order-flow", &run, "billing-flow", &run).as_deref(),
            Some("it runs workflow `order-flow`, not `billing-flow`")
        );
        let other = json!({"order": {"id": "o-1", "lines": [1, 3]}, "rush": false});
        assert_eq!(difference("w", &run, "w", &other).as_deref(), Some("the input at `/order/lines/1` is 2 there, 3 here"));
        let fewer = json!({"order": {"id": "o-1", "lines": [1, 2]}});
        assert_eq!(difference("w", &run, "w", &fewer).as_deref(), Some("the input at `/rush` is false there, absent here"));
        assert_eq!(difference("w", &json!(1), "w", &json!("1")).as_deref(), Some("the input is 1 there, \"1\" here"));
        let slash = json!({"a/b": 1});
        assert_eq!(difference("w", &slash, "w", &json!({"a/b": 2})).as_deref(), Some("the input at `/a~1b` is 1 there, 2 here"));
    }
}
