/*
 * JSON values, the parser and the readers.
 *
 * The parser is strict (RFC 8259, UTF-8 checked, nesting at most 127 deep
 * like serde_json's default recursion limit) and never traps: bad input
 * gives NULL and a message worded as serde_json words it, with its line
 * and column. Numbers keep serde_json's representation: an integer that
 * fits stays an integer (unsigned, or signed when negative), anything else
 * is a double. Parsed values remember where they end in their text, so
 * cn_check can say where a field is wrong.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "continuum.h"
#include "internal.h"
#include "json_value.h"

/* ---------------- makers ---------------- */

static cn_json *make(cn_type type) {
    cn_json *v = cn_alloc(sizeof(cn_json));
    v->type = type;
    return v;
}

cn_json *cn_null(void) { return make(CN_NULL); }

cn_json *cn_bool(bool b) {
    cn_json *v = make(CN_BOOL);
    v->u.b = b;
    return v;
}

cn_json *cn_u64(uint64_t n) {
    cn_json *v = make(CN_NUMBER);
    v->num = CN_NUM_UINT;
    v->u.uint = n;
    return v;
}

cn_json *cn_i64(int64_t n) {
    if (n >= 0) return cn_u64((uint64_t)n);
    cn_json *v = make(CN_NUMBER);
    v->num = CN_NUM_INT;
    v->u.sint = n;
    return v;
}

cn_json *cn_f64(double x) {
    if (!isfinite(x)) return cn_null();
    cn_json *v = make(CN_NUMBER);
    v->num = CN_NUM_FLOAT;
    v->u.f = x;
    return v;
}

cn_json *cn_strn(const char *s, size_t len) {
    cn_json *v = make(CN_STRING);
    v->u.str.s = cn_strdup_n(s ? s : "", s ? len : 0);
    v->u.str.len = s ? len : 0;
    return v;
}

cn_json *cn_str(const char *s) { return cn_strn(s, s ? strlen(s) : 0); }

cn_json *cn_strf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const char *s = cn_vsprintf(fmt, ap);
    va_end(ap);
    return cn_str(s);
}

cn_json *cn_array(void) { return make(CN_ARRAY); }

cn_json *cn_push(cn_json *array, cn_json *item) {
    if (!array || array->type != CN_ARRAY) return array;
    if (array->u.arr.len == array->u.arr.cap) {
        size_t cap = array->u.arr.cap ? array->u.arr.cap * 2 : 4;
        cn_json **items = cn_alloc(cap * sizeof(cn_json *));
        if (array->u.arr.len) memcpy(items, array->u.arr.items, array->u.arr.len * sizeof(cn_json *));
        array->u.arr.items = items;
        array->u.arr.cap = cap;
    }
    array->u.arr.items[array->u.arr.len++] = item ? item : cn_null();
    return array;
}

/* Appends a member without looking for an earlier one (the parser keeps
 * repeated keys; cn_get finds the last). */
static void add_member(cn_json *object, const char *key, size_t key_len, cn_json *value) {
    if (object->u.obj.len == object->u.obj.cap) {
        size_t cap = object->u.obj.cap ? object->u.obj.cap * 2 : 4;
        cn_member *members = cn_alloc(cap * sizeof(cn_member));
        if (object->u.obj.len) memcpy(members, object->u.obj.members, object->u.obj.len * sizeof(cn_member));
        object->u.obj.members = members;
        object->u.obj.cap = cap;
    }
    cn_member *m = &object->u.obj.members[object->u.obj.len++];
    m->key = key;
    m->key_len = key_len;
    m->value = value ? value : cn_null();
}

cn_json *cn_set(cn_json *object, const char *key, cn_json *value) {
    if (!object || object->type != CN_OBJECT || !key) return object;
    size_t key_len = strlen(key);
    for (size_t i = 0; i < object->u.obj.len; i++) {
        cn_member *m = &object->u.obj.members[i];
        if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0) {
            m->value = value ? value : cn_null();
            return object;
        }
    }
    add_member(object, cn_strdup_n(key, key_len), key_len, value);
    return object;
}

cn_json *cn_object(const char *key, ...) {
    cn_json *object = make(CN_OBJECT);
    va_list ap;
    va_start(ap, key);
    while (key) {
        cn_json *value = va_arg(ap, cn_json *);
        cn_set(object, key, value);
        key = va_arg(ap, const char *);
    }
    va_end(ap);
    return object;
}

/* ---------------- readers ---------------- */

cn_type cn_typeof(const cn_json *v) { return v ? v->type : CN_NULL; }

bool cn_is_null(const cn_json *v) { return !v || v->type == CN_NULL; }

const cn_json *cn_get(const cn_json *object, const char *key) {
    if (!object || object->type != CN_OBJECT || !key) return NULL;
    size_t key_len = strlen(key);
    for (size_t i = object->u.obj.len; i-- > 0;) {
        const cn_member *m = &object->u.obj.members[i];
        if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0) return m->value;
    }
    return NULL;
}

const char *cn_as_str(const cn_json *v) { return v && v->type == CN_STRING ? v->u.str.s : NULL; }

size_t cn_len(const cn_json *v) {
    if (!v) return 0;
    switch (v->type) {
    case CN_STRING: return v->u.str.len;
    case CN_ARRAY: return v->u.arr.len;
    case CN_OBJECT: return v->u.obj.len;
    default: return 0;
    }
}

const cn_json *cn_at(const cn_json *array, size_t i) {
    return array && array->type == CN_ARRAY && i < array->u.arr.len ? array->u.arr.items[i] : NULL;
}

const char *cn_key_at(const cn_json *object, size_t i) {
    return object && object->type == CN_OBJECT && i < object->u.obj.len ? object->u.obj.members[i].key : NULL;
}

const cn_json *cn_value_at(const cn_json *object, size_t i) {
    return object && object->type == CN_OBJECT && i < object->u.obj.len ? object->u.obj.members[i].value : NULL;
}

bool cn_as_bool(const cn_json *v, bool *out) {
    if (!v || v->type != CN_BOOL) return false;
    if (out) *out = v->u.b;
    return true;
}

bool cn_as_u64(const cn_json *v, uint64_t *out) {
    if (!v || v->type != CN_NUMBER || v->num != CN_NUM_UINT) return false;
    if (out) *out = v->u.uint;
    return true;
}

bool cn_as_i64(const cn_json *v, int64_t *out) {
    if (!v || v->type != CN_NUMBER) return false;
    if (v->num == CN_NUM_INT) {
        if (out) *out = v->u.sint;
        return true;
    }
    if (v->num == CN_NUM_UINT && v->u.uint <= (uint64_t)INT64_MAX) {
        if (out) *out = (int64_t)v->u.uint;
        return true;
    }
    return false;
}

bool cn_as_f64(const cn_json *v, double *out) {
    if (!v || v->type != CN_NUMBER) return false;
    double x = v->num == CN_NUM_UINT ? (double)v->u.uint : v->num == CN_NUM_INT ? (double)v->u.sint : v->u.f;
    if (out) *out = x;
    return true;
}

/* ---------------- parser ---------------- */

/* serde_json's default recursion limit: the 128th nested container fails. */
#define MAX_DEPTH 128

typedef struct parser {
    const unsigned char *s;
    size_t len, i;
    int depth;
    const char *error;
    cn_doc *doc;
} parser;

/* serde_json's position of byte `at`: its line, and its column counted
 * in bytes from 1 (the column of the last byte when at the end). */
const char *cn_position(const cn_doc *doc, size_t at) {
    size_t line = 1, line_start = 0;
    if (at > doc->len) at = doc->len;
    for (size_t i = 0; i < at && i < doc->len; i++) {
        if (doc->text[i] == '\n') {
            line++;
            line_start = i + 1;
        }
    }
    size_t column = at < doc->len ? at - line_start + 1 : at - line_start;
    return cn_sprintf("line %zu column %zu", line, column);
}

static cn_json *fail_at(parser *p, const char *message, size_t at) {
    if (!p->error) p->error = cn_sprintf("%s at %s", message, cn_position(p->doc, at));
    return NULL;
}

static cn_json *fail(parser *p, const char *message) { return fail_at(p, message, p->i); }

static void skip_ws(parser *p) {
    while (p->i < p->len) {
        unsigned char c = p->s[p->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->i++;
    }
}

static int hex(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Four hex digits after `\u`; -1 after setting the error. */
static long hex4(parser *p) {
    long n = 0;
    for (int k = 0; k < 4; k++) {
        if (p->i >= p->len) {
            fail(p, "EOF while parsing a string");
            return -1;
        }
        int h = hex(p->s[p->i]);
        if (h < 0) {
            fail(p, "invalid escape");
            return -1;
        }
        n = n * 16 + h;
        p->i++;
    }
    return n;
}

static void put_utf8(cn_buf *b, unsigned long cp) {
    char out[4];
    size_t n;
    if (cp < 0x80) {
        out[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        out[0] = (char)(0xF0 | (cp >> 18));
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    cn_buf_put(b, out, n);
}

/* The length of the valid UTF-8 sequence at s[0..avail), or 0. */
static size_t utf8_len(const unsigned char *s, size_t avail) {
    unsigned char c = s[0];
    size_t n;
    unsigned long cp;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; }
    else return 0;
    if (avail < n) return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

/* A string, the opening quote already consumed. */
static bool parse_string(parser *p, const char **out, size_t *out_len) {
    cn_buf b = {0};
    cn_buf_grow(&b, 0);
    for (;;) {
        if (p->i >= p->len) {
            fail(p, "EOF while parsing a string");
            return false;
        }
        unsigned char c = p->s[p->i];
        if (c == '"') {
            p->i++;
            *out = b.data;
            *out_len = b.len;
            return true;
        }
        if (c < 0x20) {
            fail(p, "control character (\\u0000-\\u001F) found while parsing a string");
            return false;
        }
        if (c != '\\') {
            size_t n = utf8_len(p->s + p->i, p->len - p->i);
            if (n == 0) {
                fail(p, "invalid unicode code point");
                return false;
            }
            cn_buf_put(&b, (const char *)p->s + p->i, n);
            p->i += n;
            continue;
        }
        p->i++;
        if (p->i >= p->len) {
            fail(p, "EOF while parsing a string");
            return false;
        }
        c = p->s[p->i++];
        switch (c) {
        case '"': cn_buf_putc(&b, '"'); break;
        case '\\': cn_buf_putc(&b, '\\'); break;
        case '/': cn_buf_putc(&b, '/'); break;
        case 'b': cn_buf_putc(&b, '\b'); break;
        case 'f': cn_buf_putc(&b, '\f'); break;
        case 'n': cn_buf_putc(&b, '\n'); break;
        case 'r': cn_buf_putc(&b, '\r'); break;
        case 't': cn_buf_putc(&b, '\t'); break;
        case 'u': {
            long cp = hex4(p);
            if (cp < 0) return false;
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                fail(p, "lone leading surrogate in hex escape");
                return false;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (p->i + 1 >= p->len || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u') {
                    fail(p, p->i >= p->len ? "EOF while parsing a string" : "unexpected end of hex escape");
                    return false;
                }
                p->i += 2;
                long lo = hex4(p);
                if (lo < 0) return false;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    fail(p, "lone leading surrogate in hex escape");
                    return false;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            put_utf8(&b, (unsigned long)cp);
            break;
        }
        default:
            fail_at(p, "invalid escape", p->i - 1);
            return false;
        }
    }
}

static bool is_digit(parser *p) { return p->i < p->len && p->s[p->i] >= '0' && p->s[p->i] <= '9'; }

static cn_json *parse_number(parser *p) {
    size_t start = p->i;
    bool negative = false;
    if (p->s[p->i] == '-') {
        negative = true;
        p->i++;
    }
    if (p->i >= p->len) return fail(p, "EOF while parsing a value");
    if (!is_digit(p)) return fail(p, "invalid number");
    uint64_t mag = 0;
    bool overflow = false;
    if (p->s[p->i] == '0') {
        p->i++;
        if (is_digit(p)) return fail(p, "invalid number");
    } else {
        while (is_digit(p)) {
            unsigned d = p->s[p->i] - '0';
            if (mag > (UINT64_MAX - d) / 10) overflow = true;
            else mag = mag * 10 + d;
            p->i++;
        }
    }
    bool is_float = overflow;
    if (p->i < p->len && p->s[p->i] == '.') {
        p->i++;
        if (p->i >= p->len) return fail(p, "EOF while parsing a value");
        if (!is_digit(p)) return fail(p, "invalid number");
        while (is_digit(p)) p->i++;
        is_float = true;
    }
    if (p->i < p->len && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        p->i++;
        if (p->i < p->len && (p->s[p->i] == '+' || p->s[p->i] == '-')) p->i++;
        if (p->i >= p->len) return fail(p, "EOF while parsing a value");
        if (!is_digit(p)) return fail(p, "invalid number");
        while (is_digit(p)) p->i++;
        is_float = true;
    }
    cn_json *v = make(CN_NUMBER);
    if (!is_float && !negative) {
        v->num = CN_NUM_UINT;
        v->u.uint = mag;
    } else if (!is_float && mag != 0 && mag <= (uint64_t)INT64_MAX + 1) {
        v->num = CN_NUM_INT;
        v->u.sint = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    } else {
        char *text = cn_strdup_n((const char *)p->s + start, p->i - start);
        double x = strtod(text, NULL);
        if (!isfinite(x)) return fail_at(p, "number out of range", start);
        v->num = CN_NUM_FLOAT;
        v->u.f = x;
    }
    return v;
}

static cn_json *parse_value(parser *p);

static bool literal(parser *p, const char *word) {
    size_t n = strlen(word);
    for (size_t k = 0; k < n; k++) {
        if (p->i + k >= p->len) {
            p->i += k;
            fail(p, "EOF while parsing a value");
            return false;
        }
        if (p->s[p->i + k] != (unsigned char)word[k]) {
            fail_at(p, "expected ident", p->i + k);
            return false;
        }
    }
    p->i += n;
    return true;
}

static cn_json *parse_array(parser *p) {
    cn_json *array = cn_array();
    p->i++;
    skip_ws(p);
    if (p->i < p->len && p->s[p->i] == ']') {
        p->i++;
        return array;
    }
    for (;;) {
        cn_json *item = parse_value(p);
        if (!item) return NULL;
        cn_push(array, item);
        skip_ws(p);
        if (p->i >= p->len) return fail(p, "EOF while parsing a list");
        unsigned char c = p->s[p->i];
        if (c == ']') {
            p->i++;
            return array;
        }
        if (c != ',') return fail(p, "expected `,` or `]`");
        p->i++;
        skip_ws(p);
        if (p->i < p->len && p->s[p->i] == ']') return fail(p, "trailing comma");
    }
}

static cn_json *parse_object(parser *p) {
    cn_json *object = make(CN_OBJECT);
    p->i++;
    skip_ws(p);
    if (p->i < p->len && p->s[p->i] == '}') {
        p->i++;
        return object;
    }
    for (;;) {
        if (p->i >= p->len) return fail(p, "EOF while parsing an object");
        if (p->s[p->i] != '"') return fail(p, p->s[p->i] == '}' ? "trailing comma" : "key must be a string");
        p->i++;
        const char *key;
        size_t key_len;
        if (!parse_string(p, &key, &key_len)) return NULL;
        skip_ws(p);
        if (p->i >= p->len) return fail(p, "EOF while parsing an object");
        if (p->s[p->i] != ':') return fail(p, "expected `:`");
        p->i++;
        cn_json *value = parse_value(p);
        if (!value) return NULL;
        add_member(object, key, key_len, value);
        skip_ws(p);
        if (p->i >= p->len) return fail(p, "EOF while parsing an object");
        unsigned char c = p->s[p->i];
        if (c == '}') {
            p->i++;
            return object;
        }
        if (c != ',') return fail(p, "expected `,` or `}`");
        p->i++;
        skip_ws(p);
    }
}

static cn_json *parse_value(parser *p) {
    skip_ws(p);
    if (p->i >= p->len) return fail(p, "EOF while parsing a value");
    cn_json *v = NULL;
    unsigned char c = p->s[p->i];
    switch (c) {
    case '{':
    case '[':
        if (++p->depth >= MAX_DEPTH) return fail(p, "recursion limit exceeded");
        v = c == '{' ? parse_object(p) : parse_array(p);
        p->depth--;
        break;
    case '"': {
        p->i++;
        const char *s;
        size_t n;
        if (!parse_string(p, &s, &n)) return NULL;
        v = make(CN_STRING);
        v->u.str.s = s;
        v->u.str.len = n;
        break;
    }
    case 't':
    case 'f':
        if (!literal(p, c == 't' ? "true" : "false")) return NULL;
        v = cn_bool(c == 't');
        break;
    case 'n':
        if (!literal(p, "null")) return NULL;
        v = cn_null();
        break;
    default:
        if (c == '-' || (c >= '0' && c <= '9')) v = parse_number(p);
        else return fail(p, "expected value");
    }
    if (v) {
        v->doc = p->doc;
        v->end = p->i;
    }
    return v;
}

cn_json *cn_parse(const char *text, size_t len, const char **error) {
    cn_doc *doc = cn_alloc(sizeof(cn_doc));
    doc->text = text ? text : "";
    doc->len = text ? len : 0;
    parser p = {.s = (const unsigned char *)doc->text, .len = doc->len, .doc = doc};
    cn_json *v = parse_value(&p);
    if (v) {
        skip_ws(&p);
        if (p.i < p.len) v = fail(&p, "trailing characters");
    }
    if (error) *error = v ? NULL : p.error;
    return v;
}
