//! Trace context across the journal: the caller's context is captured as a
//! W3C `traceparent` when a run starts and becomes the parent of every
//! attempt's span, wherever and whenever the attempt runs.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::otel_enabled;

/// The caller's current trace context as a W3C `traceparent` string: the
/// OpenTelemetry context of the current `tracing` span when spans are
/// bridged, else the current OpenTelemetry context. `None` outside a trace.
pub fn current_traceparent() -> Option<String> {
    let mut cx = Context::new();
    if otel_enabled() {
        cx = tracing::Span::current().context();
    }
    if !cx.span().span_context().is_valid() {
        cx = Context::current();
        if !cx.span().span_context().is_valid() {
            return None;
        }
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    carrier.remove("traceparent")
}

/// The context a `traceparent` string names (an empty context when it is
/// malformed).
pub fn parent_context(traceparent: &str) -> Context {
    let carrier = HashMap::from([("traceparent".to_string(), traceparent.to_string())]);
    TraceContextPropagator::new().extract(&carrier)
}

/// The span of one run attempt: `run_attempt` with `instance`, `run_id` and
/// `workflow`; exported as `continuum.run_attempt`, child of the trace the
/// run was started in.
pub(crate) fn run_attempt_span(
    instance: &str,
    run_id: &str,
    workflow: &str,
    trace_context: Option<&str>,
) -> tracing::Span {
    let span = tracing::info_span!(
        "run_attempt",
        instance = %instance,
        run_id = %run_id,
        workflow = %workflow,
        otel.name = tracing::field::Empty,
    );
    if otel_enabled() && !span.is_disabled() {
        span.record("otel.name", "continuum.run_attempt");
        span.set_attribute("continuum.instance", instance.to_string());
        span.set_attribute("continuum.run_id", run_id.to_string());
        span.set_attribute("continuum.workflow", workflow.to_string());
        if let Some(tp) = trace_context {
            let parent = parent_context(tp);
            if parent.span().span_context().is_valid() {
                let _ = span.set_parent(parent);
            }
        }
    }
    span
}

/// The span of one activity attempt: `activity_attempt` with `activity` and
/// `attempt`; exported as `continuum.activity_attempt` with the
/// `continuum.*` attributes of its run. Created inside a run attempt's
/// span it is that span's child (and its events get `run_id` and
/// `workflow` from there); otherwise (a durable task on a worker) it
/// carries `run_id` and `workflow` itself and joins the trace the run was
/// started with, when `scope` carries it.
pub(crate) fn activity_attempt_span(
    instance: &str,
    scope: &crate::activities::ActivityScope<'_>,
    activity: &str,
    attempt: u32,
) -> tracing::Span {
    let (run_id, workflow) = (scope.run_id, scope.workflow);
    let span = tracing::info_span!(
        "activity_attempt",
        activity = %activity,
        attempt,
        run_id = tracing::field::Empty,
        workflow = tracing::field::Empty,
        otel.name = tracing::field::Empty,
    );
    let in_run_attempt = tracing::Span::current().metadata().is_some_and(|m| m.name() == "run_attempt");
    if !in_run_attempt && !span.is_disabled() {
        if let Some(run_id) = run_id {
            span.record("run_id", run_id);
        }
        if let Some(workflow) = workflow {
            span.record("workflow", workflow);
        }
    }
    if otel_enabled() && !span.is_disabled() {
        span.record("otel.name", "continuum.activity_attempt");
        span.set_attribute("continuum.instance", instance.to_string());
        if let Some(run_id) = run_id {
            span.set_attribute("continuum.run_id", run_id.to_string());
        }
        if let Some(workflow) = workflow {
            span.set_attribute("continuum.workflow", workflow.to_string());
        }
        span.set_attribute("continuum.activity", activity.to_string());
        span.set_attribute("continuum.attempt", i64::from(attempt));
        if let Some(tp) = scope.trace_context {
            let parent = parent_context(tp);
            if parent.span().span_context().is_valid() {
                let _ = span.set_parent(parent);
            }
        }
    }
    span
}

/// Marks an exported span as failed (no-op without an exporter).
pub(crate) fn mark_error(span: &tracing::Span, message: &str) {
    if otel_enabled() && !span.is_disabled() {
        span.set_status(Status::error(message.to_string()));
    }
}
