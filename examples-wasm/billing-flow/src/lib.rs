//! `billing-flow`: recurring billing driven by durable timers.
//!
//! For each of `cycles` cycles: sleep `interval_ms`, issue an invoice, then
//! race the `invoice_paid` signal against a timer of `interval_ms`. When the
//! timer wins, send a reminder and keep waiting for the payment without a
//! timeout (the same pending signal receipt). Records the journaled time of
//! each payment. Shows `sleep`, `select` over a signal and a timer, and
//! waiting again on the loser of a race.

use continuum_sdk::prelude::*;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Billing {
    customer: String,
    amount_cents: u64,
    cycles: u32,
    interval_ms: u64,
}

#[derive(Deserialize)]
struct Invoice {
    invoice_id: String,
}

#[derive(Serialize)]
struct Cycle {
    invoice_id: String,
    paid_at_ms: u64,
    reminded: bool,
}

#[derive(Serialize)]
struct Summary {
    customer: String,
    cycles: Vec<Cycle>,
    total_cents: u64,
}

fn billing_flow(ctx: &Workflow, input: Billing) -> Result<Summary, WorkflowError> {
    let interval = Duration::from_millis(input.interval_ms);
    let mut cycles = Vec::with_capacity(input.cycles as usize);
    let mut total_cents = 0u64;

    for cycle in 1..=input.cycles {
        ctx.sleep(interval);
        let invoice: Invoice = ctx
            .activity("issue_invoice", &json!({
                "customer": input.customer, "amount_cents": input.amount_cents, "cycle": cycle,
            }))
            .retry(RetryPolicy::constant(5, Duration::from_millis(500)))
            .call()?;
        continuum_sdk::info!("cycle {cycle}: issued {}", invoice.invoice_id);

        let paid = ctx.receive_signal::<Value>("invoice_paid");
        let deadline = ctx.timer(interval);
        let reminded = match ctx.select(&[&paid, &deadline]) {
            0 => false,
            _ => {
                let _: Value = ctx
                    .activity("send_reminder", &json!({
                        "customer": input.customer, "invoice_id": invoice.invoice_id,
                    }))
                    .call()?;
                true
            }
        };
        // Either already completed (it won the race) or still pending.
        paid.wait()?;
        let paid_at_ms = ctx.now_ms();

        total_cents += input.amount_cents;
        cycles.push(Cycle { invoice_id: invoice.invoice_id, paid_at_ms, reminded });
    }

    Ok(Summary { customer: input.customer, cycles, total_cents })
}

continuum_sdk::workflow!(billing_flow);
