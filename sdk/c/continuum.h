/*
 * continuum.h: write Continuum workflows in C.
 *
 * A workflow is a function from its JSON input to its JSON output:
 *
 *     #include "continuum.h"
 *
 *     static cn_json *greet(const cn_json *input) {
 *         const char *name = cn_as_str(cn_get(input, "name"));
 *         if (!name) return cn_fail("invalid_input", "missing `name`");
 *         cn_sleep(1000);                               // a durable timer
 *         cn_json *out;
 *         cn_failure failed;
 *         if (!cn_call("greet", cn_object("name", cn_str(name), NULL), NULL, &out, &failed))
 *             return cn_fail_with(&failed);             // like Rust's `?`
 *         return out;
 *     }
 *     CN_WORKFLOW(greet)
 *
 * Every non-pure thing a workflow does goes through this SDK (activities,
 * timers, signals, the clock, randomness), so the host can journal it and
 * replay it exactly after a crash. libc's own clock (`clock_gettime`,
 * `time`) and randomness (`getentropy`, `arc4random`) are journaled by the
 * host as well; `printf` goes to the run's log (muted on replay); there are
 * no environment variables, no files and no network.
 *
 * Memory: every value the SDK returns (JSON values, strings, operations,
 * failures) lives in the run's arena and is freed when the run returns.
 * Never free() it. Values you build with cn_str(), cn_object() ... live
 * there too.
 *
 * Errors: a workflow fails its run by returning cn_fail(code, fmt, ...)
 * (or cn_fail_with(&failure) for an activity failure it does not handle).
 * Bad JSON anywhere (the input, an activity's result, a signal) becomes an
 * error the workflow sees, never a trap.
 *
 * Built by `cargo run --release -p continuum-guest-build`: every
 * the `.c` files of `examples-wasm/c/<name>/` with this SDK, against the `workflow` world
 * of `sdk/wit` (a directory ending in `-activities` against the `activity`
 * world), into `examples-wasm/components/c_<name>.wasm`.
 */
#ifndef CONTINUUM_H
#define CONTINUUM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* JSON values                                                         */
/* ------------------------------------------------------------------ */

/** A JSON value: parsed from a payload, or built with the cn_* makers. */
typedef struct cn_json cn_json;

/** The type of a JSON value. */
typedef enum cn_type {
    CN_NULL,
    CN_BOOL,
    CN_NUMBER,
    CN_STRING,
    CN_ARRAY,
    CN_OBJECT,
} cn_type;

/** The type of `v` (CN_NULL for a NULL pointer). */
cn_type cn_typeof(const cn_json *v);

/** Parses `len` bytes of JSON (strictly: UTF-8, RFC 8259, nesting at most
 * 128 deep). Returns the value, or NULL and sets `*error` (when not NULL)
 * to a message like serde_json's: `expected value at line 1 column 1`. */
cn_json *cn_parse(const char *text, size_t len, const char **error);

/** `v` as compact JSON text, NUL-terminated, as serde_json prints it
 * (object keys sorted, strings escaped, shortest round-trip floats). */
const char *cn_to_json(const cn_json *v);
/** Same, and its length in `*len`. */
const char *cn_to_json_len(const cn_json *v, size_t *len);

/* Makers. */
cn_json *cn_null(void);
cn_json *cn_bool(bool b);
cn_json *cn_i64(int64_t n);
cn_json *cn_u64(uint64_t n);
/** A float; NaN and infinities become null (as in serde_json). */
cn_json *cn_f64(double x);
/** A string (copied; must be UTF-8). */
cn_json *cn_str(const char *s);
/** A string of `len` bytes (copied; may hold NULs). */
cn_json *cn_strn(const char *s, size_t len);
/** A string made with printf formatting. */
cn_json *cn_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** An empty array. */
cn_json *cn_array(void);
/** Appends `item` to `array`; returns `array`. */
cn_json *cn_push(cn_json *array, cn_json *item);
/** An object from key/value pairs ending with NULL:
 * cn_object("a", cn_i64(1), "b", cn_str("x"), NULL). */
cn_json *cn_object(const char *key, ...);
/** Sets `key` in `object` (replacing an earlier value); returns `object`. */
cn_json *cn_set(cn_json *object, const char *key, cn_json *value);

/* Readers: each is safe on NULL and on a value of another type. */
/** The member `key` of an object (the last one when repeated), or NULL. */
const cn_json *cn_get(const cn_json *object, const char *key);
/** The string, or NULL when `v` is not a string. */
const char *cn_as_str(const cn_json *v);
/** The length of a string in bytes, the items of an array, the members of
 * an object; 0 otherwise. */
size_t cn_len(const cn_json *v);
/** Item `i` of an array, or NULL. */
const cn_json *cn_at(const cn_json *array, size_t i);
/** The key of member `i` of an object, or NULL. */
const char *cn_key_at(const cn_json *object, size_t i);
/** The value of member `i` of an object, or NULL. */
const cn_json *cn_value_at(const cn_json *object, size_t i);
/** True, storing the value, when `v` is a boolean. */
bool cn_as_bool(const cn_json *v, bool *out);
/** True, storing the value, when `v` is an integer in range. */
bool cn_as_u64(const cn_json *v, uint64_t *out);
bool cn_as_i64(const cn_json *v, int64_t *out);
/** True, storing the value, when `v` is a number (any number). */
bool cn_as_f64(const cn_json *v, double *out);
/** Whether `v` is null (or a NULL pointer). */
bool cn_is_null(const cn_json *v);

/** The type a field of a JSON object must have (see cn_check). */
typedef enum cn_field_type {
    CN_FIELD_STRING,
    CN_FIELD_U32,
    CN_FIELD_U64,
    CN_FIELD_I64,
    CN_FIELD_F64,
    CN_FIELD_BOOL,
    CN_FIELD_ANY,
} cn_field_type;

/** One field of an expected object: its name, its type, and whether it
 * may be missing or null. */
typedef struct cn_field {
    const char *name;
    cn_field_type type;
    bool optional;
} cn_field;

/** Checks that `v` is an object with these fields, as serde's derive
 * does for a struct called `what` (unknown fields are ignored). Returns
 * NULL when it is, or serde_json's message (`missing field `sku` at line
 * 1 column 18`, `invalid type: string "2", expected u32 ...`). */
const char *cn_check(const cn_json *v, const char *what, const cn_field *fields, size_t n);

/* ------------------------------------------------------------------ */
/* Failures and errors                                                 */
/* ------------------------------------------------------------------ */

/** Why an operation did not produce a value. */
typedef enum cn_failure_kind {
    /** The activity ran and reported an error on its last attempt. */
    CN_ACTIVITY_FAILED,
    /** The activity's attempts ran out of time. */
    CN_TIMED_OUT,
    /** The operation was cancelled. */
    CN_CANCELLED,
    /** No activity of that name is registered in the instance. */
    CN_UNKNOWN_ACTIVITY,
    /** The payload is not valid JSON (found in the guest; the host never
     * reports this kind). */
    CN_BAD_PAYLOAD,
} cn_failure_kind;

/** A failed operation, as the workflow sees it. */
typedef struct cn_failure {
    cn_failure_kind kind;
    /** Human-readable description, from the activity or the host. */
    const char *message;
    /** Attempts made before giving up (0 when not an activity). */
    uint32_t attempts;
    /** The code the activity gave its error on the last attempt (like
     * `card_declined`); NULL when it gave none or the failure is the
     * host's. */
    const char *code;
} cn_failure;

/** The code a failure of this kind fails a run with when not handled:
 * `activity_failed`, `activity_timed_out`, `cancelled`, `unknown_activity`,
 * `bad_payload`. */
const char *cn_failure_kind_code(cn_failure_kind kind);

/** A failure as text, as the Rust SDK prints it:
 * `activity_failed: [card_declined] card 4000 declined (after 1 attempt)`. */
const char *cn_failure_text(const cn_failure *f);

/** Fails the run with this code and a printf-formatted message. Returns
 * NULL, so a workflow writes `return cn_fail(...)`. */
cn_json *cn_fail(const char *code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Fails the run with an unhandled failure, as Rust's `?` does: code
 * cn_failure_kind_code(kind), message cn_failure_text(f). Returns NULL. */
cn_json *cn_fail_with(const cn_failure *f);

/* ------------------------------------------------------------------ */
/* Activities                                                          */
/* ------------------------------------------------------------------ */

/** How a failed activity attempt is retried (the WIT retry-policy). */
typedef struct cn_retry_policy {
    /** Attempts in all, the first one included; 0: unlimited. */
    uint32_t max_attempts;
    /** Delay before the first retry, in ms. */
    uint64_t initial_interval_ms;
    /** Each further delay is the previous one times this (1.0: constant). */
    double backoff_coefficient;
    /** Upper bound on one delay, in ms (0: none). */
    uint64_t max_interval_ms;
    /** Random extra delay, as a fraction of the delay (0.0 to 1.0). */
    double jitter;
    /** No retry past this many ms after the first attempt (0: none). */
    uint64_t horizon_ms;
    /** Error codes never retried, and how many there are. */
    const char *const *non_retryable_codes;
    size_t non_retryable_count;
} cn_retry_policy;

/** The same delay between every attempt. */
cn_retry_policy cn_retry_constant(uint32_t max_attempts, uint64_t interval_ms);
/** Delays that double after each attempt, starting at `base_ms`. */
cn_retry_policy cn_retry_exponential(uint32_t max_attempts, uint64_t base_ms);
/** A single attempt, never retried. */
cn_retry_policy cn_retry_none(void);

/** Options of one activity call; zero-initialise and set what you need:
 * `cn_activity_options o = {.retry = &policy, .timeout_ms = 10000};`. */
typedef struct cn_activity_options {
    /** The retry policy; NULL: the host's default. */
    const cn_retry_policy *retry;
    /** Timeout of each attempt, in ms; 0: the host's default. */
    uint64_t timeout_ms;
    /** Fail an attempt without a heartbeat for this long (ms); 0: none. */
    uint64_t heartbeat_timeout_ms;
    /** The task queue; NULL: `default`. */
    const char *queue;
    /** Higher runs first among ready tasks of the same queue. */
    int32_t priority;
    /** Reuse a completed result with the same key; NULL: none. */
    const char *idempotency_key;
    /** Fail the call when none of its attempts has started this many ms
     * after it was scheduled: with CN_UNKNOWN_ACTIVITY when no host of the
     * instance serves the activity on its queue, else CN_TIMED_OUT. 0: the
     * call waits for a worker however long it takes (`continuum show` says
     * when no host serves it). */
    uint64_t schedule_to_start_timeout_ms;
} cn_activity_options;

/** An operation started by the workflow that completes later: an activity
 * call, a timer or a signal receipt. */
typedef struct cn_op cn_op;

/** Schedules the activity `name` with `input` (NULL: null) and `options`
 * (NULL: the defaults); returns its pending operation. */
cn_op *cn_start(const char *name, const cn_json *input, const cn_activity_options *options);

/** Calls the activity and waits: true with its result in `*out`, or false
 * with its failure in `*failure`. Either pointer may be NULL. */
bool cn_call(const char *name, const cn_json *input, const cn_activity_options *options, cn_json **out,
             cn_failure *failure);

/* ------------------------------------------------------------------ */
/* Timers, signals, waiting                                            */
/* ------------------------------------------------------------------ */

/** Starts a durable timer of `ms`; it completes (with null) when it fires. */
cn_op *cn_timer(uint64_t ms);
/** Sleeps durably for `ms` (survives a crash of the host). */
void cn_sleep(uint64_t ms);
/** Starts waiting for the next signal called `name`; its payload is the
 * operation's value. Signals sent before the workflow asks are kept. */
cn_op *cn_receive_signal(const char *name);
/** Waits for the next signal called `name`: true with its payload in
 * `*out`, false (with `*failure`) if its payload is not JSON. */
bool cn_signal(const char *name, cn_json **out, cn_failure *failure);
/** Waits for the signal `name` at most `timeout_ms`: true with its payload
 * in `*out`; false when the timer fired first (then `*out` is NULL; the
 * abandoned receipt takes no signal). */
bool cn_signal_timeout(const char *name, uint64_t timeout_ms, cn_json **out);

/** Waits for `op`: true with its value in `*out` (null for a timer), or
 * false with its failure in `*failure`. Waiting again returns the same. */
bool cn_wait(cn_op *op, cn_json **out, cn_failure *failure);
/** Whether `op`'s outcome is known (it won a cn_select). */
bool cn_is_done(const cn_op *op);
/** Blocks until one of `ops` completes; returns its position. The winner
 * keeps its outcome (cn_wait returns it at once); the others stay pending.
 * An operation already done wins at once. Returns `n` when `n` is 0. */
size_t cn_select(cn_op *const *ops, size_t n);

/* ------------------------------------------------------------------ */
/* Child workflows                                                     */
/* ------------------------------------------------------------------ */

/* A workflow starts another workflow of its instance as its child and
 * waits on it like on any operation (cn_select races it, cn_join_children
 * waits for several):
 *
 *     cn_child_options o = {.run_id = "ship-o-1", .parent_close = CN_PARENT_CLOSE_ABANDON};
 *     cn_op *child = cn_start_child("ship-flow", cn_object("order_id", cn_str("o-1"), NULL), &o);
 *     cn_json *tracking;
 *     cn_child_error e;
 *     if (!cn_wait_child(child, &tracking, &e)) {
 *         if (e.kind == CN_CHILD_FAILED && strcmp(e.code, "no_carrier") == 0) ...
 *         return cn_fail_child(&e);               // the child's code, like `?`
 *     }
 */

/** What becomes of a child that has not ended when its parent ends
 * (completes, fails, is cancelled or terminated). */
typedef enum cn_parent_close {
    /** Its cancellation is requested: delivered to the child workflow,
     * which may clean up (the default). */
    CN_PARENT_CLOSE_CANCEL,
    /** It is terminated at once. */
    CN_PARENT_CLOSE_TERMINATE,
    /** It runs on, on its own. */
    CN_PARENT_CLOSE_ABANDON,
} cn_parent_close;

/** Options of one child; zero-initialise and set what you need. */
typedef struct cn_child_options {
    /** The child's run id; NULL: derived from the parent's run id and the
     * operation (`<parent>-child-<n>`, the same on every replay). */
    const char *run_id;
    /** What becomes of the child when the parent ends first. */
    cn_parent_close parent_close;
    /** The instance to run the child in; NULL: the parent's (another one
     * is refused: CN_CHILD_REFUSED). */
    const char *instance;
} cn_child_options;

/** Why a child workflow did not produce an output. */
typedef enum cn_child_error_kind {
    /** The child workflow failed (its error code is `code`). */
    CN_CHILD_FAILED,
    /** The child was cancelled (or this run's own cancellation completed
     * the wait on it). */
    CN_CHILD_CANCELLED,
    /** The child was terminated. */
    CN_CHILD_TERMINATED,
    /** No workflow of that name is deployed in the instance; no child was
     * started. */
    CN_CHILD_UNKNOWN_WORKFLOW,
    /** The start was refused (another instance, a run id that is not valid
     * or is another run's); no child was started. */
    CN_CHILD_REFUSED,
    /** The child's output is not valid JSON. */
    CN_CHILD_BAD_PAYLOAD,
} cn_child_error_kind;

/** A child's failure, typed. */
typedef struct cn_child_error {
    cn_child_error_kind kind;
    /** The child's own code for CN_CHILD_FAILED, else `cancelled`,
     * `terminated`, `unknown_workflow`, `child_refused`, `bad_payload`. */
    const char *code;
    /** Human-readable description. */
    const char *message;
} cn_child_error;

/** The kind's name: `failed`, `cancelled`, `terminated`,
 * `unknown_workflow`, `refused`, `bad_payload`. */
const char *cn_child_error_kind_name(cn_child_error_kind kind);

/** Starts the workflow `workflow` of this run's instance with `input`
 * (NULL: null) as a child of this run, with `options` (NULL: the
 * defaults); returns its pending operation. Journaled: a replay starts no
 * second child. cn_wait works on it too (a cancelled or terminated child
 * fails with CN_CANCELLED, another with CN_ACTIVITY_FAILED and the
 * child's code); cn_wait_child tells the failure typed. */
cn_op *cn_start_child(const char *workflow, const cn_json *input, const cn_child_options *options);

/** Waits for the child of `child`: true with its output in `*out`, or false
 * with why it did not complete in `*error`. Either pointer may be NULL.
 * Waiting again returns the same. */
bool cn_wait_child(cn_op *child, cn_json **out, cn_child_error *error);

/** Starts a child and waits for it (cn_start_child, then cn_wait_child). */
bool cn_child(const char *workflow, const cn_json *input, const cn_child_options *options, cn_json **out,
              cn_child_error *error);

/** The run id of the child of `child`, or NULL when `child` is not a
 * child's operation. */
const char *cn_child_run_id(const cn_op *child);

/** Waits for every child of `children` (all of them: one failing does
 * not stop the wait on the others); returns how many completed. Read each
 * outcome with cn_wait_child afterwards (it returns at once). */
size_t cn_join_children(cn_op *const *children, size_t n);

/** Fails the run with a child's failure, as Rust's `?` does: its code and
 * its message. Returns NULL. */
cn_json *cn_fail_child(const cn_child_error *error);

/* ------------------------------------------------------------------ */
/* Clock, randomness, patches, log                                     */
/* ------------------------------------------------------------------ */

/** The current time in ms since the Unix epoch (journaled). */
uint64_t cn_now_ms(void);
/** A random 64-bit number (journaled). */
uint64_t cn_random(void);
/** A random UUID v4, hyphenated (journaled). */
const char *cn_uuid(void);
/** A patch marker: true when the run takes the new path (journaled). */
bool cn_patched(const char *name);
/** Sets attribute `key` of this run to `value` (journaled; a key set again
 * gets the new value), for `continuum runs --attr key=value`. Returns NULL,
 * or, when the key (1 to 64 of [A-Za-z0-9_.:-]) or the value (at most 256
 * characters, no control characters) is refused and nothing was recorded,
 * the message naming the key (fail the run with
 * `return cn_fail("invalid_attribute", "%s", message)`). */
const char *cn_set_attribute(const char *key, const char *value);

/* ------------------------------------------------------------------ */
/* Queries and updates                                                 */
/* ------------------------------------------------------------------ */

/** A query handler: returns the answer for `args` (the query's JSON
 * arguments), or NULL with `*error` set to the message the query fails
 * with. It must only read the workflow's state (nothing it does is
 * recorded). */
typedef cn_json *(*cn_query_handler)(const cn_json *args, void *ctx, const char **error);
/** Registers the handler of the query `name` (`continuum query RUN NAME
 * ARGS`), called with `ctx`; registering a name again replaces it. The
 * host answers a query by replaying the run read-only: the handler is
 * called once the guest is where the run is (at the wait it is blocked
 * at, or after the workflow returned). */
void cn_on_query(const char *name, cn_query_handler handler, void *ctx);

/** A signal received by cn_update_receive: its payload, and its update id
 * (NULL for a plain signal) when its sender waits for a reply. */
typedef struct cn_update {
    cn_json *value;
    const char *id;
} cn_update;
/** Waits for the next signal `name`, sent as an update (`continuum update`)
 * or as a plain signal: true with it in `*out`, false (with `*failure`) if
 * its payload is not JSON. */
bool cn_update_receive(const char *name, cn_update *out, cn_failure *failure);
/** Replies `value` to the update's sender (journaled: a replay does not
 * reply again); nothing for a plain signal. Returns NULL, or the message
 * why it was refused (replied to already). */
const char *cn_update_reply(const cn_update *u, const cn_json *value);
/** Rejects the update: its sender gets the error `message`. Returns NULL
 * or why it was refused. */
const char *cn_update_reject(const cn_update *u, const char *message);

/** Continues as new: the run ends `continued` when the workflow returns
 * (whatever it returns) and the next run of its chain starts with `input`
 * and an empty history, on the current version or on `version` (a content
 * hash; NULL: the current one). Return right after it: any further call
 * fails the run. Input that is not JSON or an unknown version fails the
 * run (`invalid_continuation`). */
void cn_continue_as_new(const cn_json *input, const char *version);

/** Log levels. */
typedef enum cn_level { CN_TRACE, CN_DEBUG, CN_INFO, CN_WARN, CN_ERROR } cn_level;
/** Writes a printf-formatted line to the host's log (muted on replay). */
void cn_log(cn_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define cn_info(...) cn_log(CN_INFO, __VA_ARGS__)
#define cn_warn(...) cn_log(CN_WARN, __VA_ARGS__)
#define cn_error(...) cn_log(CN_ERROR, __VA_ARGS__)
#define cn_debug(...) cn_log(CN_DEBUG, __VA_ARGS__)

/* ------------------------------------------------------------------ */
/* Memory and the workflow entry point                                 */
/* ------------------------------------------------------------------ */

/** `n` bytes from the run's arena (zeroed; freed when the run returns). */
void *cn_alloc(size_t n);
/** A printf-formatted string in the run's arena. */
const char *cn_sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** A workflow: the decoded input (null for an empty payload) to the output,
 * or NULL after cn_fail. */
typedef cn_json *(*cn_workflow_fn)(const cn_json *input);

/** Makes `fn` the component's workflow (once per component): the `run`
 * export decodes the input (bad JSON fails the run with `invalid_input`),
 * calls `fn`, and encodes its output or fails the run with its cn_fail. */
#define CN_WORKFLOW(fn) cn_workflow_fn cn_the_workflow = fn;

/** The function CN_WORKFLOW registers. */
extern cn_workflow_fn cn_the_workflow;

/* ------------------------------------------------------------------ */
/* Activities (a component of the `activity` world)                    */
/* ------------------------------------------------------------------ */

/* An activity component is built from a directory whose name ends in
 * `-activities`. It gets the sandboxed WASI of activities (its sandbox
 * directory, the environment variables the manifest lists), so libc's
 * files, clock and randomness are real there. The JSON functions, cn_alloc
 * and cn_sprintf work as in a workflow; the workflow functions do not. */

/** An activity: its decoded input to its output, or NULL after
 * cn_activity_error. */
typedef cn_json *(*cn_activity_fn)(const cn_json *input);

/** One activity of the component: its name and its function. */
typedef struct cn_activity_def {
    const char *name;
    cn_activity_fn fn;
} cn_activity_def;

/** Registers the component's activities (once per component):
 * CN_ACTIVITIES({"double", double_it}, {"shout", shout}). An input that is
 * not JSON is a non-retryable failure; an unknown name too. */
#define CN_ACTIVITIES(...)                                                                                 \
    const cn_activity_def cn_the_activities[] = {__VA_ARGS__, {NULL, NULL}};

/** The table CN_ACTIVITIES registers, ended by {NULL, NULL}. */
extern const cn_activity_def cn_the_activities[];

/** Fails the attempt: retried by the host unless `retryable` is false (or
 * the call's retry policy lists `code`); `code` (NULL: none) reaches the
 * workflow as cn_failure.code. Returns NULL. */
cn_json *cn_activity_error(bool retryable, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Who the running attempt is. */
typedef struct cn_attempt_info {
    const char *instance;
    /** The calling run (empty when called outside a run). */
    const char *run_id;
    const char *activity;
    /** 1 for the first attempt of the call. */
    uint32_t attempt;
} cn_attempt_info;

/** The running attempt. */
cn_attempt_info cn_attempt(void);
/** Reports progress (`details`, a later attempt may resume from them);
 * returns true when the activity has been cancelled and should stop. */
bool cn_heartbeat(const cn_json *details);
/** The latest heartbeat's details recorded for this call, or NULL. */
cn_json *cn_last_heartbeat(void);
/** Whether the call has been cancelled. */
bool cn_is_cancelled(void);

#ifdef __cplusplus
}
#endif
#endif /* CONTINUUM_H */
