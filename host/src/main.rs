//! The `continuum` binary.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    continuum_host::telemetry::init("warn,continuum_host=info");
    continuum_host::cli::run(continuum_host::cli::Cli::parse()).await
}
