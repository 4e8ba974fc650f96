//! Rendering a run and its journal for people (`continuum show`).

use std::fmt::Write;

use continuum_host::{EventBody, RunHistory};

fn short(v: &serde_json::Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 100 {
        format!("{}…", s.chars().take(100).collect::<String>())
    } else {
        s
    }
}

/// One line describing an event.
pub fn describe(body: &EventBody) -> String {
    match body {
        EventBody::RunStarted { module_hash } => format!("module {}", &module_hash[..module_hash.len().min(12)]),
        EventBody::ActivityScheduled { op, name, input, .. } => format!("op {op}  {name}({})", short(input)),
        EventBody::ActivityCompleted { op, output, attempts } => {
            format!("op {op}  -> {}  ({attempts} attempt{})", short(output), if *attempts == 1 { "" } else { "s" })
        }
        EventBody::ActivityFailed { op, failure } => {
            format!("op {op}  {:?}: {} ({} attempts)", failure.kind, failure.message, failure.attempts)
        }
        EventBody::TimerStarted { op, duration_ms, fire_at_ms } => {
            let at = chrono::DateTime::from_timestamp_millis(*fire_at_ms).map(|t| t.to_rfc3339()).unwrap_or_default();
            format!("op {op}  {duration_ms} ms, due {at}")
        }
        EventBody::TimerFired { op } => format!("op {op}"),
        EventBody::SignalRequested { op, name } => format!("op {op}  `{name}`"),
        EventBody::SignalReceived { op, name, payload, signal_id, update_id } => match update_id {
            Some(u) => format!("op {op}  `{name}` = {}  (inbox #{signal_id}, update {u})", short(payload)),
            None => format!("op {op}  `{name}` = {}  (inbox #{signal_id})", short(payload)),
        },
        EventBody::ClockRead { value_ms } => {
            chrono::DateTime::from_timestamp_millis(*value_ms as i64).map(|t| t.to_rfc3339()).unwrap_or_default()
        }
        EventBody::RandomDrawn { value } => value.to_string(),
        EventBody::UuidDrawn { value } => value.clone(),
        EventBody::PatchMarker { name } => format!("`{name}`"),
        EventBody::RunCompleted { output } => short(output),
        EventBody::RunFailed { error } => short(error),
        EventBody::RunCancelled { reason } => reason.clone(),
        EventBody::ChildStarted { op, workflow, run_id, input, .. } => format!("op {op}  {workflow}({})  run {run_id}", short(input)),
        EventBody::ContinuedAsNew { run_id, input, module_hash } => {
            format!("-> run {run_id} @ {}  input {}", &module_hash[..module_hash.len().min(12)], short(input))
        }
        EventBody::ChildCompleted { op, output } => format!("op {op}  -> {}", short(output)),
        EventBody::ChildFailed { op, failure } => {
            let code = failure.code.as_deref().map(|c| format!(" [{c}]")).unwrap_or_default();
            format!("op {op}  {:?}{code}: {}", failure.kind, failure.message)
        }
        EventBody::AttributeSet { key, value } => format!("{key} = {value}"),
        EventBody::UpdateReplied { update_id, reply, error } => match error {
            Some(e) => format!("update {update_id}  rejected: {e}"),
            None => format!("update {update_id}  -> {}", short(reply.as_ref().unwrap_or(&serde_json::Value::Null))),
        },
        _ => String::new(),
    }
}

/// The run's state (and parent, for a child run), journal, child runs and
/// the heartbeats of its activity calls in progress, as text.
pub fn render(history: &RunHistory) -> String {
    let (run, events, heartbeats) = (&history.run, &history.events, &history.heartbeats);
    let mut out = String::new();
    let _ = writeln!(out, "run {} (instance {})", run.key.run_id, run.key.instance);
    let _ = writeln!(out, "  workflow  {} @ {}", run.workflow, &run.module_hash[..run.module_hash.len().min(12)]);
    match &run.paused_at {
        Some(at) if !run.state.is_final() => {
            let _ = writeln!(out, "  state     {} (paused since {})", run.state, at.to_rfc3339());
        }
        _ => {
            let _ = writeln!(out, "  state     {}", run.state);
        }
    }
    if let Some(parent) = &run.parent_run_id {
        let _ = writeln!(out, "  parent    {parent}");
    }
    if let Some(from) = &run.continued_from {
        let _ = writeln!(out, "  continues {from}");
    }
    if let Some(to) = &run.continued_to {
        let _ = writeln!(out, "  continued {to}");
    }
    let _ = writeln!(out, "  input     {}", short(&run.input));
    for (key, value) in &run.attributes {
        let _ = writeln!(out, "  attribute {key} = {value}");
    }
    if let Some(o) = &run.output {
        let _ = writeln!(out, "  output    {}", short(o));
    }
    if let Some(e) = &run.error {
        let _ = writeln!(out, "  error     {}", short(e));
    }
    match (&run.lease_owner, &run.lease_expires_at) {
        (Some(owner), Some(exp)) => {
            let _ = writeln!(out, "  lease     {owner} (token {}, expires {})", run.lease_token, exp.to_rfc3339());
        }
        _ => {
            let _ = writeln!(out, "  lease     none (token {})", run.lease_token);
        }
    }
    if let Some(w) = &run.wake_at {
        let _ = writeln!(out, "  wake at   {}", w.to_rfc3339());
    }
    if let Some(c) = &run.cancel_requested_at {
        let _ = writeln!(out, "  cancel    requested {}", c.to_rfc3339());
    }
    let _ = writeln!(out, "  created   {}", run.created_at.to_rfc3339());
    let _ = writeln!(out, "journal ({} events)", events.len());
    for e in events {
        let _ = writeln!(out, "  {:>4}  {}  {:<19} {}", e.seq, e.recorded_at.format("%H:%M:%S%.3f"), e.body.kind(), describe(&e.body));
    }
    if !history.open_activities.is_empty() {
        let _ = writeln!(out, "activity calls without an outcome");
        for a in &history.open_activities {
            let started = a.attempts_started;
            let _ = write!(out, "  op {:<3} {}  queue `{}`  {}, {started} attempt{} started", a.op, a.activity, a.queue, a.state,
                if started == 1 { "" } else { "s" });
            if a.served {
                let _ = writeln!(out);
            } else {
                let _ = writeln!(out, "  -- waiting: no host of instance `{}` serves activity `{}` on queue `{}`", run.key.instance, a.activity, a.queue);
            }
        }
    }
    if !history.children.is_empty() {
        let _ = writeln!(out, "children");
        for c in &history.children {
            let _ = writeln!(out, "  op {:<3} {}  {}  {}  (parent close: {})", c.parent_op, c.key.run_id, c.workflow, c.state,
                c.parent_close.as_str());
        }
    }
    if !history.chain.is_empty() {
        let _ = writeln!(out, "chain (continue-as-new)");
        for c in &history.chain {
            let this = if c.key.run_id == run.key.run_id { "  <- this run" } else { "" };
            let _ = writeln!(out, "  #{:<4} {}  {}  @ {}{this}", c.chain_seq, c.key.run_id, c.state,
                &c.module_hash[..c.module_hash.len().min(12)]);
        }
    }
    for r in &history.resets {
        let reason = r.reason.as_deref().map(|x| format!(": {x}")).unwrap_or_default();
        let _ = writeln!(out, "{} #{} at {} to entry {} (was {}){reason}; superseded ({} events)", r.kind, r.reset_id,
            r.at.to_rfc3339(), r.to_seq, r.previous_state, r.superseded.len());
        for e in &r.superseded {
            let _ = writeln!(out, "  {:>4}  {}  {:<19} {}", e.seq, e.recorded_at.format("%H:%M:%S%.3f"), e.body.kind(), describe(&e.body));
        }
    }
    if !heartbeats.is_empty() {
        let _ = writeln!(out, "activity heartbeats");
        for h in heartbeats {
            let _ = writeln!(out, "  op {:<3} attempt {:<3} {}  {}", h.op, h.attempt, h.recorded_at.format("%H:%M:%S%.3f"), short(&h.details));
        }
    }
    out
}
