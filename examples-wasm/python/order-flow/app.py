"""``order-flow`` in Python: the same workflow as the Rust
``examples-wasm/order-flow`` (same activities, same outputs for the same
inputs).

Reserves stock, charges the card (a failed charge releases the stock and
fails the run: ``payment_declined`` when the activity's error code is
``card_declined``, ``payment_failed`` otherwise), then waits for the
``fraud_review`` signal for at most ``review_timeout_ms`` (default 24 h).
``"approved"`` ships the order; ``"rejected"`` or no answer in time refunds
the payment and releases the stock.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Dict, Optional

import continuum
from continuum import ActivityFailed, RetryPolicy, Workflow, WorkflowError, log

DAY_MS = 24 * 3600 * 1000
_NO_REVIEW = object()

_FIELDS = {"order_id": str, "sku": str, "quantity": int, "amount_cents": int, "card": str}


def _order(value: Any) -> Dict[str, Any]:
    """The input, checked like the Rust example's ``Order``."""
    if not isinstance(value, dict):
        raise WorkflowError("invalid_input", "cannot decode the workflow input: expected an order object")
    for name, kind in _FIELDS.items():
        if name not in value:
            raise WorkflowError("invalid_input", f"cannot decode the workflow input: missing field `{name}`")
        if not isinstance(value[name], kind) or (kind is int and (isinstance(value[name], bool) or value[name] < 0)):
            raise WorkflowError("invalid_input", f"cannot decode the workflow input: bad field `{name}`")
    return value


def _decision(review: Any) -> Optional[str]:
    """``"approved"``, ``"rejected"``, or ``{"decision": "..."}``."""
    if isinstance(review, str):
        return review
    if isinstance(review, dict) and isinstance(review.get("decision"), str):
        return review["decision"]
    return None


def _release(ctx: Workflow, order: Dict[str, Any], reservation: Dict[str, Any]) -> None:
    ctx.activity("release_stock", {
        "order_id": order["order_id"], "reservation_id": reservation["reservation_id"],
    }).call()


def order_flow(ctx: Workflow, value: Any) -> Dict[str, Any]:
    order = _order(value)
    log.info(f"order {order['order_id']}: {order['quantity']} x {order['sku']}")

    reservation = (
        ctx.activity("reserve_stock", {
            "order_id": order["order_id"], "sku": order["sku"], "quantity": order["quantity"],
        })
        .retry(RetryPolicy.exponential(3, timedelta(milliseconds=200)))
        .timeout(timedelta(seconds=10))
        .call()
    )

    try:
        charge = (
            ctx.activity("charge_card", {
                "order_id": order["order_id"], "card": order["card"],
                "amount_cents": order["amount_cents"], "spin": order.get("spin") or 0,
            })
            .retry(RetryPolicy.exponential(3, timedelta(milliseconds=200)).with_max_interval(timedelta(seconds=2)))
            .timeout(timedelta(seconds=30))
            .idempotency_key(f"charge-{order['order_id']}")
            .call()
        )
    except ActivityFailed as failed:
        log.warn(f"order {order['order_id']}: charge failed: {failed}")
        _release(ctx, order, reservation)
        # The activity's error code says why: a declined card is the
        # customer's problem, anything else (retries exhausted, timed out)
        # is ours.
        code = "payment_declined" if failed.code == "card_declined" else "payment_failed"
        raise WorkflowError(code, failed.message)

    timeout_ms = order.get("review_timeout_ms")
    timeout = timedelta(milliseconds=DAY_MS if timeout_ms is None else timeout_ms)
    # A signal raced against a timer, spelled out so that the log comes after
    # the run's last command and before the wait it suspends at.
    signal = ctx.receive_signal("fraud_review")
    timer = ctx.timer(timeout)
    log.info(f"order {order['order_id']}: charged; waiting for the fraud review")
    review = signal.wait() if ctx.select(signal, timer) == 0 else _NO_REVIEW

    decision = None if review is _NO_REVIEW else _decision(review)
    if decision == "approved":
        shipment = ctx.activity("ship_order", {
            "order_id": order["order_id"], "sku": order["sku"], "quantity": order["quantity"],
            "reservation_id": reservation["reservation_id"],
        }).call()
        return {
            "order_id": order["order_id"],
            "status": "shipped",
            "tracking": shipment["tracking"],
            "charge_id": charge["charge_id"],
        }
    if decision == "rejected":
        reason = "fraud_review_rejected"
    elif review is _NO_REVIEW:
        reason = "fraud_review_timeout"
    else:
        raise WorkflowError(
            "bad_signal",
            f'fraud_review payload must be "approved" or "rejected", got {continuum.to_json(review)}',
        )

    ctx.activity("refund_payment", {
        "order_id": order["order_id"], "charge_id": charge["charge_id"], "amount_cents": order["amount_cents"],
    }).idempotency_key(f"refund-{order['order_id']}").call()
    _release(ctx, order, reservation)
    return {"order_id": order["order_id"], "status": "refunded", "reason": reason}


WitWorld = continuum.workflow(order_flow)
