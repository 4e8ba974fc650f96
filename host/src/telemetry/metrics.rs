//! The runtime's metrics, per instance (attribute `continuum.instance`),
//! through the OpenTelemetry metrics API:
//!
//! | instrument | kind | attributes |
//! | --- | --- | --- |
//! | `continuum.runs.started` | counter | instance, workflow |
//! | `continuum.runs.completed` | counter | instance, workflow |
//! | `continuum.runs.failed` | counter | instance, workflow, `continuum.outcome` (`failed`, `cancelled`, `drifted`) |
//! | `continuum.run.duration` | histogram, s | instance, workflow, outcome: start to completion |
//! | `continuum.activity.attempts` | counter | instance, activity, outcome (`completed`, `failed`, `retried`, `cancelled`) |
//! | `continuum.activity.duration` | histogram, s | instance, activity, outcome: one attempt |
//!
//! Nothing is recorded until a meter provider is installed with
//! [`install_meter_provider`] (done by `telemetry::init_with` when OTLP is
//! configured), so the cost without one is one relaxed atomic load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry::metrics::{Counter, Histogram};
use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::SdkMeterProvider;

static ENABLED: AtomicBool = AtomicBool::new(false);
static INSTRUMENTS: OnceLock<Instruments> = OnceLock::new();

struct Instruments {
    runs_started: Counter<u64>,
    runs_completed: Counter<u64>,
    runs_failed: Counter<u64>,
    run_duration: Histogram<f64>,
    activity_attempts: Counter<u64>,
    activity_duration: Histogram<f64>,
}

/// Makes `provider` the global meter provider and switches recording on.
/// Install it before the first run executes: instruments are created once.
pub fn install_meter_provider(provider: SdkMeterProvider) {
    opentelemetry::global::set_meter_provider(provider);
    ENABLED.store(true, Ordering::Relaxed);
}

fn instruments() -> Option<&'static Instruments> {
    if !ENABLED.load(Ordering::Relaxed) {
        return None;
    }
    Some(INSTRUMENTS.get_or_init(|| {
        let m = opentelemetry::global::meter("continuum");
        Instruments {
            runs_started: m.u64_counter("continuum.runs.started").with_description("Runs that began executing").build(),
            runs_completed: m.u64_counter("continuum.runs.completed").with_description("Runs that completed").build(),
            runs_failed: m
                .u64_counter("continuum.runs.failed")
                .with_description("Runs that failed, were cancelled or stopped on replay drift")
                .build(),
            run_duration: m
                .f64_histogram("continuum.run.duration")
                .with_unit("s")
                .with_description("From a run's creation to its end")
                .build(),
            activity_attempts: m.u64_counter("continuum.activity.attempts").with_description("Activity attempts").build(),
            activity_duration: m
                .f64_histogram("continuum.activity.duration")
                .with_unit("s")
                .with_description("Duration of one activity attempt")
                .build(),
        }
    }))
}

/// Whether metrics are recorded in this process.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

fn kv(key: &'static str, value: &str) -> KeyValue {
    KeyValue::new(key, value.to_string())
}

/// A run began executing (its first attempt).
pub(crate) fn run_started(instance: &str, workflow: &str) {
    if let Some(i) = instruments() {
        i.runs_started.add(1, &[kv("continuum.instance", instance), kv("continuum.workflow", workflow)]);
    }
}

/// A run ended: `outcome` is `completed`, `failed`, `cancelled` or `drifted`;
/// `elapsed` is the time since it was created.
pub(crate) fn run_finished(instance: &str, workflow: &str, outcome: &'static str, elapsed: Duration) {
    if let Some(i) = instruments() {
        let attrs = [
            kv("continuum.instance", instance),
            kv("continuum.workflow", workflow),
            KeyValue::new("continuum.outcome", outcome),
        ];
        if outcome == "completed" {
            i.runs_completed.add(1, &attrs[..2]);
        } else {
            i.runs_failed.add(1, &attrs);
        }
        i.run_duration.record(elapsed.as_secs_f64(), &attrs);
    }
}

/// One activity attempt ended with `outcome` (`completed`, `failed`,
/// `retried` or `cancelled`) after `elapsed`.
pub(crate) fn activity_attempt(instance: &str, activity: &str, outcome: &'static str, elapsed: Duration) {
    if let Some(i) = instruments() {
        let attrs = [
            kv("continuum.instance", instance),
            kv("continuum.activity", activity),
            KeyValue::new("continuum.outcome", outcome),
        ];
        i.activity_attempts.add(1, &attrs);
        i.activity_duration.record(elapsed.as_secs_f64(), &attrs);
    }
}
