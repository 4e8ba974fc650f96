//! Logging and tracing set-up. Every event of a run carries `instance`,
//! `run_id` and `workflow` (through the `run_attempt` span or its own
//! fields); every instance-level event carries `instance`.

use tracing_subscriber::EnvFilter;

/// Installs a `tracing` subscriber writing to stderr, filtered by
/// `RUST_LOG` (default: `default_filter`). `CONTINUUM_LOG_FORMAT=json`
/// writes one JSON object per event. Does nothing if one is installed.
pub fn init(default_filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("CONTINUUM_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}
