//! `conformance-activities`: the activities every conformance workflow calls
//! (`docs/conformance.md`), the same for every guest language.
//!
//! - `conf_flaky {"fail_times": n}`: attempts `1..=n` fail retryably with
//!   code `flaky`; attempt `n+1` returns `{"attempt": n+1}`. The attempt
//!   number comes from the activity context, so the activity is stateless.
//! - `conf_decline {..}`: fails for good (`retryable: false`) with code
//!   `declined` and the message `declined by the activity`.
//! - `conf_echo {"i": i}`: returns `{"i": i, "double": 2*i}`.

use continuum_sdk::activity;
use continuum_sdk::prelude::*;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Flaky {
    fail_times: u32,
}

fn conf_flaky(input: Flaky) -> Result<Value, ActivityError> {
    let attempt = activity::info().attempt;
    if attempt <= input.fail_times {
        return Err(ActivityError::retryable(format!("attempt {attempt} of {} fails", input.fail_times + 1))
            .with_code("flaky"));
    }
    Ok(json!({ "attempt": attempt }))
}

fn conf_decline(_input: Value) -> Result<Value, ActivityError> {
    Err(ActivityError::non_retryable("declined by the activity").with_code("declined"))
}

#[derive(Deserialize)]
struct Echo {
    i: i64,
}

fn conf_echo(input: Echo) -> Result<Value, ActivityError> {
    Ok(json!({ "i": input.i, "double": 2 * input.i }))
}

continuum_sdk::activities! {
    "conf_flaky" => conf_flaky,
    "conf_decline" => conf_decline,
    "conf_echo" => conf_echo,
}
