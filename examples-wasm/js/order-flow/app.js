// `order-flow` in JavaScript: the same workflow as the Rust
// examples-wasm/order-flow (same activities, same outputs for the same
// inputs).
//
// Reserves stock, charges the card (a failed charge releases the stock and
// fails the run: `payment_declined` when the activity's error code is
// `card_declined`, `payment_failed` otherwise), then waits for the
// `fraud_review` signal for at most `review_timeout_ms` (default 24 h).
// "approved" ships the order; "rejected" or no answer in time refunds the
// payment and releases the stock.

import { ActivityFailed, RetryPolicy, WorkflowError, log, toJson, workflow } from "../../../sdk/js/continuum.js";

const DAY_MS = 24 * 3600 * 1000;
const NO_REVIEW = Symbol("no review");

const FIELDS = { order_id: "string", sku: "string", quantity: "count", amount_cents: "count", card: "string" };

/** The input, checked like the Rust example's `Order`. */
function orderOf(value) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new WorkflowError("invalid_input", "cannot decode the workflow input: expected an order object");
  }
  for (const [name, kind] of Object.entries(FIELDS)) {
    if (!(name in value)) {
      throw new WorkflowError("invalid_input", `cannot decode the workflow input: missing field \`${name}\``);
    }
    const v = value[name];
    const ok = kind === "string" ? typeof v === "string" : Number.isInteger(v) && v >= 0;
    if (!ok) throw new WorkflowError("invalid_input", `cannot decode the workflow input: bad field \`${name}\``);
  }
  return value;
}

/** "approved", "rejected", or {"decision": "..."}. */
function decisionOf(review) {
  if (typeof review === "string") return review;
  if (review !== null && typeof review === "object" && typeof review.decision === "string") return review.decision;
  return undefined;
}

function release(ctx, order, reservation) {
  ctx.activity("release_stock", { order_id: order.order_id, reservation_id: reservation.reservation_id }).call();
}

function orderFlow(ctx, value) {
  const order = orderOf(value);
  log.info(`order ${order.order_id}: ${order.quantity} x ${order.sku}`);

  const reservation = ctx
    .activity("reserve_stock", { order_id: order.order_id, sku: order.sku, quantity: order.quantity })
    .retry(RetryPolicy.exponential(3, 200))
    .timeout(10_000)
    .call();

  let charge;
  try {
    charge = ctx
      .activity("charge_card", {
        order_id: order.order_id, card: order.card, amount_cents: order.amount_cents, spin: order.spin || 0,
      })
      .retry(RetryPolicy.exponential(3, 200).withMaxInterval(2_000))
      .timeout(30_000)
      .idempotencyKey(`charge-${order.order_id}`)
      .call();
  } catch (failed) {
    if (!(failed instanceof ActivityFailed)) throw failed;
    log.warn(`order ${order.order_id}: charge failed: ${failed}`);
    release(ctx, order, reservation);
    // The activity's error code says why: a declined card is the customer's
    // problem, anything else (retries exhausted, timed out) is ours.
    const code = failed.code === "card_declined" ? "payment_declined" : "payment_failed";
    throw new WorkflowError(code, failed.message);
  }

  const timeout = order.review_timeout_ms ?? DAY_MS;
  // A signal raced against a timer, spelled out so that the log comes after
  // the run's last command and before the wait it suspends at.
  const signal = ctx.receiveSignal("fraud_review");
  const timer = ctx.timer(timeout);
  log.info(`order ${order.order_id}: charged; waiting for the fraud review`);
  const review = ctx.select(signal, timer) === 0 ? signal.wait() : NO_REVIEW;

  const decision = review === NO_REVIEW ? undefined : decisionOf(review);
  let reason;
  if (decision === "approved") {
    const shipment = ctx
      .activity("ship_order", {
        order_id: order.order_id, sku: order.sku, quantity: order.quantity, reservation_id: reservation.reservation_id,
      })
      .call();
    return { order_id: order.order_id, status: "shipped", tracking: shipment.tracking, charge_id: charge.charge_id };
  } else if (decision === "rejected") {
    reason = "fraud_review_rejected";
  } else if (review === NO_REVIEW) {
    reason = "fraud_review_timeout";
  } else {
    throw new WorkflowError("bad_signal", `fraud_review payload must be "approved" or "rejected", got ${toJson(review)}`);
  }

  ctx
    .activity("refund_payment", { order_id: order.order_id, charge_id: charge.charge_id, amount_cents: order.amount_cents })
    .idempotencyKey(`refund-${order.order_id}`)
    .call();
  release(ctx, order, reservation);
  return { order_id: order.order_id, status: "refunded", reason };
}

export const run = workflow(orderFlow);
