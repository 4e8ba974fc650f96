/*
 * wasi-probe: libc's own clock, randomness, output, environment, files and
 * exit inside a workflow, for the deterministic-WASI tests
 * (tests/tests/it/c_workflows.rs).
 *
 * Input: {"tag": "t1", "sleep_ms": 1000, "exit": null}. Reads
 * clock_gettime(CLOCK_REALTIME) and the journaled `now`, draws arc4random()
 * and getentropy(), prints them (`probe <tag> before ...`) to stdout and a
 * line to stderr, calls the `reserve_stock` activity, tries getenv and
 * fopen, sleeps durably `sleep_ms`, reads the clocks again, prints
 * `probe <tag> after`, and returns everything. With "exit": N it calls
 * exit(N) at the end instead of returning.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "continuum.h"

extern char **environ;

static uint64_t ms_of(const struct timespec *ts) { return (uint64_t)ts->tv_sec * 1000 + (uint64_t)ts->tv_nsec / 1000000; }

static uint64_t ns_of(const struct timespec *ts) { return (uint64_t)ts->tv_sec * 1000000000 + (uint64_t)ts->tv_nsec; }

static cn_json *wasi_probe(const cn_json *input) {
    const char *tag = cn_as_str(cn_get(input, "tag"));
    if (!tag) tag = "probe";
    uint64_t sleep_ms = 1000;
    cn_as_u64(cn_get(input, "sleep_ms"), &sleep_ms);

    struct timespec wall, mono;
    clock_gettime(CLOCK_REALTIME, &wall);
    uint64_t time_before = ms_of(&wall);
    uint64_t now_before = cn_now_ms();
    clock_gettime(CLOCK_MONOTONIC, &mono);
    uint64_t monotonic_before = ns_of(&mono);
    uint32_t random = arc4random();
    unsigned char entropy[8];
    if (getentropy(entropy, sizeof entropy) != 0) return cn_fail("entropy", "getentropy: %s", strerror(errno));
    char entropy_hex[17];
    for (size_t i = 0; i < sizeof entropy; i++) snprintf(entropy_hex + 2 * i, 3, "%02x", entropy[i]);
    const char *uuid = cn_uuid();
    printf("probe %s before time=%" PRIu64 " random=%" PRIu32 " entropy=%s uuid=%s\n", tag, time_before, random,
           entropy_hex, uuid);
    fprintf(stderr, "probe %s to stderr\n", tag);

    cn_json *reservation;
    cn_failure failed;
    cn_json *reserve = cn_object("order_id", cn_str(tag), "sku", cn_str("S"), "quantity", cn_u64(1), NULL);
    if (!cn_call("reserve_stock", reserve, NULL, &reservation, &failed)) return cn_fail_with(&failed);

    const char *path = getenv("PATH");
    size_t environ_count = 0;
    for (char **e = environ; e && *e; e++) environ_count++;
    errno = 0;
    FILE *f = fopen("/etc/passwd", "r");
    const char *file_error = f ? "none" : strerror(errno);
    if (f) fclose(f);

    cn_sleep(sleep_ms);
    clock_gettime(CLOCK_REALTIME, &wall);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    uint64_t time_after = ms_of(&wall), monotonic_after = ns_of(&mono);
    printf("probe %s after time=%" PRIu64 "\n", tag, time_after);

    cn_json *out = cn_object("tag", cn_str(tag), "time_before", cn_u64(time_before), "now_before", cn_u64(now_before),
                             "monotonic_before", cn_u64(monotonic_before), "random", cn_u64(random), "entropy",
                             cn_str(entropy_hex), "uuid", cn_str(uuid), "reservation_id",
                             cn_str(cn_as_str(cn_get(reservation, "reservation_id"))), "path",
                             path ? cn_str(path) : cn_null(), "environ", cn_u64(environ_count), "file_error",
                             cn_str(file_error), "time_after", cn_u64(time_after), "monotonic_after",
                             cn_u64(monotonic_after), NULL);
    uint64_t code;
    if (cn_as_u64(cn_get(input, "exit"), &code)) {
        fflush(stdout);
        exit((int)code);
    }
    return out;
}

CN_WORKFLOW(wasi_probe)
