/* Shared by the SDK's files; not part of the public API. */
#ifndef CONTINUUM_INTERNAL_H
#define CONTINUUM_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/** A growable string in the run's arena (always NUL-terminated once used). */
typedef struct cn_buf {
    char *data;
    size_t len, cap;
} cn_buf;

void cn_buf_grow(cn_buf *b, size_t more);
void cn_buf_put(cn_buf *b, const char *s, size_t n);
void cn_buf_putc(cn_buf *b, char c);
void cn_buf_puts(cn_buf *b, const char *s);

/** A copy of `len` bytes of `s`, NUL-terminated, in the arena. */
char *cn_strdup_n(const char *s, size_t len);
/** vsprintf into the arena. */
const char *cn_vsprintf(const char *fmt, va_list ap);
/** Frees everything allocated with cn_alloc (at the end of a run). */
void cn_arena_reset(void);

/** A double as serde_json (ryu) prints it: `1.0`, `0.1`, `1e300`. */
void cn_buf_f64(cn_buf *b, double x);
/** A string as a JSON string literal. */
void cn_buf_json_string(cn_buf *b, const char *s, size_t len);

/** A pending operation of the host's handle `handle` (workflow.c; for
 * child.c, which adds the operations of the `children` interface). */
struct cn_op *cn_op_pending(uint32_t handle);
/** The host's handle of `op`. */
uint32_t cn_op_handle(const struct cn_op *op);
/** Answers the pending query, if the host has one now (query.c): before a
 * wait on `handles` may block, and after the workflow returned (none). */
void cn_answer_pending_query(const uint32_t *handles, size_t n);
/** A copy of `len` bytes of a bindings string, in the arena. */
#define cn_copy_wit_string(s) cn_strdup_n((const char *)(s)->ptr, (s)->len)

#endif
