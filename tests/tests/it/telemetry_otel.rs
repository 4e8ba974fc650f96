//! OpenTelemetry in one process: exported spans (in memory, two instances,
//! the caller's trace continued into runs and activities, error status and
//! retried attempts), log events with the run's fields (durable tasks on a
//! worker included), guest logs muted on replay. The OTLP/HTTP export of a
//! real `continuum serve` is in `telemetry_otlp.rs`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use continuum_host::{ActivityError, ActivityRegistry};
use continuum_host::Instance;
use continuum_host::RunState;
use continuum_host::{CallOptions, CancelOutcome, Continuum, StartOptions};
use continuum_tests::{component, eventually, TempDir};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// One event of the runtime (target `continuum*`) as the host logged it:
/// its fields over those of its spans (outermost first), `message` included.
#[derive(Debug, Clone)]
struct Logged {
    target: String,
    fields: BTreeMap<String, String>,
}

impl Logged {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

#[derive(Default)]
struct FieldMap(BTreeMap<String, String>);

impl Visit for FieldMap {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_string(), format!("{value:?}").trim_matches('"').to_string());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

/// The fields a span was given, kept in its extensions.
struct SpanFields(BTreeMap<String, String>);

/// Records the runtime's events with the fields of their spans.
struct Events(Arc<Mutex<Vec<Logged>>>);

impl<S> Layer<S> for Events
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = FieldMap::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields.0));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let mut fields = FieldMap::default();
        values.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            if let Some(SpanFields(known)) = span.extensions_mut().get_mut::<SpanFields>() {
                known.extend(fields.0);
            }
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        let target = event.metadata().target();
        if !target.starts_with("continuum") {
            return;
        }
        let mut fields = BTreeMap::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(SpanFields(known)) = span.extensions().get::<SpanFields>() {
                    fields.extend(known.clone());
                }
            }
        }
        let mut own = FieldMap::default();
        event.record(&mut own);
        fields.extend(own.0);
        self.0.lock().unwrap().push(Logged { target: target.to_string(), fields });
    }
}

struct Telemetry {
    spans: InMemorySpanExporter,
    events: Arc<Mutex<Vec<Logged>>>,
    metrics: InMemoryMetricExporter,
    meter_provider: SdkMeterProvider,
}

impl Telemetry {
    /// The events of a run (its `run_id`, own or from a span).
    fn events_of(&self, run_id: &str) -> Vec<Logged> {
        self.events.lock().unwrap().iter().filter(|l| l.field("run_id") == Some(run_id)).cloned().collect()
    }

    /// The attributes of each data point of the metric `name` (sums and
    /// histograms), after exporting what was recorded so far.
    fn metric_points(&self, name: &str) -> Vec<BTreeMap<String, String>> {
        fn map<'a>(attrs: impl Iterator<Item = &'a KeyValue>) -> BTreeMap<String, String> {
            attrs.map(|kv| (kv.key.as_str().to_string(), kv.value.to_string())).collect()
        }
        self.meter_provider.force_flush().expect("export the metrics");
        let mut points = Vec::new();
        for rm in self.metrics.get_finished_metrics().unwrap() {
            for m in rm.scope_metrics().flat_map(|sm| sm.metrics()).filter(|m| m.name() == name) {
                match m.data() {
                    AggregatedMetrics::U64(MetricData::Sum(s)) => points.extend(s.data_points().map(|p| map(p.attributes()))),
                    AggregatedMetrics::F64(MetricData::Histogram(h)) => points.extend(h.data_points().map(|p| map(p.attributes()))),
                    _ => {}
                }
            }
        }
        points
    }

    fn spans_of(&self, run_id: &str) -> Vec<SpanData> {
        let spans = self.spans.get_finished_spans().unwrap();
        spans.into_iter().filter(|s| attr_str(s, "continuum.run_id").as_deref() == Some(run_id)).collect()
    }
}

/// The process-wide subscriber: spans to an in-memory exporter through the
/// host's own OpenTelemetry layer, the runtime's events to a list; and the
/// runtime's metrics to an in-memory exporter.
fn telemetry() -> &'static Telemetry {
    static T: OnceLock<Telemetry> = OnceLock::new();
    T.get_or_init(|| {
        let spans = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
        let events = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry()
            .with(continuum_host::telemetry::otel_layer(&provider))
            .with(Events(events.clone()))
            .with(tracing_subscriber::filter::LevelFilter::INFO);
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        std::mem::forget(provider);
        let metrics = InMemoryMetricExporter::default();
        let meter_provider = SdkMeterProvider::builder().with_reader(PeriodicReader::builder(metrics.clone()).build()).build();
        continuum_host::telemetry::install_meter_provider(meter_provider.clone());
        Telemetry { spans, events, metrics, meter_provider }
    })
}

fn attr(span: &SpanData, key: &str) -> Option<Value> {
    span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.clone())
}

fn attr_str(span: &SpanData, key: &str) -> Option<String> {
    attr(span, key).map(|v| v.as_str().into_owned())
}

fn order(id: &str) -> serde_json::Value {
    json!({"order_id": id, "sku": "BOOK", "quantity": 1, "amount_cents": 4200, "card": "4242"})
}

async fn instance(name: &str, dir: &TempDir) -> Instance {
    Instance::builder(name)
        .database(format!("sqlite:{}", dir.0.join(format!("{name}.db")).display()))
        .workflow("order-flow", component("order_flow"))
        .activity_component(component("order_activities"))
        .cache_dir(continuum_tests::cache_dir())
        .build()
        .await
        .expect("build the instance")
}

/// Starts an order in `instance` inside a traced caller span, approves it
/// and waits for it; returns the run id and the caller's trace id.
async fn traced_order(c: &Continuum, instance: &str, order_id: &str) -> (String, opentelemetry::trace::TraceId) {
    let caller = tracing::info_span!("caller", order = order_id);
    let trace_id = caller.context().span().span_context().trace_id();
    let start = c.start("order-flow", order(order_id), StartOptions { instance: Some(instance.into()), run_id: None, ..Default::default() });
    let run_id = tracing::Instrument::instrument(start, caller).await.expect("start");
    let opts = || CallOptions::instance(instance);
    // Suspended, waiting for the fraud review: the approval resumes it by replay.
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.signal(&run_id, "fraud_review", json!("approved"), opts()).await.expect("signal");
    let outcome = c.await_run(&run_id, Duration::from_secs(30), opts()).await.expect("await");
    assert_eq!(outcome.state, continuum_host::RunState::Completed, "{outcome:?}");
    (run_id, trace_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_of_two_instances_join_the_callers_trace() {
    let t = telemetry();
    let dir = TempDir::new();
    let mut c = Continuum::new();
    c.register(instance("alpha", &dir).await).unwrap();
    c.register(instance("beta", &dir).await).unwrap();
    c.start_all();
    let (run_a, trace_a) = traced_order(&c, "alpha", "o-alpha").await;
    let (run_b, trace_b) = traced_order(&c, "beta", "o-beta").await;
    c.stop_all().await;
    assert_ne!(trace_a, trace_b);

    let spans = t.spans.get_finished_spans().unwrap();
    for (run_id, trace_id, inst) in [(&run_a, trace_a, "alpha"), (&run_b, trace_b, "beta")] {
        let of_run: Vec<&SpanData> =
            spans.iter().filter(|s| attr_str(s, "continuum.run_id").as_deref() == Some(run_id.as_str())).collect();
        let attempts: Vec<&SpanData> = of_run.iter().copied().filter(|s| s.name == "continuum.run_attempt").collect();
        // First attempt until the signal wait, then the resumed one.
        assert!(attempts.len() >= 2, "run attempts of {run_id}: {attempts:#?}");
        for a in &attempts {
            assert_eq!(attr_str(a, "continuum.instance").as_deref(), Some(inst));
            assert_eq!(attr_str(a, "continuum.workflow").as_deref(), Some("order-flow"));
            assert_eq!(a.span_context.trace_id(), trace_id, "the attempt joins the caller's trace");
            assert_eq!(a.span_kind, SpanKind::Internal);
        }
        let attempt_ids: Vec<_> = attempts.iter().map(|a| a.span_context.span_id()).collect();
        let activities: Vec<&SpanData> =
            of_run.iter().copied().filter(|s| s.name == "continuum.activity_attempt").collect();
        let names: Vec<String> = activities.iter().filter_map(|s| attr_str(s, "continuum.activity")).collect();
        for expected in ["reserve_stock", "charge_card", "ship_order"] {
            assert!(names.iter().any(|n| n == expected), "{expected} missing in {names:?}");
        }
        for s in &activities {
            assert_eq!(attr_str(s, "continuum.instance").as_deref(), Some(inst));
            assert_eq!(attr_str(s, "continuum.workflow").as_deref(), Some("order-flow"));
            assert_eq!(attr(s, "continuum.attempt"), Some(Value::I64(1)));
            assert_eq!(s.span_context.trace_id(), trace_id);
            assert!(attempt_ids.contains(&s.parent_span_id), "an activity attempt is a child of a run attempt");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durable_task_attempts_on_a_worker_join_the_runs_trace() {
    use continuum_host::ChildrenConfig;
    let t = telemetry();
    let dir = TempDir::new();
    let db = format!("sqlite:{}", dir.0.join("split.db").display());
    // The workflow host has no activities: its calls become durable tasks,
    // claimed by a worker of the same instance that runs no workflows.
    let workflows = Instance::builder("gamma")
        .database(db.clone())
        .workflow("order-flow", component("order_flow"))
        .cache_dir(continuum_tests::cache_dir())
        .build()
        .await
        .expect("workflow host");
    let mut worker_children = ChildrenConfig::default();
    worker_children.run_supervisor = None;
    worker_children.dispatcher = None;
    worker_children.recovery = None;
    worker_children.heartbeater = None;
    let worker = Instance::builder("gamma")
        .database(db)
        .activity_component(component("order_activities"))
        .children(worker_children)
        .cache_dir(continuum_tests::cache_dir())
        .build()
        .await
        .expect("worker host");
    let mut c = Continuum::new();
    c.register(workflows).unwrap();
    c.start_all();
    let mut w = Continuum::new();
    w.register(worker).unwrap();
    w.start_all();
    let (run_id, trace_id) = traced_order(&c, "gamma", "o-gamma").await;
    c.stop_all().await;
    w.stop_all().await;

    let spans = t.spans.get_finished_spans().unwrap();
    let activities: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.name == "continuum.activity_attempt" && attr_str(s, "continuum.run_id").as_deref() == Some(run_id.as_str()))
        .collect();
    assert!(activities.len() >= 3, "{activities:#?}");
    for s in activities {
        assert_eq!(attr_str(s, "continuum.instance").as_deref(), Some("gamma"));
        assert_eq!(attr_str(s, "continuum.workflow").as_deref(), Some("order-flow"));
        assert_eq!(s.span_context.trace_id(), trace_id, "a worker's attempt joins the run's trace");
    }
    // The worker's log events of the attempts name the run and its
    // workflow, though no run attempt's span encloses them there.
    let events = t.events_of(&run_id);
    for message in ["activity task claimed", "activity started", "activity completed"] {
        let of_kind: Vec<&Logged> = events.iter().filter(|l| l.field("message") == Some(message)).collect();
        assert!(of_kind.len() >= 3, "`{message}` events of the run: {events:#?}");
        for l in of_kind {
            assert_eq!((l.field("instance"), l.field("workflow")), (Some("gamma"), Some("order-flow")), "{l:?}");
        }
    }
}

/// Native order-flow activities: `reserve_stock` fails (retryably) on its
/// first call, `charge_card` declines every card.
fn failing_activities() -> ActivityRegistry {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut reg = ActivityRegistry::new();
    reg.register_json("reserve_stock", move |_| {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                return Err(ActivityError::retryable("warehouse busy"));
            }
            Ok(json!({"reservation_id": "res-1"}))
        }
    });
    reg.register_json("charge_card", |_| async { Err(ActivityError::non_retryable("card declined")) });
    reg.register_json("release_stock", |_| async { Ok(json!({})) });
    reg.register_json("refund_payment", |_| async { Ok(json!({})) });
    reg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_and_a_retried_attempt_show_in_spans_and_events() {
    let t = telemetry();
    let dir = TempDir::new();
    let inst = Instance::builder("delta")
        .database(format!("sqlite:{}", dir.0.join("delta.db").display()))
        .workflow("order-flow", component("order_flow"))
        .activities(failing_activities())
        .cache_dir(continuum_tests::cache_dir())
        .build()
        .await
        .expect("build the instance");
    let mut c = Continuum::new();
    c.register(inst).unwrap();
    c.start_all();
    let opts = StartOptions { instance: Some("delta".into()), run_id: None, ..Default::default() };
    let run_id = c.start("order-flow", order("o-fail"), opts).await.expect("start");
    let outcome = c.await_run(&run_id, Duration::from_secs(30), CallOptions::instance("delta")).await.expect("await");
    assert_eq!(outcome.state, RunState::Failed, "{outcome:?}");
    c.stop_all().await;

    let spans = t.spans_of(&run_id);
    // The retry of reserve_stock is a durable task: the run suspends
    // while it waits, so it has several attempts; the last one failed.
    let mut attempts: Vec<&SpanData> = spans.iter().filter(|s| s.name == "continuum.run_attempt").collect();
    attempts.sort_by_key(|s| s.start_time);
    let last = attempts.last().unwrap_or_else(|| panic!("no run attempt span: {spans:#?}"));
    assert!(matches!(last.status, Status::Error { .. }), "a failed run's last attempt: {:?}", last.status);
    assert!(attempts[..attempts.len() - 1].iter().all(|s| !matches!(s.status, Status::Error { .. })), "only the last attempt failed");
    let activity = |name: &str| -> Vec<&SpanData> {
        spans.iter().filter(|s| attr_str(s, "continuum.activity").as_deref() == Some(name)).collect()
    };
    let reserve = activity("reserve_stock");
    let numbers: Vec<Option<Value>> = reserve.iter().map(|s| attr(s, "continuum.attempt")).collect();
    assert_eq!(numbers.len(), 2, "{reserve:#?}");
    assert!(numbers.contains(&Some(Value::I64(1))) && numbers.contains(&Some(Value::I64(2))), "{numbers:?}");
    for s in &reserve {
        let retried = attr(s, "continuum.attempt") == Some(Value::I64(1));
        assert_eq!(matches!(s.status, Status::Error { .. }), retried, "only the failed attempt is an error: {s:#?}");
    }
    let charge = activity("charge_card");
    assert!(charge.len() == 1 && matches!(charge[0].status, Status::Error { .. }), "{charge:#?}");

    let events = t.events_of(&run_id);
    let retried: Vec<&Logged> = events.iter().filter(|l| l.field("message") == Some("activity retried")).collect();
    assert_eq!(retried.len(), 1, "{events:#?}");
    assert_eq!((retried[0].field("activity"), retried[0].field("attempt")), (Some("reserve_stock"), Some("1")));
    let failed: Vec<&Logged> = events.iter().filter(|l| l.field("message") == Some("run failed")).collect();
    assert_eq!(failed.len(), 1, "{events:#?}");
    for l in &events {
        assert_eq!((l.field("instance"), l.field("workflow")), (Some("delta"), Some("order-flow")), "{l:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_logs_carry_the_run_and_are_muted_on_replay() {
    let t = telemetry();
    let dir = TempDir::new();
    let mut c = Continuum::new();
    c.register(instance("gamma", &dir).await).unwrap();
    c.start_all();
    let (run_id, _) = traced_order(&c, "gamma", "o-log").await;
    c.stop_all().await;
    let attempts = t.spans_of(&run_id).iter().filter(|s| s.name == "continuum.run_attempt").count();
    assert!(attempts >= 2, "the run must have been resumed by replay: {attempts} attempt(s)");
    let logs: Vec<Logged> = t.events_of(&run_id).into_iter().filter(|l| l.target == "continuum::guest").collect();
    let opening: Vec<&Logged> =
        logs.iter().filter(|l| l.fields.get("message").is_some_and(|m| m.contains("o-log: 1 x BOOK"))).collect();
    // Logged by the first attempt; the resumed attempt replays past it silently.
    assert_eq!(opening.len(), 1, "guest logs of the run: {logs:#?}");
    assert_eq!(opening[0].fields.get("instance").map(String::as_str), Some("gamma"));
    assert_eq!(opening[0].fields.get("workflow").map(String::as_str), Some("order-flow"));
    // Logged after the run's last command (the review timer) and before the
    // wait-any the first attempt suspended at: the resumed attempt, which
    // replays up to that wait, must not log it again.
    let waiting = logs
        .iter()
        .filter(|l| l.fields.get("message").is_some_and(|m| m.contains("o-log: charged; waiting for the fraud review")))
        .count();
    assert_eq!(waiting, 1, "guest logs of the run: {logs:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cancelled_through_the_journal_records_its_end() {
    let t = telemetry();
    let dir = TempDir::new();
    let mut c = Continuum::new();
    c.register(instance("epsilon", &dir).await).unwrap();
    c.start_all();
    let opts = || CallOptions::instance("epsilon");
    let start = StartOptions { instance: Some("epsilon".into()), run_id: None, ..Default::default() };
    let run_id = c.start("order-flow", order("o-idle"), start).await.expect("start");
    let waiting = eventually(Duration::from_secs(30), || async {
        (c.history(&run_id, opts()).await.ok()?.run.state == RunState::Suspended).then_some(())
    })
    .await;
    assert!(waiting.is_some(), "the run never waited for its review");
    // No engine left: the termination is committed through the journal.
    c.stop_all().await;
    assert_eq!(c.terminate(&run_id, opts()).await.expect("terminate"), CancelOutcome::Cancelled);
    let events = t.events_of(&run_id);
    assert!(events.iter().any(|l| l.field("message") == Some("run cancelled through the journal")), "{events:#?}");

    let ours = |p: &BTreeMap<String, String>| {
        p.get("continuum.instance").map(String::as_str) == Some("epsilon")
            && p.get("continuum.outcome").map(String::as_str) == Some("cancelled")
            && p.get("continuum.workflow").map(String::as_str) == Some("order-flow")
    };
    for name in ["continuum.runs.failed", "continuum.run.duration"] {
        let points = t.metric_points(name);
        assert!(points.iter().any(ours), "{name}: {points:?}");
    }
}
