//! `billing-activities`: the activities of `billing-flow` (`issue_invoice`,
//! `send_reminder`), with deterministic fake ids.

use continuum_sdk::prelude::*;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct IssueInvoice {
    customer: String,
    amount_cents: u64,
    cycle: u32,
}

fn issue_invoice(input: IssueInvoice) -> Result<Value, ActivityError> {
    if input.customer.is_empty() {
        return Err(ActivityError::non_retryable("customer must not be empty"));
    }
    Ok(json!({
        "invoice_id": format!("inv-{}-{:04}", input.customer, input.cycle),
        "amount_cents": input.amount_cents,
    }))
}

#[derive(Deserialize)]
struct SendReminder {
    customer: String,
    invoice_id: String,
}

fn send_reminder(input: SendReminder) -> Result<Value, ActivityError> {
    Ok(json!({ "sent_to": input.customer, "invoice_id": input.invoice_id }))
}

continuum_sdk::activities! {
    "issue_invoice" => issue_invoice,
    "send_reminder" => send_reminder,
}
