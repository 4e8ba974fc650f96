/*
 * counter-flow in C: the same workflow as the Rust examples-wasm/counter-flow.
 * Adds up the numbers sent as `add` (a signal or an update, replied to with
 * the new total) until "stop"; "reject" is rejected. Queries: `count`,
 * `status`, `echo`, and `fail` (always fails).
 */
#include <string.h>

#include "continuum.h"

static struct {
    int64_t count;
    int64_t adds;
    bool stopped;
} state;

static cn_json *count(const cn_json *args, void *ctx, const char **error) {
    (void)args, (void)ctx, (void)error;
    return cn_i64(state.count);
}

static cn_json *status(const cn_json *args, void *ctx, const char **error) {
    (void)args, (void)ctx, (void)error;
    return cn_object("count", cn_i64(state.count), "adds", cn_i64(state.adds), "stopped", cn_bool(state.stopped), NULL);
}

static cn_json *echo(const cn_json *args, void *ctx, const char **error) {
    (void)ctx, (void)error;
    return (cn_json *)args;
}

static cn_json *fail(const cn_json *args, void *ctx, const char **error) {
    (void)args, (void)ctx;
    *error = "the fail query always fails";
    return NULL;
}

static cn_json *counter_flow(const cn_json *input) {
    (void)input;
    state.count = 0, state.adds = 0, state.stopped = false;
    cn_on_query("count", count, NULL);
    cn_on_query("status", status, NULL);
    cn_on_query("echo", echo, NULL);
    cn_on_query("fail", fail, NULL);
    for (;;) {
        cn_update u;
        cn_failure f;
        if (!cn_update_receive("add", &u, &f)) return cn_fail_with(&f);
        const char *text = cn_as_str(u.value);
        if (text && strcmp(text, "stop") == 0) {
            const char *why = cn_update_reply(&u, cn_i64(state.count));
            if (why) return cn_fail("update_refused", "%s", why);
            break;
        }
        if (text && strcmp(text, "reject") == 0) {
            const char *why = cn_update_reject(&u, "the counter rejects \"reject\"");
            if (why) return cn_fail("update_refused", "%s", why);
            continue;
        }
        const cn_json *value = u.value;
        if (cn_typeof(value) == CN_OBJECT) {
            uint64_t delay = 0;
            if (cn_as_u64(cn_get(value, "delay_ms"), &delay) && delay > 0) cn_sleep(delay);
            value = cn_get(value, "add");
        }
        int64_t n = 0;
        if (!cn_as_i64(value, &n)) n = 0;
        state.count += n;
        state.adds += 1;
        const char *why = cn_update_reply(&u, cn_i64(state.count));
        if (why) return cn_fail("update_refused", "%s", why);
    }
    state.stopped = true;
    return cn_object("count", cn_i64(state.count), "adds", cn_i64(state.adds), NULL);
}

CN_WORKFLOW(counter_flow)
