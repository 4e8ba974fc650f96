/*
 * The conformance suite's activities in C (docs/conformance.md describes
 * the Rust `conformance_activities` the suite itself uses): an activity
 * component of the `activity` world, built because the directory's name
 * ends in `-activities`.
 *
 *   conf_flaky   {"fail_times": n}  attempts 1..=n fail retryable with code
 *                                   `flaky`; attempt n+1 returns {"attempt": n+1}
 *   conf_decline anything           fails non-retryable, code `declined`
 *   conf_echo    {"i": i}           returns {"i": i, "double": 2*i}
 */
#include "continuum.h"

static cn_json *conf_flaky(const cn_json *input) {
    uint64_t fail_times = 0;
    cn_as_u64(cn_get(input, "fail_times"), &fail_times);
    /* The attempt number comes from the activity context: stateless. */
    uint32_t attempt = cn_attempt().attempt;
    if (attempt <= fail_times) return cn_activity_error(true, "flaky", "attempt %u of %llu fails", attempt, (unsigned long long)fail_times);
    return cn_object("attempt", cn_u64(attempt), NULL);
}

static cn_json *conf_decline(const cn_json *input) {
    return cn_activity_error(false, "declined", "declined by the activity");
}

static cn_json *conf_echo(const cn_json *input) {
    uint64_t i;
    if (!cn_as_u64(cn_get(input, "i"), &i) || i > UINT64_MAX / 2)
        return cn_activity_error(false, "bad_input", "expected {\"i\": n}, got %s", cn_to_json(input));
    return cn_object("i", cn_u64(i), "double", cn_u64(2 * i), NULL);
}

CN_ACTIVITIES({"conf_flaky", conf_flaky}, {"conf_decline", conf_decline}, {"conf_echo", conf_echo})
