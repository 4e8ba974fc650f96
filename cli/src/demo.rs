//! `continuum demo`: the five-minute tour in one command. Serves the
//! default instance in this process, runs three orders through
//! `order-flow` (approved, rejected, card declined) and prints each
//! outcome and the first run's journal.

use std::time::Duration;

use serde_json::json;

use continuum_host::{CallOptions, Continuum, Manifest, Mode, StartOptions, DEFAULT_INSTANCE};

use crate::exit::{CliError, EXIT_OK};
use crate::show;

/// Runs the demo.
pub async fn run(manifest: &Manifest) -> Result<u8, CliError> {
    manifest.validate_files()?;
    let only = vec![DEFAULT_INSTANCE.to_string()];
    let c = Continuum::from_manifest(manifest, Mode::Serve, &only).await?;
    c.start_all();
    let call = CallOptions::default();
    let orders = [
        ("approved", json!({"order_id": "demo-1", "sku": "BOOK-42", "quantity": 2, "amount_cents": 4200, "card": "4242-4242-4242-4242"})),
        ("rejected", json!({"order_id": "demo-2", "sku": "LAMP-7", "quantity": 1, "amount_cents": 1999, "card": "4242-4242-4242-4242"})),
        ("declined", json!({"order_id": "demo-3", "sku": "DESK-1", "quantity": 1, "amount_cents": 25000, "card": "4000-0000-0000-0002"})),
    ];
    let mut first = None;
    for (decision, input) in orders {
        let run_id = c.start("order-flow", input, StartOptions::default()).await?;
        outln!("started order-flow run {run_id}");
        first.get_or_insert(run_id.clone());
        if decision != "declined" {
            // The workflow waits for the fraud review; the signal is kept
            // even if it arrives before the workflow asks for it.
            c.signal(&run_id, "fraud_review", json!(decision), call.clone()).await?;
            outln!("  sent fraud_review = {decision}");
        }
        let outcome = c.await_run(&run_id, Duration::from_secs(30), call.clone()).await?;
        outln!("  -> {}: {}", outcome.state, outcome.output.or(outcome.error).unwrap_or_default());
    }
    if let Some(run_id) = first {
        let mut history = c.history(&run_id, call).await?;
        // The tour shows the journal; heartbeats are `continuum show`'s.
        history.heartbeats.clear();
        outln!();
        out!("{}", show::render(&history));
    }
    c.stop_all().await;
    Ok(EXIT_OK)
}
