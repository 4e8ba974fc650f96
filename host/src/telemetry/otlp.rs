//! The OTLP/HTTP exporters (the `otlp` feature): traces and metrics, on the
//! tokio runtime (the HTTP client never blocks a thread), flushed by
//! [`super::shutdown`].

use opentelemetry_otlp::{MetricExporter, SpanExporter, WithExportConfig};
use opentelemetry_sdk::metrics::periodic_reader_with_async_runtime::PeriodicReader;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::runtime::Tokio;
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;

use super::export::{remember, ExportRequest, TelemetryError};
use super::{metrics, TelemetryConfig, DEFAULT_SERVICE_NAME};

/// Builds the exporters `request` names. Returns the tracer provider to
/// bridge spans to (`None` when traces are not exported). The meter
/// provider becomes the global one.
pub(super) fn install(
    request: &ExportRequest,
    config: &TelemetryConfig,
) -> Result<Option<SdkTracerProvider>, TelemetryError> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(TelemetryError::NoRuntime);
    }
    let mut resource = Resource::builder();
    if let Some(name) = &config.service_name {
        resource = resource.with_service_name(name.clone());
    } else if !std::env::var("OTEL_SERVICE_NAME").is_ok_and(|v| !v.trim().is_empty()) {
        resource = resource.with_service_name(DEFAULT_SERVICE_NAME);
    }
    let resource = resource.build();
    let base = &request.base;
    let where_from = |path: &str| match base {
        Some(b) => format!("{b}{path}"),
        None => "from OTEL_EXPORTER_OTLP_*".to_string(),
    };

    let tracer_provider = if request.traces {
        let mut spans = SpanExporter::builder().with_http();
        if let Some(b) = base {
            spans = spans.with_endpoint(format!("{b}/v1/traces"));
        }
        let spans = spans.build().map_err(|source| TelemetryError::Exporter {
            signal: "traces",
            endpoint: where_from("/v1/traces"),
            source: Box::new(source),
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

    let meter_provider = if request.metrics {
        let mut exporter = MetricExporter::builder().with_http();
        if let Some(b) = base {
            exporter = exporter.with_endpoint(format!("{b}/v1/metrics"));
        }
        let exporter = exporter.build().map_err(|source| TelemetryError::Exporter {
            signal: "metrics",
            endpoint: where_from("/v1/metrics"),
            source: Box::new(source),
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
    remember(tracer_provider.clone(), meter_provider);
    Ok(tracer_provider)
}
