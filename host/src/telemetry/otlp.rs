//! The OTLP/HTTP exporters: traces and metrics, on the tokio runtime (the
//! HTTP client never blocks a thread), flushed by [`shutdown`].

use std::sync::{Mutex, OnceLock};

use opentelemetry_otlp::{MetricExporter, SpanExporter, WithExportConfig};
use opentelemetry_sdk::metrics::periodic_reader_with_async_runtime::PeriodicReader;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::runtime::Tokio;
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;

use super::{metrics, TelemetryConfig, DEFAULT_SERVICE_NAME};

/// Why the OpenTelemetry export could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The OTLP exporter refused its configuration (a bad endpoint, ...).
    #[error("cannot set up the OTLP exporter for {signal} (endpoint {endpoint}): {source}")]
    Exporter {
        /// `traces` or `metrics`.
        signal: &'static str,
        /// The endpoint, or where it was to come from.
        endpoint: String,
        /// The exporter's error.
        #[source]
        source: opentelemetry_otlp::ExporterBuildError,
    },
    /// An exporter needs a tokio runtime and none is running.
    #[error("the OTLP exporter must be set up inside a tokio runtime")]
    NoRuntime,
}

/// The providers installed by [`install`], for [`shutdown`].
type Providers = (Option<SdkTracerProvider>, Option<SdkMeterProvider>);
static INSTALLED: OnceLock<Mutex<Option<Providers>>> = OnceLock::new();

fn env_set(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.trim().is_empty())
}

/// Builds the exporters `config` (or the environment) asks for: both with
/// a base endpoint (the manifest's or `OTEL_EXPORTER_OTLP_ENDPOINT`), else
/// each signal whose own `OTEL_EXPORTER_OTLP_{TRACES,METRICS}_ENDPOINT` is
/// set. Returns the tracer provider to bridge spans to (`None` when traces
/// are not exported). The meter provider becomes the global one.
pub(super) fn install(config: &TelemetryConfig) -> Result<Option<SdkTracerProvider>, TelemetryError> {
    let base = config.otlp_endpoint.as_deref().map(|e| e.trim_end_matches('/').to_string());
    let both = base.is_some() || env_set("OTEL_EXPORTER_OTLP_ENDPOINT");
    let traces_on = both || env_set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    let metrics_on = both || env_set("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
    if !traces_on && !metrics_on {
        return Ok(None);
    }
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(TelemetryError::NoRuntime);
    }
    let mut resource = Resource::builder();
    if let Some(name) = &config.service_name {
        resource = resource.with_service_name(name.clone());
    } else if !env_set("OTEL_SERVICE_NAME") {
        resource = resource.with_service_name(DEFAULT_SERVICE_NAME);
    }
    let resource = resource.build();
    let where_from = |path: &str| match &base {
        Some(b) => format!("{b}{path}"),
        None => "from OTEL_EXPORTER_OTLP_*".to_string(),
    };

    let tracer_provider = if traces_on {
        let mut spans = SpanExporter::builder().with_http();
        if let Some(b) = &base {
            spans = spans.with_endpoint(format!("{b}/v1/traces"));
        }
        let spans = spans.build().map_err(|source| TelemetryError::Exporter {
            signal: "traces",
            endpoint: where_from("/v1/traces"),
            source,
        })?;
        Some(
            SdkTracerProvider::builder()
                .with_span_processor(BatchSpanProcessor::builder(spans, Tokio).build())
                .with_resource(resource.clone())
                .build(),
        )
    } else {
        None
    };

    let meter_provider = if metrics_on {
        let mut exporter = MetricExporter::builder().with_http();
        if let Some(b) = &base {
            exporter = exporter.with_endpoint(format!("{b}/v1/metrics"));
        }
        let exporter = exporter.build().map_err(|source| TelemetryError::Exporter {
            signal: "metrics",
            endpoint: where_from("/v1/metrics"),
            source,
        })?;
        let provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(exporter, Tokio).build())
            .with_resource(resource)
            .build();
        metrics::install_meter_provider(provider.clone());
        Some(provider)
    } else {
        None
    };
    let slot = INSTALLED.get_or_init(|| Mutex::new(None));
    if let Ok(mut slot) = slot.lock() {
        *slot = Some((tracer_provider.clone(), meter_provider));
    }
    Ok(tracer_provider)
}

/// Flushes and stops the exporters [`super::init_with`] installed (no-op
/// when there are none). Call it before the process exits.
pub async fn shutdown() {
    let installed = INSTALLED.get().and_then(|m| m.lock().ok().and_then(|mut s| s.take()));
    let Some((traces, meters)) = installed else { return };
    // The SDK's shutdown blocks until the exporters' tasks answer: keep it
    // off the runtime's worker threads.
    let _ = tokio::task::spawn_blocking(move || {
        if let Some(t) = traces {
            if let Err(e) = t.shutdown() {
                eprintln!("continuum: flushing the trace exporter failed: {e}");
            }
        }
        if let Some(m) = meters {
            if let Err(e) = m.shutdown() {
                eprintln!("continuum: flushing the metric exporter failed: {e}");
            }
        }
    })
    .await;
}
