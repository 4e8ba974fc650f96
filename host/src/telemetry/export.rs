//! What OpenTelemetry export a process is asked for (the manifest's
//! `[telemetry]` table or the standard `OTEL_EXPORTER_OTLP_*` variables),
//! why setting it up can fail, and the flush at exit. The exporters
//! themselves are in `otlp.rs`, compiled with the `otlp` feature only.

use std::sync::{Mutex, OnceLock};

use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;

use super::TelemetryConfig;

/// Why the OpenTelemetry export could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An exporter needs a tokio runtime and none is running.
    #[error("the OTLP exporter must be set up inside a tokio runtime")]
    NoRuntime,
    /// OTLP export was asked for, but this build has no OTLP exporter (it
    /// was built without the `otlp` feature of `continuum-host`).
    #[error("OTLP export is asked for by {asked_by}, but this build has no OTLP exporter (continuum-host built without its `otlp` feature)")]
    OtlpNotBuiltIn {
        /// What asked for it: the manifest's `otlp_endpoint` or the
        /// `OTEL_EXPORTER_OTLP_*` variable set.
        asked_by: String,
    },
}

/// The export `config` and the environment ask for.
pub(super) struct ExportRequest {
    /// The OTLP/HTTP base URL given in the manifest, without a final `/`.
    pub base: Option<String>,
    /// Export spans.
    pub traces: bool,
    /// Export metrics.
    pub metrics: bool,
}

fn env_set(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.trim().is_empty())
}

impl ExportRequest {
    /// Both signals with a base endpoint (the manifest's or
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`), else each signal whose own
    /// `OTEL_EXPORTER_OTLP_{TRACES,METRICS}_ENDPOINT` is set.
    pub fn from(config: &TelemetryConfig) -> Self {
        let base = config.otlp_endpoint.as_deref().map(|e| e.trim_end_matches('/').to_string());
        let both = base.is_some() || env_set("OTEL_EXPORTER_OTLP_ENDPOINT");
        let traces = both || env_set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        let metrics = both || env_set("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
        Self { base, traces, metrics }
    }

    /// True when some signal is to be exported.
    pub fn any(&self) -> bool {
        self.traces || self.metrics
    }

    /// What asked for the export, for messages.
    #[cfg_attr(feature = "otlp", allow(dead_code))]
    pub fn asked_by(&self) -> String {
        if let Some(b) = &self.base {
            return format!("the manifest's [telemetry] otlp_endpoint ({b})");
        }
        let set: Vec<&str> = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"]
            .into_iter()
            .filter(|v| env_set(v))
            .collect();
        set.join(", ")
    }
}

/// Builds the exporters the request names. Returns the tracer provider to
/// bridge spans to (`None` when traces are not exported). The meter
/// provider becomes the global one.
pub(super) fn install(config: &TelemetryConfig) -> Result<Option<SdkTracerProvider>, TelemetryError> {
    let request = ExportRequest::from(config);
    if !request.any() {
        return Ok(None);
    }
    #[cfg(feature = "otlp")]
    {
        super::otlp::install(&request, config)
    }
    #[cfg(not(feature = "otlp"))]
    {
        Err(TelemetryError::OtlpNotBuiltIn { asked_by: request.asked_by() })
    }
}

/// The providers installed, for [`shutdown`].
type Providers = (Option<SdkTracerProvider>, Option<SdkMeterProvider>);
static INSTALLED: OnceLock<Mutex<Option<Providers>>> = OnceLock::new();

/// Keeps the installed providers for [`shutdown`].
#[cfg_attr(not(feature = "otlp"), allow(dead_code))]
pub(super) fn remember(traces: Option<SdkTracerProvider>, metrics: Option<SdkMeterProvider>) {
    let slot = INSTALLED.get_or_init(|| Mutex::new(None));
    if let Ok(mut slot) = slot.lock() {
        *slot = Some((traces, metrics));
    }
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
