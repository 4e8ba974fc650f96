// The child-workflow cases of `docs/conformance.md`, included by `cases.rs`
// (and so shared with `rust-conformance-v2`): each starts children of the
// conformance workflow the input's `workflow` names (the language's own,
// so every suite can start them), each child running a simple case.

/// The child workflow's name, from the input.
fn child_workflow(input: &Value) -> Result<&str, WorkflowError> {
    input["workflow"]
        .as_str()
        .ok_or_else(|| WorkflowError::new("invalid_input", "the case needs the parameter `workflow` (a string)"))
}

/// The kind and code of a child's typed error.
fn child_error_json(e: &ChildError) -> Value {
    let kind = match e {
        ChildError::Failed { .. } => "failed",
        ChildError::Cancelled { .. } => "cancelled",
        ChildError::Terminated { .. } => "terminated",
        ChildError::UnknownWorkflow { .. } => "unknown_workflow",
        ChildError::Refused { .. } => "refused",
        ChildError::BadPayload { .. } => "bad_payload",
    };
    json!({ "kind": kind, "code": e.code() })
}

/// One child running `patch`, under the run id `run_id`: its output and
/// its run id as the handle tells it.
fn child(ctx: &Workflow, input: &Value) -> Result<Value, WorkflowError> {
    let run_id = input["run_id"]
        .as_str()
        .ok_or_else(|| WorkflowError::new("invalid_input", "the case needs the parameter `run_id` (a string)"))?;
    let run: ChildRun<Value> =
        ctx.start_child(child_workflow(input)?, &json!({ "case": "patch" }), ChildOptions::default().run_id(run_id));
    let id = run.run_id();
    Ok(json!({ "child": run.wait()?, "child_run_id": id }))
}

/// `n` children started before any is waited on (child `i` runs `fan_out`
/// with `n = i`), joined in order.
fn child_join(ctx: &Workflow, input: &Value) -> Result<Value, WorkflowError> {
    let workflow = child_workflow(input)?;
    let runs: Vec<ChildRun<Value>> = (0..param(input, "n")?)
        .map(|i| ctx.start_child(workflow, &json!({ "case": "fan_out", "n": i }), ChildOptions::default()))
        .collect();
    let results = ctx.join_children(runs).into_iter().collect::<Result<Vec<Value>, ChildError>>()?;
    Ok(json!({ "results": results }))
}

/// A child sleeping `child_ms` raced against a timer of `timer_ms`; a child
/// still running when the parent ends is cancelled (the default policy).
fn child_race(ctx: &Workflow, input: &Value) -> Result<Value, WorkflowError> {
    let run: ChildRun<Value> = ctx.start_child(
        child_workflow(input)?,
        &json!({ "case": "timer", "ms": param(input, "child_ms")? }),
        ChildOptions::default(),
    );
    let deadline = ctx.timer(Duration::from_millis(param(input, "timer_ms")?));
    Ok(match ctx.select(&[&run, &deadline]) {
        0 => json!({ "winner": "child", "child": run.wait()? }),
        _ => json!({ "winner": "timer" }),
    })
}

/// A child of a workflow no one deployed, and a child failing (an unknown
/// case): both typed errors caught.
fn child_errors(ctx: &Workflow, input: &Value) -> Result<Value, WorkflowError> {
    let unknown = match ctx.child::<_, Value>("no-such-workflow", &json!({}), ChildOptions::default()) {
        Ok(v) => return Err(WorkflowError::new("unexpected", format!("no-such-workflow returned {v}"))),
        Err(e) => {
            let mut error = child_error_json(&e);
            error["names_it"] = json!(e.message().contains("no-such-workflow"));
            error
        }
    };
    let failed = match ctx.child::<_, Value>(child_workflow(input)?, &json!({ "case": "no_such_case" }), ChildOptions::default()) {
        Ok(v) => return Err(WorkflowError::new("unexpected", format!("the unknown case returned {v}"))),
        Err(e) => child_error_json(&e),
    };
    Ok(json!({ "unknown": unknown, "failed": failed }))
}

/// A child running `saga_cancel`, waited on: the harness cancels this run,
/// the cancellation reaches the child (the default policy), which
/// compensates; the wait's error fails this run.
fn child_cancel(ctx: &Workflow, input: &Value) -> Result<Value, WorkflowError> {
    let output: Value = ctx.child(child_workflow(input)?, &json!({ "case": "saga_cancel" }), ChildOptions::default())?;
    Ok(json!({ "child": output }))
}

/// Runs the child case `name`, if it is one.
fn child_cases(ctx: &Workflow, name: &str, input: &Value) -> Option<Result<Value, WorkflowError>> {
    Some(match name {
        "child" => child(ctx, input),
        "child_join" => child_join(ctx, input),
        "child_race" => child_race(ctx, input),
        "child_errors" => child_errors(ctx, input),
        "child_cancel" => child_cancel(ctx, input),
        _ => return None,
    })
}
