/*
 * The child-workflow cases of docs/conformance.md in C, included by
 * conformance.c (and so by conformance-v2): each starts children of the
 * conformance workflow the input's `workflow` names (the language's own,
 * so every suite can start them), each child running a simple case.
 */
#ifndef CONFORMANCE_CHILDREN_H
#define CONFORMANCE_CHILDREN_H

#include <string.h>

#include "continuum.h"

/* The kind and code of a child's typed error. */
static cn_json *child_error_json(const cn_child_error *e) {
    return cn_object("kind", cn_str(cn_child_error_kind_name(e->kind)), "code", cn_str(e->code), NULL);
}

/* One child running `patch`, under the run id `run_id`: its output and its
 * run id as the handle tells it. */
static cn_json *child_case(const cn_json *input, const char *workflow) {
    const char *run_id = cn_as_str(cn_get(input, "run_id"));
    if (!run_id) return cn_fail("invalid_input", "the case needs the parameter `run_id` (a string)");
    cn_child_options options = {.run_id = run_id};
    cn_op *child = cn_start_child(workflow, cn_object("case", cn_str("patch"), NULL), &options);
    cn_json *output;
    cn_child_error e;
    if (!cn_wait_child(child, &output, &e)) return cn_fail_child(&e);
    const char *id = cn_child_run_id(child);
    return cn_object("child", output, "child_run_id", id ? cn_str(id) : cn_null(), NULL);
}

/* `n` children started before any is waited on (child `i` runs `fan_out`
 * with `n = i`), joined in order. */
static cn_json *child_join(const cn_json *input, const char *workflow) {
    uint64_t n = 0;
    if (!cn_as_u64(cn_get(input, "n"), &n) || n > 1000) return cn_fail("invalid_input", "the case needs the parameter `n` (at most 1000)");
    cn_op **children = cn_alloc((n ? n : 1) * sizeof(cn_op *));
    for (uint64_t i = 0; i < n; i++)
        children[i] = cn_start_child(workflow, cn_object("case", cn_str("fan_out"), "n", cn_u64(i), NULL), NULL);
    cn_join_children(children, n);
    cn_json *results = cn_array();
    for (uint64_t i = 0; i < n; i++) {
        cn_json *output;
        cn_child_error e;
        if (!cn_wait_child(children[i], &output, &e)) return cn_fail_child(&e);
        cn_push(results, output);
    }
    return cn_object("results", results, NULL);
}

/* A child sleeping `child_ms` raced against a timer of `timer_ms`; a child
 * still running when the parent ends is cancelled (the default policy). */
static cn_json *child_race(const cn_json *input, const char *workflow) {
    uint64_t child_ms = 0, timer_ms = 0;
    cn_as_u64(cn_get(input, "child_ms"), &child_ms);
    cn_as_u64(cn_get(input, "timer_ms"), &timer_ms);
    cn_op *child = cn_start_child(workflow, cn_object("case", cn_str("timer"), "ms", cn_u64(child_ms), NULL), NULL);
    cn_op *deadline = cn_timer(timer_ms);
    cn_op *ops[] = {child, deadline};
    if (cn_select(ops, 2) != 0) return cn_object("winner", cn_str("timer"), NULL);
    cn_json *output;
    cn_child_error e;
    if (!cn_wait_child(child, &output, &e)) return cn_fail_child(&e);
    return cn_object("winner", cn_str("child"), "child", output, NULL);
}

/* A child of a workflow no one deployed, and a child failing (an unknown
 * case): both typed errors caught. */
static cn_json *child_errors(const char *workflow) {
    cn_child_error e;
    if (cn_child("no-such-workflow", cn_object(NULL), NULL, NULL, &e))
        return cn_fail("unexpected", "no-such-workflow completed");
    cn_json *unknown = child_error_json(&e);
    cn_set(unknown, "names_it", cn_bool(strstr(e.message, "no-such-workflow") != NULL));
    if (cn_child(workflow, cn_object("case", cn_str("no_such_case"), NULL), NULL, NULL, &e))
        return cn_fail("unexpected", "the unknown case completed");
    return cn_object("unknown", unknown, "failed", child_error_json(&e), NULL);
}

/* A child running `saga_cancel`, waited on: the harness cancels this run,
 * the cancellation reaches the child (the default policy), which
 * compensates; the wait's error fails this run. */
static cn_json *child_cancel(const char *workflow) {
    cn_json *output;
    cn_child_error e;
    if (!cn_child(workflow, cn_object("case", cn_str("saga_cancel"), NULL), NULL, &output, &e)) return cn_fail_child(&e);
    return cn_object("child", output, NULL);
}

/* Runs the child case `name`, if it is one: true with its result in
 * `*result` (NULL after cn_fail). */
static bool child_cases(const char *name, const cn_json *input, cn_json **result) {
    if (strncmp(name, "child", 5) != 0) return false;
    const char *workflow = cn_as_str(cn_get(input, "workflow"));
    bool known = strcmp(name, "child") == 0 || strcmp(name, "child_join") == 0 || strcmp(name, "child_race") == 0 ||
                 strcmp(name, "child_errors") == 0 || strcmp(name, "child_cancel") == 0;
    if (!known) return false;
    if (!workflow) {
        *result = cn_fail("invalid_input", "the case needs the parameter `workflow` (a string)");
        return true;
    }
    if (strcmp(name, "child") == 0) *result = child_case(input, workflow);
    else if (strcmp(name, "child_join") == 0) *result = child_join(input, workflow);
    else if (strcmp(name, "child_race") == 0) *result = child_race(input, workflow);
    else if (strcmp(name, "child_errors") == 0) *result = child_errors(workflow);
    else *result = child_cancel(workflow);
    return true;
}

#endif
