/*
 * The conformance suite in C (docs/conformance.md): one workflow, every
 * case, chosen by the input's `case`. `conformance-v2` compiles this file
 * with CONFORMANCE_V2 defined: the same workflow with one change, in the
 * `drift` case.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "continuum.h"
#include "conformance_children.h"

/* A parameter of the input, or `fallback` when it is missing. */
static uint64_t param(const cn_json *input, const char *name, uint64_t fallback) {
    uint64_t v = fallback;
    cn_as_u64(cn_get(input, name), &v);
    return v;
}

/* conf_flaky with retries, then conf_decline's typed failure caught. */
static cn_json *activity_retry(void) {
    cn_retry_policy retry = cn_retry_constant(5, 10);
    cn_activity_options flaky_options = {.retry = &retry};
    cn_json *flaky;
    cn_failure failed;
    if (!cn_call("conf_flaky", cn_object("fail_times", cn_u64(2), NULL), &flaky_options, &flaky, &failed))
        return cn_fail_with(&failed);

    cn_retry_policy three = cn_retry_constant(3, 10);
    cn_activity_options decline_options = {.retry = &three};
    if (cn_call("conf_decline", cn_object(NULL), &decline_options, NULL, &failed))
        return cn_fail("unexpected", "conf_decline succeeded");
    cn_json *failure = cn_object("kind", cn_str(cn_failure_kind_code(failed.kind)), "code",
                                 failed.code ? cn_str(failed.code) : cn_null(), "attempts", cn_u64(failed.attempts), NULL);
    return cn_object("flaky", flaky, "failure", failure, NULL);
}

/* conf_unserved, which no host serves, under a schedule-to-start timeout
 * of `ms`: its typed failure caught. */
static cn_json *unserved(const cn_json *input) {
    cn_activity_options options = {.schedule_to_start_timeout_ms = param(input, "ms", 0)};
    cn_failure failed;
    if (cn_call("conf_unserved", cn_object(NULL), &options, NULL, &failed))
        return cn_fail("unexpected", "conf_unserved succeeded");
    cn_json *failure = cn_object("kind", cn_str(cn_failure_kind_code(failed.kind)), "code",
                                 failed.code ? cn_str(failed.code) : cn_null(), "attempts", cn_u64(failed.attempts), NULL);
    return cn_object("failure", failure, NULL);
}

static cn_json *timer(const cn_json *input) {
    uint64_t ms = param(input, "ms", 0);
    uint64_t t0 = cn_now_ms();
    cn_sleep(ms);
    uint64_t t1 = cn_now_ms();
    return cn_object("slept_at_least", cn_bool(t1 >= t0 && t1 - t0 >= ms), NULL);
}

static cn_json *signal_timeout(const cn_json *input) {
    cn_json *payload;
    if (cn_signal_timeout("go", param(input, "timeout_ms", 0), &payload)) return cn_object("signal", payload, NULL);
    return cn_object("timed_out", cn_bool(true), NULL);
}

static cn_json *signal_race(const cn_json *input) {
    cn_op *timer = cn_timer(param(input, "timer_ms", 0));
    cn_op *signal = cn_receive_signal("race");
    cn_op *ops[] = {timer, signal};
    if (cn_select(ops, 2) == 0) return cn_object("winner", cn_str("timer"), NULL);
    cn_json *payload;
    cn_failure failed;
    if (!cn_wait(signal, &payload, &failed)) return cn_fail_with(&failed);
    return cn_object("winner", cn_str("signal"), "payload", payload, NULL);
}

/* n calls of conf_echo started before any is waited on, joined in order. */
/* `continue`: a chain of `n` runs; each calls `conf_echo` with its position
 * `i` (0 in the first), then continues as new with `i + 1`; the last returns
 * the count and its echo. */
static cn_json *continue_case(const cn_json *input) {
    uint64_t n = param(input, "n", 0), i = param(input, "i", 0), twice;
    cn_json *echo;
    cn_failure failed;
    if (!cn_call("conf_echo", cn_object("i", cn_u64(i), NULL), NULL, &echo, &failed)) return cn_fail_with(&failed);
    if (i + 1 < n) {
        cn_continue_as_new(cn_object("case", cn_str("continue"), "n", cn_u64(n), "i", cn_u64(i + 1), NULL), NULL);
        return cn_null();
    }
    if (!cn_as_u64(cn_get(echo, "double"), &twice)) return cn_fail("bad_payload", "conf_echo gave %s", cn_to_json(echo));
    return cn_object("continued", cn_u64(n), "double", cn_u64(twice), NULL);
}

static cn_json *fan_out(const cn_json *input) {
    uint64_t n = param(input, "n", 0);
    if (n > 10000) return cn_fail("invalid_input", "n is at most 10000");
    cn_op **calls = cn_alloc((n ? n : 1) * sizeof(cn_op *));
    for (uint64_t i = 0; i < n; i++) calls[i] = cn_start("conf_echo", cn_object("i", cn_u64(i), NULL), NULL);
    cn_json *doubles = cn_array();
    for (uint64_t i = 0; i < n; i++) {
        cn_json *echo;
        cn_failure failed;
        if (!cn_wait(calls[i], &echo, &failed)) return cn_fail_with(&failed);
        uint64_t twice;
        if (!cn_as_u64(cn_get(echo, "double"), &twice)) return cn_fail("bad_payload", "conf_echo gave %s", cn_to_json(echo));
        cn_push(doubles, cn_u64(twice));
    }
    return cn_object("doubles", doubles, NULL);
}

/* query: answers `state` ({"step": "waiting"} until the signal `go`, then
 * {"step": "done"}) and `echo` (its arguments); waits for `go`. */
static const char *query_step = "waiting";

static cn_json *query_state(const cn_json *args, void *ctx, const char **error) {
    (void)args, (void)ctx, (void)error;
    return cn_object("step", cn_str(query_step), NULL);
}

static cn_json *query_echo(const cn_json *args, void *ctx, const char **error) {
    (void)ctx, (void)error;
    return (cn_json *)args;
}

static cn_json *query_case(void) {
    cn_on_query("state", query_state, NULL);
    cn_on_query("echo", query_echo, NULL);
    cn_json *payload;
    cn_failure failed;
    if (!cn_signal("go", &payload, &failed)) return cn_fail_with(&failed);
    query_step = "done";
    return cn_object("step", cn_str("done"), NULL);
}

static cn_json *patch(void) { return cn_object("patched", cn_bool(cn_patched("conformance-patch")), NULL); }

/* The host's clock and randomness, then libc's own; logged, then a sleep
 * (the harness kills the host there), then returned. */
static cn_json *clock_random(const cn_json *input) {
    uint64_t now = cn_now_ms();
    uint64_t random = cn_random();
    const char *uuid = cn_uuid();
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return cn_fail("clock", "clock_gettime failed");
    uint64_t native_now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    uint32_t native_random = arc4random();
    cn_json *values = cn_object("now", cn_u64(now), "random", cn_strf("%" PRIu64, random), "uuid", cn_str(uuid),
                                "native_now_ms", cn_u64(native_now_ms), "native_random", cn_u64(native_random), NULL);
    cn_info("conformance values %s", cn_to_json(values));
    cn_sleep(param(input, "sleep_ms", 0));
    return values;
}

/* Two steps, each with its compensation, then the signal `go`: a
 * cancellation while waiting runs the compensations, newest first (C has
 * no saga helper: the undo list is written out). */
static cn_json *saga_cancel(void) {
    cn_failure failed;
    for (uint64_t i = 1; i <= 2; i++)
        if (!cn_call("conf_echo", cn_object("i", cn_u64(i), NULL), NULL, NULL, &failed)) return cn_fail_with(&failed);
    cn_json *payload;
    if (cn_signal("go", &payload, &failed)) return cn_object("saga", cn_str("completed"), NULL);
    if (failed.kind == CN_CANCELLED) {
        cn_failure undo_failed;
        for (uint64_t i = 2; i >= 1; i--)
            cn_call("conf_echo", cn_object("i", cn_u64(100 + i), NULL), NULL, NULL, &undo_failed);
    }
    return cn_fail_with(&failed);
}

static cn_json *drift(void) {
#ifdef CONFORMANCE_V2
    cn_json *echo;
    cn_failure failed;
    if (!cn_call("conf_echo", cn_object("i", cn_u64(0), NULL), NULL, &echo, &failed)) return cn_fail_with(&failed);
    return cn_object("drift", cn_str("v2"), NULL);
#else
    cn_json *payload;
    cn_failure failed;
    if (!cn_signal("go", &payload, &failed)) return cn_fail_with(&failed);
    return cn_object("drift", cn_str("v1"), NULL);
#endif
}

static cn_json *conformance(const cn_json *input) {
    const char *name = cn_as_str(cn_get(input, "case"));
    if (!name) return cn_fail("unknown_case", "the input has no `case`: %s", cn_to_json(input));
    if (strcmp(name, "activity_retry") == 0) return activity_retry();
    if (strcmp(name, "timer") == 0) return timer(input);
    if (strcmp(name, "unserved") == 0) return unserved(input);
    if (strcmp(name, "signal_timeout") == 0) return signal_timeout(input);
    if (strcmp(name, "signal_race") == 0) return signal_race(input);
    if (strcmp(name, "fan_out") == 0) return fan_out(input);
    if (strcmp(name, "patch") == 0) return patch();
    if (strcmp(name, "query") == 0) return query_case();
    if (strcmp(name, "continue") == 0) return continue_case(input);
    if (strcmp(name, "clock_random") == 0) return clock_random(input);
    if (strcmp(name, "drift") == 0) return drift();
    if (strcmp(name, "saga_cancel") == 0) return saga_cancel();
    cn_json *child_result;
    if (child_cases(name, input, &child_result)) return child_result;
    return cn_fail("unknown_case", "unknown case `%s`", name);
}

CN_WORKFLOW(conformance)
