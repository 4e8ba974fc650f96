/*
 * cn_check: is a JSON value an object with these fields? Answers as
 * serde's derive(Deserialize) of a struct does through serde_json, with
 * its messages, so a C workflow rejects a bad input with the words a Rust
 * one uses: members are looked at in the text's order (the first bad value
 * or repeated field is reported where it ends), then the first missing
 * field (declaration order) is reported at the end of the object. Unknown
 * fields are ignored; an optional field may be missing or null.
 */
#include <stdio.h>
#include <string.h>

#include "continuum.h"
#include "internal.h"
#include "json_float.h"
#include "json_value.h"

/* A double as Rust's Display prints it (no exponent), with serde's
 * `.0` for an integral value: `2.5`, `100000000000000000000.0`. */
static const char *display_float(double x) {
    cn_buf b = {0};
    cn_buf_grow(&b, 0);
    if (x < 0) cn_buf_putc(&b, '-');
    if (x == 0) {
        cn_buf_puts(&b, "0.0");
        return b.data;
    }
    char digits[18];
    int e;
    int n = cn_shortest_digits(x, digits, &e);
    int point = e + 1; /* digits before the decimal point */
    if (point <= 0) {
        cn_buf_puts(&b, "0.");
        for (int k = 0; k < -point; k++) cn_buf_putc(&b, '0');
        cn_buf_puts(&b, digits);
    } else if (point >= n) {
        cn_buf_puts(&b, digits);
        for (int k = n; k < point; k++) cn_buf_putc(&b, '0');
        cn_buf_puts(&b, ".0");
    } else {
        cn_buf_put(&b, digits, (size_t)point);
        cn_buf_putc(&b, '.');
        cn_buf_puts(&b, digits + point);
    }
    return b.data;
}

/* A string as Rust's Debug prints it: quoted, with \" \\ \n \r \t \0
 * escaped (other control characters as \u{..}). */
static const char *debug_string(const cn_json *v) {
    cn_buf b = {0};
    cn_buf_putc(&b, '"');
    for (size_t i = 0; i < v->u.str.len; i++) {
        unsigned char c = (unsigned char)v->u.str.s[i];
        char esc[12];
        switch (c) {
        case '"': cn_buf_puts(&b, "\\\""); break;
        case '\\': cn_buf_puts(&b, "\\\\"); break;
        case '\n': cn_buf_puts(&b, "\\n"); break;
        case '\r': cn_buf_puts(&b, "\\r"); break;
        case '\t': cn_buf_puts(&b, "\\t"); break;
        case 0: cn_buf_puts(&b, "\\0"); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                snprintf(esc, sizeof esc, "\\u{%x}", c);
                cn_buf_puts(&b, esc);
            } else {
                cn_buf_putc(&b, (char)c);
            }
        }
    }
    cn_buf_putc(&b, '"');
    return b.data;
}

/* serde's `Unexpected` for a value, as its Display prints it. */
static const char *unexpected(const cn_json *v) {
    switch (cn_typeof(v)) {
    case CN_NULL: return "null";
    case CN_BOOL: return v->u.b ? "boolean `true`" : "boolean `false`";
    case CN_NUMBER:
        if (v->num == CN_NUM_UINT) return cn_sprintf("integer `%llu`", (unsigned long long)v->u.uint);
        if (v->num == CN_NUM_INT) return cn_sprintf("integer `%lld`", (long long)v->u.sint);
        return cn_sprintf("floating point `%s`", display_float(v->u.f));
    case CN_STRING: return cn_sprintf("string %s", debug_string(v));
    case CN_ARRAY: return "sequence";
    case CN_OBJECT: return "map";
    }
    return "value";
}

static const char *expected(cn_field_type type) {
    switch (type) {
    case CN_FIELD_STRING: return "a string";
    case CN_FIELD_U32: return "u32";
    case CN_FIELD_U64: return "u64";
    case CN_FIELD_I64: return "i64";
    case CN_FIELD_F64: return "f64";
    case CN_FIELD_BOOL: return "a boolean";
    case CN_FIELD_ANY: return "any value";
    }
    return "a value";
}

static const char *at(const cn_json *v, const char *message) {
    return v->doc ? cn_sprintf("%s at %s", message, cn_position(v->doc, v->end ? v->end - 1 : 0)) : message;
}

/* Why `v` is not a `type`, or NULL. */
static const char *field_error(const cn_json *v, const cn_field *field) {
    if (field->optional && v->type == CN_NULL) return NULL;
    bool integer = v->type == CN_NUMBER && v->num != CN_NUM_FLOAT;
    bool ok;
    switch (field->type) {
    case CN_FIELD_STRING: ok = v->type == CN_STRING; break;
    case CN_FIELD_BOOL: ok = v->type == CN_BOOL; break;
    case CN_FIELD_F64: ok = v->type == CN_NUMBER; break;
    case CN_FIELD_ANY: ok = true; break;
    default:
        if (!integer) {
            ok = false;
            break;
        }
        /* An integer of the wrong range is an invalid value, not type. */
        bool fits = field->type == CN_FIELD_U32   ? v->num == CN_NUM_UINT && v->u.uint <= UINT32_MAX
                    : field->type == CN_FIELD_U64 ? v->num == CN_NUM_UINT
                                                  : v->num == CN_NUM_INT || v->u.uint <= (uint64_t)INT64_MAX;
        if (!fits) return cn_sprintf("invalid value: %s, expected %s", unexpected(v), expected(field->type));
        ok = true;
    }
    return ok ? NULL : cn_sprintf("invalid type: %s, expected %s", unexpected(v), expected(field->type));
}

const char *cn_check(const cn_json *v, const char *what, const cn_field *fields, size_t n) {
    if (!v) return cn_sprintf("invalid type: null, expected struct %s", what);
    if (v->type != CN_OBJECT) return at(v, cn_sprintf("invalid type: %s, expected struct %s", unexpected(v), what));
    bool *seen = cn_alloc(n ? n : 1);
    for (size_t i = 0; i < v->u.obj.len; i++) {
        const cn_member *m = &v->u.obj.members[i];
        for (size_t f = 0; f < n; f++) {
            if (strlen(fields[f].name) != m->key_len || memcmp(fields[f].name, m->key, m->key_len) != 0) continue;
            if (seen[f]) return at(m->value, cn_sprintf("duplicate field `%s`", fields[f].name));
            seen[f] = true;
            const char *why = field_error(m->value, &fields[f]);
            if (why) return at(m->value, why);
        }
    }
    for (size_t f = 0; f < n; f++) {
        if (!seen[f] && !fields[f].optional) return at(v, cn_sprintf("missing field `%s`", fields[f].name));
    }
    return NULL;
}
