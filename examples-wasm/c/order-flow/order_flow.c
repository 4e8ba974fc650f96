/*
 * order-flow in C: the same workflow as the Rust examples-wasm/order-flow
 * (same activities, same outputs and errors for the same inputs).
 *
 * Reserves stock, charges the card (a failed charge releases the stock and
 * fails the run: `payment_declined` when the activity's error code is
 * `card_declined`, `payment_failed` otherwise), then waits for the
 * `fraud_review` signal for at most `review_timeout_ms` (default 24 h).
 * "approved" ships the order; "rejected" or no answer in time refunds the
 * payment and releases the stock.
 */
#include <string.h>

#include "continuum.h"

#define DAY_MS (24ULL * 3600 * 1000)

/* The input, checked as the Rust example's `Order` is by serde. */
static const cn_field ORDER[] = {
    {"order_id", CN_FIELD_STRING, false},      {"sku", CN_FIELD_STRING, false},
    {"quantity", CN_FIELD_U32, false},         {"amount_cents", CN_FIELD_U64, false},
    {"card", CN_FIELD_STRING, false},          {"review_timeout_ms", CN_FIELD_U64, true},
    {"spin", CN_FIELD_U64, true},
};
static const cn_field RESERVATION[] = {{"reservation_id", CN_FIELD_STRING, false}};
static const cn_field CHARGE[] = {{"charge_id", CN_FIELD_STRING, false}};
static const cn_field SHIPMENT[] = {{"tracking", CN_FIELD_STRING, false}};

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Calls an activity whose result must have `fields` (as a Rust struct
 * `what`): true with the result, or false with the failure (a result of
 * another shape is a bad_payload failure, as in the Rust SDK). */
static bool call_as(const char *name, const cn_json *input, const cn_activity_options *options, const char *what,
                    const cn_field *fields, size_t n, const cn_json **out, cn_failure *failed) {
    cn_json *result;
    if (!cn_call(name, input, options, &result, failed)) return false;
    const char *why = cn_check(result, what, fields, n);
    if (why) {
        *failed = (cn_failure){.kind = CN_BAD_PAYLOAD, .message = why};
        return false;
    }
    *out = result;
    return true;
}

/* "approved", "rejected", or {"decision": "..."}. */
static const char *decision_of(const cn_json *review) {
    if (cn_as_str(review)) return cn_as_str(review);
    return cn_as_str(cn_get(review, "decision"));
}

static bool release(const cn_json *order, const cn_json *reservation, cn_failure *failed) {
    cn_json *input = cn_object("order_id", cn_str(cn_as_str(cn_get(order, "order_id"))), "reservation_id",
                               cn_str(cn_as_str(cn_get(reservation, "reservation_id"))), NULL);
    return cn_call("release_stock", input, NULL, NULL, failed);
}

static cn_json *order_flow(const cn_json *order) {
    const char *why = cn_check(order, "Order", ORDER, LEN(ORDER));
    if (why) return cn_fail("invalid_input", "cannot decode the workflow input: %s", why);
    const char *order_id = cn_as_str(cn_get(order, "order_id"));
    const char *sku = cn_as_str(cn_get(order, "sku"));
    const char *card = cn_as_str(cn_get(order, "card"));
    uint64_t quantity = 0, amount_cents = 0, spin = 0, timeout_ms = DAY_MS;
    cn_as_u64(cn_get(order, "quantity"), &quantity);
    cn_as_u64(cn_get(order, "amount_cents"), &amount_cents);
    cn_as_u64(cn_get(order, "spin"), &spin);
    cn_as_u64(cn_get(order, "review_timeout_ms"), &timeout_ms);
    cn_info("order %s: %llu x %s", order_id, (unsigned long long)quantity, sku);

    cn_failure failed;
    const cn_json *reservation;
    cn_retry_policy reserve_retry = cn_retry_exponential(3, 200);
    cn_activity_options reserve = {.retry = &reserve_retry, .timeout_ms = 10000};
    if (!call_as("reserve_stock",
                 cn_object("order_id", cn_str(order_id), "sku", cn_str(sku), "quantity", cn_u64(quantity), NULL),
                 &reserve, "Reservation", RESERVATION, LEN(RESERVATION), &reservation, &failed))
        return cn_fail_with(&failed);

    const cn_json *charge;
    cn_retry_policy charge_retry = cn_retry_exponential(3, 200);
    charge_retry.max_interval_ms = 2000;
    cn_activity_options charging = {
        .retry = &charge_retry, .timeout_ms = 30000, .idempotency_key = cn_sprintf("charge-%s", order_id)};
    cn_json *charge_input = cn_object("order_id", cn_str(order_id), "card", cn_str(card), "amount_cents",
                                      cn_u64(amount_cents), "spin", cn_u64(spin), NULL);
    if (!call_as("charge_card", charge_input, &charging, "Charge", CHARGE, LEN(CHARGE), &charge, &failed)) {
        cn_warn("order %s: charge failed: %s", order_id, cn_failure_text(&failed));
        cn_failure release_failed;
        if (!release(order, reservation, &release_failed)) return cn_fail_with(&release_failed);
        /* The activity's error code says why: a declined card is the
         * customer's problem, anything else (retries exhausted, timed out)
         * is ours. */
        const char *code = failed.code && strcmp(failed.code, "card_declined") == 0 ? "payment_declined" : "payment_failed";
        return cn_fail(code, "%s", failed.message);
    }

    /* A signal raced against a timer, spelled out so that the log comes
     * after the run's last command and before the wait it suspends at. */
    cn_op *signal = cn_receive_signal("fraud_review");
    cn_op *timer = cn_timer(timeout_ms);
    cn_info("order %s: charged; waiting for the fraud review", order_id);
    cn_op *race[] = {signal, timer};
    cn_json *review = NULL;
    if (cn_select(race, 2) == 0 && !cn_wait(signal, &review, &failed)) return cn_fail_with(&failed);

    const char *decision = review ? decision_of(review) : NULL;
    const char *reason;
    if (decision && strcmp(decision, "approved") == 0) {
        const cn_json *shipment;
        cn_json *ship = cn_object("order_id", cn_str(order_id), "sku", cn_str(sku), "quantity", cn_u64(quantity),
                                  "reservation_id", cn_str(cn_as_str(cn_get(reservation, "reservation_id"))), NULL);
        if (!call_as("ship_order", ship, NULL, "Shipment", SHIPMENT, LEN(SHIPMENT), &shipment, &failed))
            return cn_fail_with(&failed);
        return cn_object("order_id", cn_str(order_id), "status", cn_str("shipped"), "tracking",
                         cn_str(cn_as_str(cn_get(shipment, "tracking"))), "charge_id",
                         cn_str(cn_as_str(cn_get(charge, "charge_id"))), NULL);
    } else if (decision && strcmp(decision, "rejected") == 0) {
        reason = "fraud_review_rejected";
    } else if (!review) {
        reason = "fraud_review_timeout";
    } else {
        return cn_fail("bad_signal", "fraud_review payload must be \"approved\" or \"rejected\", got %s",
                       cn_to_json(review));
    }

    cn_activity_options refunding = {.idempotency_key = cn_sprintf("refund-%s", order_id)};
    cn_json *refund = cn_object("order_id", cn_str(order_id), "charge_id", cn_str(cn_as_str(cn_get(charge, "charge_id"))),
                                "amount_cents", cn_u64(amount_cents), NULL);
    if (!cn_call("refund_payment", refund, &refunding, NULL, &failed)) return cn_fail_with(&failed);
    if (!release(order, reservation, &failed)) return cn_fail_with(&failed);
    return cn_object("order_id", cn_str(order_id), "status", cn_str("refunded"), "reason", cn_str(reason), NULL);
}

CN_WORKFLOW(order_flow)
