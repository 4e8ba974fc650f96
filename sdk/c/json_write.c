/*
 * JSON text out of values, byte for byte as serde_json writes a
 * `serde_json::Value` (what the Rust SDK sends): compact, object keys in
 * byte order (the last of repeated keys wins), strings escaped the same
 * way, floats in their shortest round-trip form formatted like ryu
 * (`1.0`, `0.1`, `1e300`, `1.5e-7`).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "continuum.h"
#include "internal.h"
#include "json_float.h"
#include "json_value.h"

int cn_shortest_digits(double x, char digits[18], int *exp10) {
    char text[40];
    x = fabs(x);
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(text, sizeof text, "%.*e", precision - 1, x);
        if (strtod(text, NULL) == x) break;
    }
    /* text: d[.ddd]e[+-]XX */
    int n = 0;
    const char *c = text;
    for (; *c && *c != 'e'; c++) {
        if (*c >= '0' && *c <= '9') digits[n++] = *c;
    }
    *exp10 = *c == 'e' ? atoi(c + 1) : 0;
    while (n > 1 && digits[n - 1] == '0') n--;
    digits[n] = 0;
    return n;
}

void cn_buf_f64(cn_buf *b, double x) {
    if (!isfinite(x)) {
        cn_buf_puts(b, "null");
        return;
    }
    if (signbit(x)) cn_buf_putc(b, '-');
    if (x == 0) {
        cn_buf_puts(b, "0.0");
        return;
    }
    char digits[18];
    int e;
    int length = cn_shortest_digits(x, digits, &e);
    int kk = e + 1;         /* where the decimal point goes */
    int k = kk - length;    /* value = digits * 10^k */
    char out[64];
    if (k >= 0 && kk <= 16) {
        snprintf(out, sizeof out, "%s%.*s.0", digits, k, "0000000000000000");
    } else if (kk > 0 && kk <= 16) {
        snprintf(out, sizeof out, "%.*s.%s", kk, digits, digits + kk);
    } else if (kk > -5 && kk <= 0) {
        snprintf(out, sizeof out, "0.%.*s%s", -kk, "00000", digits);
    } else if (length == 1) {
        snprintf(out, sizeof out, "%se%d", digits, kk - 1);
    } else {
        snprintf(out, sizeof out, "%c.%se%d", digits[0], digits + 1, kk - 1);
    }
    cn_buf_puts(b, out);
}

void cn_buf_json_string(cn_buf *b, const char *s, size_t len) {
    static const char hexdigits[] = "0123456789abcdef";
    cn_buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *escape = NULL;
        char u[7];
        switch (c) {
        case '"': escape = "\\\""; break;
        case '\\': escape = "\\\\"; break;
        case '\b': escape = "\\b"; break;
        case '\f': escape = "\\f"; break;
        case '\n': escape = "\\n"; break;
        case '\r': escape = "\\r"; break;
        case '\t': escape = "\\t"; break;
        default:
            if (c < 0x20) {
                memcpy(u, "\\u00", 4);
                u[4] = hexdigits[c >> 4];
                u[5] = hexdigits[c & 15];
                u[6] = 0;
                escape = u;
            }
        }
        if (escape) {
            cn_buf_put(b, s + i - run, run);
            run = 0;
            cn_buf_puts(b, escape);
        } else {
            run++;
        }
    }
    cn_buf_put(b, s + len - run, run);
    cn_buf_putc(b, '"');
}

static int compare_members(const void *a, const void *b) {
    const cn_member *x = *(const cn_member *const *)a, *y = *(const cn_member *const *)b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c) return c;
    if (x->key_len != y->key_len) return x->key_len < y->key_len ? -1 : 1;
    /* Equal keys: keep their order, so the last one is found last. */
    return x < y ? -1 : x > y;
}

static void write_value(cn_buf *b, const cn_json *v) {
    char number[32];
    switch (cn_typeof(v)) {
    case CN_NULL: cn_buf_puts(b, "null"); return;
    case CN_BOOL: cn_buf_puts(b, v->u.b ? "true" : "false"); return;
    case CN_NUMBER:
        if (v->num == CN_NUM_FLOAT) {
            cn_buf_f64(b, v->u.f);
        } else {
            if (v->num == CN_NUM_UINT) snprintf(number, sizeof number, "%llu", (unsigned long long)v->u.uint);
            else snprintf(number, sizeof number, "%lld", (long long)v->u.sint);
            cn_buf_puts(b, number);
        }
        return;
    case CN_STRING: cn_buf_json_string(b, v->u.str.s, v->u.str.len); return;
    case CN_ARRAY:
        cn_buf_putc(b, '[');
        for (size_t i = 0; i < v->u.arr.len; i++) {
            if (i) cn_buf_putc(b, ',');
            write_value(b, v->u.arr.items[i]);
        }
        cn_buf_putc(b, ']');
        return;
    case CN_OBJECT: {
        size_t n = v->u.obj.len;
        const cn_member **sorted = cn_alloc((n ? n : 1) * sizeof(cn_member *));
        for (size_t i = 0; i < n; i++) sorted[i] = &v->u.obj.members[i];
        qsort(sorted, n, sizeof(cn_member *), compare_members);
        cn_buf_putc(b, '{');
        bool first = true;
        for (size_t i = 0; i < n; i++) {
            const cn_member *m = sorted[i];
            const cn_member *next = i + 1 < n ? sorted[i + 1] : NULL;
            if (next && next->key_len == m->key_len && memcmp(next->key, m->key, m->key_len) == 0) continue;
            if (!first) cn_buf_putc(b, ',');
            first = false;
            cn_buf_json_string(b, m->key, m->key_len);
            cn_buf_putc(b, ':');
            write_value(b, m->value);
        }
        cn_buf_putc(b, '}');
        return;
    }
    }
}

const char *cn_to_json_len(const cn_json *v, size_t *len) {
    cn_buf b = {0};
    cn_buf_grow(&b, 0);
    write_value(&b, v);
    if (len) *len = b.len;
    return b.data;
}

const char *cn_to_json(const cn_json *v) { return cn_to_json_len(v, NULL); }
