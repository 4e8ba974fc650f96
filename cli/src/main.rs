//! The `continuum` binary.

#[macro_use]
mod output;
mod commands;
mod demo;
mod direct;
mod exit;
mod print;
mod remote;
mod remote_answers;
mod remote_client;
mod remote_error;
mod schedule;
mod serve;
mod show;

use commands::Command;
use continuum_host::telemetry::TelemetryConfig;
use continuum_host::Manifest;

/// Many small allocations per workflow step: mimalloc serves them faster
/// than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = match commands::parse_args() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let (filter, telemetry) = match cli.command {
        // A host exports telemetry as its manifest says; a bad manifest is
        // reported by `serve` itself.
        Command::Serve { .. } => (
            "warn,continuum_host=info,continuum_http=info,continuum=info",
            Manifest::load(&cli.manifest).map(|m| m.telemetry).unwrap_or_default(),
        ),
        _ => ("warn", TelemetryConfig::default()),
    };
    // Logging is set up either way; only the export can fail.
    if let Err(e) = continuum_host::telemetry::init_with(filter, &telemetry) {
        errln!("continuum: {e}; continuing without OpenTelemetry export");
    }
    let code = commands::run(cli).await;
    continuum_host::telemetry::shutdown().await;
    code
}
