//! The `continuum` binary.

use clap::Parser;
use continuum_host::cli::{Cli, Command};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let filter = match cli.command {
        Command::Serve { .. } => "warn,continuum_host=info,continuum=info",
        _ => "warn",
    };
    continuum_host::telemetry::init(filter);
    continuum_host::cli::run(cli).await
}
