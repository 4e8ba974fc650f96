//! OpenTelemetry: exported spans (in memory, two instances in one process,
//! the caller's trace continued into runs and activities), guest logs with
//! the run's fields and muted on replay, and the OTLP/HTTP export of a real
//! `continuum serve` to a receiver started by the test.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use continuum_host::instance::Instance;
use continuum_host::{CallOptions, Continuum, StartOptions};
use continuum_tests::{cli_ok, component, write_manifest, Host, InstanceSpec, TempDir};
use opentelemetry::trace::{SpanKind, TraceContextExt};
use opentelemetry::Value;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// One guest log line as the host logged it.
#[derive(Debug, Clone)]
struct GuestLog {
    fields: BTreeMap<String, String>,
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

/// Records the events of target `continuum::guest`.
struct GuestLogs(Arc<Mutex<Vec<GuestLog>>>);

impl<S: tracing::Subscriber> Layer<S> for GuestLogs {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == "continuum::guest" {
            let mut fields = FieldMap::default();
            event.record(&mut fields);
            self.0.lock().unwrap().push(GuestLog { fields: fields.0 });
        }
    }
}

struct Telemetry {
    spans: InMemorySpanExporter,
    logs: Arc<Mutex<Vec<GuestLog>>>,
}

/// The process-wide subscriber: spans to an in-memory exporter through the
/// host's own OpenTelemetry layer, guest logs to a list.
fn telemetry() -> &'static Telemetry {
    static T: OnceLock<Telemetry> = OnceLock::new();
    T.get_or_init(|| {
        let spans = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry()
            .with(continuum_host::telemetry::otel_layer(&provider))
            .with(GuestLogs(logs.clone()))
            .with(tracing_subscriber::filter::LevelFilter::INFO);
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        std::mem::forget(provider);
        Telemetry { spans, logs }
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
    let start = c.start("order-flow", order(order_id), StartOptions { instance: Some(instance.into()), run_id: None });
    let run_id = tracing::Instrument::instrument(start, caller).await.expect("start");
    let opts = || CallOptions::instance(instance);
    // Suspended, waiting for the fraud review: the approval resumes it by replay.
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.signal(&run_id, "fraud_review", json!("approved"), opts()).await.expect("signal");
    let outcome = c.await_run(&run_id, Duration::from_secs(30), opts()).await.expect("await");
    assert_eq!(outcome.state, continuum_host::journal::RunState::Completed, "{outcome:?}");
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
    use continuum_host::instance::options::ChildrenConfig;
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
    worker_children.timer_wheel = None;
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
    let attempts = t
        .spans
        .get_finished_spans()
        .unwrap()
        .iter()
        .filter(|s| s.name == "continuum.run_attempt" && attr_str(s, "continuum.run_id").as_deref() == Some(run_id.as_str()))
        .count();
    assert!(attempts >= 2, "the run must have been resumed by replay: {attempts} attempt(s)");
    let logs: Vec<GuestLog> =
        t.logs.lock().unwrap().iter().filter(|l| l.fields.get("run_id") == Some(&run_id)).cloned().collect();
    let opening: Vec<&GuestLog> =
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

/// A minimal OTLP/HTTP receiver: accepts `POST /v1/traces` and
/// `/v1/metrics` with protobuf bodies, answers 200, keeps the bodies.
async fn receiver() -> (String, Arc<Mutex<Vec<(String, Vec<u8>)>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let store = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let store = store.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    // Headers.
                    let end = loop {
                        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break p + 4;
                        }
                        let mut chunk = [0u8; 8192];
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_string();
                    let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                    let len = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    while buf.len() < end + len {
                        let mut chunk = [0u8; 8192];
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body = buf[end..end + len].to_vec();
                    buf.drain(..end + len);
                    store.lock().unwrap().push((path, body));
                    let reply = b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
                    if sock.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_exports_spans_and_metrics_over_otlp_http() {
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value;
    use prost::Message;

    let (url, got) = receiver().await;
    let dir = TempDir::new();
    let db = format!("sqlite:{}", dir.0.join("otlp.db").display());
    let manifest = write_manifest(&dir.0, "otlp-node", &[InstanceSpec::examples("shop", &db)]);
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{text}\n[telemetry]\notlp_endpoint = \"{url}\"\nservice_name = \"continuum-test\"\n")).unwrap();
    std::env::set_var("OTEL_BSP_SCHEDULE_DELAY", "100");
    std::env::set_var("OTEL_METRIC_EXPORT_INTERVAL", "200");
    let host = Host::start(&manifest, &[]);
    assert!(host.wait_for_log("instance started", Duration::from_secs(60)), "{}", host.log_text());
    let input = order("o-otlp").to_string();
    let m = manifest.clone();
    let run_id = tokio::task::spawn_blocking(move || {
        let id = cli_ok(&m, &["start", "order-flow", &input, "--instance", "shop"]);
        std::thread::sleep(Duration::from_millis(500));
        cli_ok(&m, &["signal", &id, "fraud_review", "\"approved\"", "--instance", "shop"]);
        cli_ok(&m, &["await", &id, "--instance", "shop"]);
        id
    })
    .await
    .unwrap();

    let str_attr = |attrs: &[opentelemetry_proto::tonic::common::v1::KeyValue], key: &str| {
        attrs.iter().find(|kv| kv.key == key).and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s.clone()),
            any_value::Value::IntValue(i) => Some(i.to_string()),
            _ => None,
        })
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let bodies = got.lock().unwrap().clone();
        let mut names = Vec::new();
        let mut service = None;
        let mut metric_names = Vec::new();
        for (path, body) in &bodies {
            if path == "/v1/traces" {
                let req = ExportTraceServiceRequest::decode(body.as_slice()).expect("OTLP trace protobuf");
                for rs in &req.resource_spans {
                    if let Some(r) = &rs.resource {
                        service = str_attr(&r.attributes, "service.name").or(service);
                    }
                    for ss in &rs.scope_spans {
                        for s in &ss.spans {
                            if str_attr(&s.attributes, "continuum.run_id").as_deref() == Some(run_id.as_str()) {
                                assert_eq!(str_attr(&s.attributes, "continuum.instance").as_deref(), Some("shop"));
                                names.push((s.name.clone(), str_attr(&s.attributes, "continuum.activity")));
                            }
                        }
                    }
                }
            } else if path == "/v1/metrics" {
                let req = ExportMetricsServiceRequest::decode(body.as_slice()).expect("OTLP metrics protobuf");
                for rm in &req.resource_metrics {
                    for sm in &rm.scope_metrics {
                        metric_names.extend(sm.metrics.iter().map(|m| m.name.clone()));
                    }
                }
            }
        }
        let runs = names.iter().filter(|(n, _)| n == "continuum.run_attempt").count();
        let charge = names.iter().any(|(n, a)| n == "continuum.activity_attempt" && a.as_deref() == Some("charge_card"));
        let metrics_ok = ["continuum.runs.started", "continuum.runs.completed", "continuum.activity.attempts"]
            .iter()
            .all(|m| metric_names.iter().any(|n| n == m));
        if runs >= 2 && charge && metrics_ok {
            assert_eq!(service.as_deref(), Some("continuum-test"));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "spans of the run: {names:?}; metrics: {metric_names:?}; requests: {:?}\nhost log:\n{}",
            bodies.iter().map(|(p, b)| (p.clone(), b.len())).collect::<Vec<_>>(),
            host.log_text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
