//! Logging, tracing and the OpenTelemetry bridge.
//!
//! Every event of a run carries `instance`, `run_id` and `workflow` (through
//! the `run_attempt` span or its own fields); every instance-level event
//! carries `instance`. `docs/telemetry.md` lists the events.
//!
//! With an OTLP endpoint (the manifest's `[telemetry]` table, or the
//! standard `OTEL_EXPORTER_OTLP_ENDPOINT` variable), the `run_attempt` and
//! `activity_attempt` spans are exported as `continuum.run_attempt` and
//! `continuum.activity_attempt` with `continuum.*` attributes, and the
//! runtime's metrics are exported too; `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
//! or `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` alone exports that signal only.
//! Without any, nothing OpenTelemetry-related is done on the hot path.
//! OTLP export needs the `otlp` feature (on by default); a build without
//! it says so when export is asked for ([`TelemetryError::OtlpNotBuiltIn`]).

mod context;
mod export;
pub(crate) mod metrics;
#[cfg(feature = "otlp")]
mod otlp;

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Subscriber;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

pub use context::{current_traceparent, parent_context};
pub(crate) use context::{activity_attempt_span, mark_error, run_attempt_span};
pub use export::{shutdown, TelemetryError};
pub use metrics::install_meter_provider;

/// The service name exported when none is configured.
pub const DEFAULT_SERVICE_NAME: &str = "continuum";

/// The OpenTelemetry export settings (the manifest's `[telemetry]` table).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// The OTLP/HTTP base URL (`http://127.0.0.1:4318`); traces go to
    /// `{endpoint}/v1/traces`, metrics to `{endpoint}/v1/metrics`. `None`:
    /// the standard `OTEL_EXPORTER_OTLP_*` variables decide.
    pub otlp_endpoint: Option<String>,
    /// The exported `service.name` (default `OTEL_SERVICE_NAME`, else
    /// [`DEFAULT_SERVICE_NAME`]).
    pub service_name: Option<String>,
}

/// True once an OpenTelemetry span layer was built ([`otel_layer`]): only
/// then do spans get OpenTelemetry attributes and parents.
static SPANS_ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether spans are bridged to OpenTelemetry in this process.
pub fn otel_enabled() -> bool {
    SPANS_ENABLED.load(Ordering::Relaxed)
}

/// A `tracing` layer exporting spans through `provider` (tracer
/// `continuum`). Installing it switches on the `continuum.*` attributes and
/// the trace-context parents of run attempts. Used by [`init_with`]; tests
/// and embedders with a subscriber of their own use it directly.
pub fn otel_layer<S>(provider: &SdkTracerProvider) -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    SPANS_ENABLED.store(true, Ordering::Relaxed);
    tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("continuum"))
        .with_tracked_inactivity(false)
        .with_threads(false)
}

/// Installs a `tracing` subscriber writing to stderr, filtered by
/// `RUST_LOG` (default: `default_filter`). `CONTINUUM_LOG_FORMAT=json`
/// writes one JSON object per event. OpenTelemetry export follows the
/// standard `OTEL_EXPORTER_OTLP_*` variables; a failure to set it up is
/// reported on stderr. Does nothing if a subscriber is installed.
pub fn init(default_filter: &str) {
    if let Err(e) = init_with(default_filter, &TelemetryConfig::default()) {
        eprintln!("continuum: {e}");
    }
}

/// Like [`init`], with the manifest's telemetry settings. Must be called
/// inside a tokio runtime when an exporter is configured (the exporters run
/// on it). Call [`shutdown`] before exiting to flush them. When the export
/// cannot be set up (or this build has no OTLP exporter), the subscriber is
/// installed without it and the reason is returned.
pub fn init_with(default_filter: &str, config: &TelemetryConfig) -> Result<(), TelemetryError> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("CONTINUUM_LOG_FORMAT").is_ok_and(|v| v == "json");
    // Colours only for a terminal: logs sent to files stay greppable.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(ansi);
    let fmt = if json { fmt.json().boxed() } else { fmt.boxed() };
    let (exporters, failed) = match export::install(config) {
        Ok(exporters) => (exporters, None),
        Err(e) => (None, Some(e)),
    };
    let otel = exporters.map(|provider| otel_layer(&provider));
    let _ = tracing_subscriber::registry().with(filter).with(fmt).with(otel).try_init();
    failed.map_or(Ok(()), Err)
}
