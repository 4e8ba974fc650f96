/*
 * The run's arena: every value the SDK hands out is allocated here and
 * freed at once when the run returns (cn_arena_reset), so workflows never
 * free() anything. Chunks of 64 KiB; a larger request gets its own chunk.
 * Out of memory is a trap (abort): the host fails the run, naming the
 * memory limit.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "continuum.h"
#include "internal.h"

#define CHUNK (64 * 1024)

typedef struct chunk {
    struct chunk *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
} chunk;

static chunk *head;

void *cn_alloc(size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (!head || head->size - head->used < n) {
        size_t size = n > CHUNK ? n : CHUNK;
        chunk *c = malloc(sizeof(chunk) + size);
        if (!c) abort();
        c->used = 0;
        c->size = size;
        if (head && n > CHUNK) {
            /* Keep filling the current chunk: the big one goes behind it. */
            c->next = head->next;
            head->next = c;
            c->used = n;
            memset(c->data, 0, n);
            return c->data;
        }
        c->next = head;
        head = c;
    }
    void *p = head->data + head->used;
    head->used += n;
    memset(p, 0, n);
    return p;
}

void cn_arena_reset(void) {
    while (head) {
        chunk *next = head->next;
        free(head);
        head = next;
    }
}

char *cn_strdup_n(const char *s, size_t len) {
    char *p = cn_alloc(len + 1);
    if (len) memcpy(p, s, len);
    p[len] = 0;
    return p;
}

const char *cn_vsprintf(const char *fmt, va_list ap) {
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0) return "";
    char *p = cn_alloc((size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

const char *cn_sprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const char *s = cn_vsprintf(fmt, ap);
    va_end(ap);
    return s;
}

void cn_buf_grow(cn_buf *b, size_t more) {
    if (b->len + more + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap * 2 : 64;
    while (cap < b->len + more + 1) cap *= 2;
    char *p = cn_alloc(cap);
    if (b->len) memcpy(p, b->data, b->len);
    b->data = p;
    b->cap = cap;
}

void cn_buf_put(cn_buf *b, const char *s, size_t n) {
    cn_buf_grow(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

void cn_buf_putc(cn_buf *b, char c) {
    cn_buf_put(b, &c, 1);
}

void cn_buf_puts(cn_buf *b, const char *s) {
    cn_buf_put(b, s, strlen(s));
}
