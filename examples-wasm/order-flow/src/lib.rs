//! `order-flow`: an order with a fraud review.
//!
//! Reserves stock, charges the card (a failed charge releases the stock and
//! fails the run: `payment_declined` when the activity's error code is
//! `card_declined`, `payment_failed` otherwise), then waits for the `fraud_review`
//! signal for at most `review_timeout_ms` (default 24 h). `"approved"` ships
//! the order; `"rejected"` or no answer in time refunds the payment and
//! releases the stock. Shows activity options, typed activity failures and
//! a signal raced against a timer. Its compensations form a saga: a
//! cancellation (in the review, say) refunds the payment and releases the
//! stock before the run ends cancelled.

use continuum_sdk::prelude::*;
use serde_json::{json, Value};

const DAY_MS: u64 = 24 * 3600 * 1000;

#[derive(Debug, Serialize, Deserialize)]
struct Order {
    order_id: String,
    sku: String,
    quantity: u32,
    amount_cents: u64,
    card: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    review_timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    spin: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Reservation {
    reservation_id: String,
}

#[derive(Debug, Deserialize)]
struct Charge {
    charge_id: String,
}

#[derive(Debug, Deserialize)]
struct Shipment {
    tracking: String,
}

/// `"approved"`, `"rejected"`, or `{"decision": "..."}`.
fn decision_of(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s.as_str()),
        Value::Object(o) => o.get("decision").and_then(Value::as_str),
        _ => None,
    }
}

fn order_flow(ctx: &Workflow, order: Order) -> Result<Value, WorkflowError> {
    continuum_sdk::info!("order {}: {} x {}", order.order_id, order.quantity, order.sku);
    // What undoes each step, run newest first on a failure, a rejection or
    // a cancellation.
    let mut saga = Saga::new(ctx);

    let reservation: Reservation = ctx
        .activity("reserve_stock", &json!({
            "order_id": order.order_id, "sku": order.sku, "quantity": order.quantity,
        }))
        .retry(RetryPolicy::exponential(3, Duration::from_millis(200)))
        .timeout(Duration::from_secs(10))
        .call()?;
    saga.add(ctx.activity("release_stock", &json!({
        "order_id": order.order_id, "reservation_id": reservation.reservation_id,
    })));

    let charge = ctx
        .activity("charge_card", &json!({
            "order_id": order.order_id, "card": order.card,
            "amount_cents": order.amount_cents, "spin": order.spin.unwrap_or(0),
        }))
        .retry(RetryPolicy::exponential(3, Duration::from_millis(200)).with_max_interval(Duration::from_secs(2)))
        .timeout(Duration::from_secs(30))
        .idempotency_key(format!("charge-{}", order.order_id))
        .call::<Charge>();
    let charge = match charge {
        Ok(c) => c,
        Err(cancelled) if cancelled.is_cancelled() => return Err(saga.fail(cancelled)),
        Err(failed) => {
            continuum_sdk::warn!("order {}: charge failed: {failed}", order.order_id);
            // The activity's error code says why: a declined card is the
            // customer's problem, anything else (retries exhausted, timed
            // out) is ours.
            let code = match failed.code.as_deref() {
                Some("card_declined") => "payment_declined",
                _ => "payment_failed",
            };
            return Err(saga.fail(WorkflowError::new(code, failed.message)));
        }
    };
    saga.add(
        ctx.activity("refund_payment", &json!({
            "order_id": order.order_id, "charge_id": charge.charge_id, "amount_cents": order.amount_cents,
        }))
        .idempotency_key(format!("refund-{}", order.order_id)),
    );

    let timeout = Duration::from_millis(order.review_timeout_ms.unwrap_or(DAY_MS));
    // `signal_with_timeout`, spelled out so that a log comes after the
    // run's last command and before the wait-any it suspends at: a resumed
    // attempt must not log it again (tests/tests/telemetry_otel.rs).
    let signal = ctx.receive_signal::<Value>("fraud_review");
    let timer = ctx.timer(timeout);
    continuum_sdk::info!("order {}: charged; waiting for the fraud review", order.order_id);
    let review: Option<Value> = match ctx.select(&[&signal, &timer]) {
        0 => match signal.wait() {
            Ok(review) => Some(review),
            // Cancelled while waiting for the review: refund, release.
            Err(failed) => return Err(saga.fail(failed)),
        },
        _ => None,
    };
    let reason = match review.as_ref().and_then(decision_of) {
        Some("approved") => {
            let shipment: Shipment = match ctx
                .activity("ship_order", &json!({
                    "order_id": order.order_id, "sku": order.sku, "quantity": order.quantity,
                    "reservation_id": reservation.reservation_id,
                }))
                .call()
            {
                Ok(s) => s,
                Err(failed) => return Err(saga.fail(failed)),
            };
            return Ok(json!({
                "order_id": order.order_id,
                "status": "shipped",
                "tracking": shipment.tracking,
                "charge_id": charge.charge_id,
            }));
        }
        Some("rejected") => "fraud_review_rejected",
        None if review.is_none() => "fraud_review_timeout",
        _ => {
            return Err(WorkflowError::new(
                "bad_signal",
                format!("fraud_review payload must be \"approved\" or \"rejected\", got {}", review.unwrap_or(Value::Null)),
            ))
        }
    };
    saga.compensate()?;
    Ok(json!({ "order_id": order.order_id, "status": "refunded", "reason": reason }))
}

continuum_sdk::workflow!(order_flow);
