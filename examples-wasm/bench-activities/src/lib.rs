//! `bench-activities`: `step_one` and `step_two` for `bench-flow` (and the
//! drift examples): each echoes its input as `{"step": ..., "input": ...}`.

use continuum_sdk::prelude::*;
use serde_json::{json, Value};

fn step_one(input: Value) -> Result<Value, ActivityError> {
    Ok(json!({ "step": "one", "input": input }))
}

fn step_two(input: Value) -> Result<Value, ActivityError> {
    Ok(json!({ "step": "two", "input": input }))
}

fn step_three(input: Value) -> Result<Value, ActivityError> {
    Ok(json!({ "step": "three", "input": input }))
}

continuum_sdk::activities! {
    "step_one" => step_one,
    "step_two" => step_two,
    "step_three" => step_three,
}
