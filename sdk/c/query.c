/*
 * Queries and updates over the `queries` and `updates` interfaces of the
 * workflow world: cn_on_query registers a handler the host asks (in a
 * read-only replay of the run) once the guest is where the run is; an
 * update is a signal whose sender waits for cn_update_reply.
 */
#include <stdlib.h>
#include <string.h>

#include "continuum.h"
#include "internal.h"
#include "workflow.h"

/* At most this many query handlers (a later registration of a name
 * replaces the earlier one). */
#define MAX_QUERIES 64

static struct {
    const char *name;
    cn_query_handler handler;
    void *ctx;
} queries[MAX_QUERIES];
static size_t n_queries;

void cn_on_query(const char *name, cn_query_handler handler, void *ctx) {
    /* Names are copied out of the arena: a registration lives as long as
     * the guest, like the handler's context. */
    for (size_t i = 0; i < n_queries; i++) {
        if (strcmp(queries[i].name, name) == 0) {
            queries[i].handler = handler;
            queries[i].ctx = ctx;
            return;
        }
    }
    if (n_queries == MAX_QUERIES) {
        cn_log(CN_ERROR, "cn_on_query: more than %d query handlers; `%s` is not registered", MAX_QUERIES, name);
        return;
    }
    queries[n_queries].name = strdup(name);
    queries[n_queries].handler = handler;
    queries[n_queries].ctx = ctx;
    n_queries++;
}

static workflow_string_t wit_string(const char *s) { return (workflow_string_t){(uint8_t *)s, strlen(s)}; }

void cn_answer_pending_query(const uint32_t *handles, size_t n) {
    if (n_queries == 0) return;
    workflow_list_handle_t list = {(continuum_workflow_types_handle_t *)handles, n};
    continuum_workflow_queries_query_call_t call;
    if (!continuum_workflow_queries_pending_query(&list, &call)) return;
    const char *name = cn_copy_wit_string(&call.name);
    const char *why = NULL;
    cn_json *args = call.args.len ? cn_parse((const char *)call.args.ptr, call.args.len, &why) : cn_null();
    continuum_workflow_queries_query_answer_t answer;
    size_t found = n_queries;
    for (size_t i = 0; i < n_queries; i++) {
        if (strcmp(queries[i].name, name) == 0) found = i;
    }
    if (found == n_queries) {
        workflow_string_t *names = cn_alloc(n_queries * sizeof(workflow_string_t));
        for (size_t i = 0; i < n_queries; i++) names[i] = wit_string(queries[i].name);
        answer.tag = CONTINUUM_WORKFLOW_QUERIES_QUERY_ANSWER_UNKNOWN_QUERY;
        answer.val.unknown_query = (workflow_list_string_t){names, n_queries};
    } else if (!args) {
        answer.tag = CONTINUUM_WORKFLOW_QUERIES_QUERY_ANSWER_ERR;
        cn_buf b = {0};
        cn_buf_puts(&b, "cannot decode the arguments of query `");
        cn_buf_puts(&b, name);
        cn_buf_puts(&b, "`: ");
        cn_buf_puts(&b, why ? why : "not JSON");
        answer.val.err_ = wit_string(b.data);
    } else {
        const char *error = NULL;
        cn_json *out = queries[found].handler(args, queries[found].ctx, &error);
        if (!out) {
            answer.tag = CONTINUUM_WORKFLOW_QUERIES_QUERY_ANSWER_ERR;
            answer.val.err_ = wit_string(error ? error : "the query handler returned no answer");
        } else {
            size_t len;
            const char *json = cn_to_json_len(out, &len);
            answer.tag = CONTINUUM_WORKFLOW_QUERIES_QUERY_ANSWER_OK;
            answer.val.ok = (continuum_workflow_queries_payload_t){(uint8_t *)json, len};
        }
    }
    continuum_workflow_queries_query_call_free(&call);
    /* The host stops the guest: this does not return. */
    continuum_workflow_queries_answer_query(&answer);
}

bool cn_update_receive(const char *name, cn_update *out, cn_failure *failure) {
    cn_op *op = cn_receive_signal(name);
    cn_json *value = NULL;
    if (!cn_wait(op, &value, failure)) return false;
    workflow_string_t id;
    out->value = value;
    out->id = NULL;
    if (continuum_workflow_updates_update_id_of(cn_op_handle(op), &id)) {
        out->id = cn_copy_wit_string(&id);
        workflow_string_free(&id);
    }
    return true;
}

static const char *reply(const cn_update *u, continuum_workflow_updates_result_payload_string_t *r) {
    workflow_string_t id = wit_string(u->id);
    workflow_string_t err;
    if (continuum_workflow_updates_reply_update(&id, r, &err)) return NULL;
    const char *message = cn_copy_wit_string(&err);
    workflow_string_free(&err);
    return message;
}

const char *cn_update_reply(const cn_update *u, const cn_json *value) {
    if (!u->id) return NULL;
    size_t len;
    const char *json = cn_to_json_len(value ? value : cn_null(), &len);
    continuum_workflow_updates_result_payload_string_t r = {.is_err = false};
    r.val.ok = (continuum_workflow_updates_payload_t){(uint8_t *)json, len};
    return reply(u, &r);
}

const char *cn_update_reject(const cn_update *u, const char *message) {
    if (!u->id) return NULL;
    continuum_workflow_updates_result_payload_string_t r = {.is_err = true};
    r.val.err = wit_string(message ? message : "");
    return reply(u, &r);
}
