/* The representation of a JSON value; shared by json.c, json_write.c and
 * json_check.c, not part of the public API. */
#ifndef CONTINUUM_JSON_VALUE_H
#define CONTINUUM_JSON_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "continuum.h"

/** How a number is held, as serde_json holds it. */
enum cn_num { CN_NUM_UINT, CN_NUM_INT, CN_NUM_FLOAT };

/** The text a value was parsed from (for error positions). */
typedef struct cn_doc {
    const char *text;
    size_t len;
} cn_doc;

typedef struct cn_member {
    const char *key;
    size_t key_len;
    cn_json *value;
} cn_member;

struct cn_json {
    cn_type type;
    enum cn_num num;
    union {
        bool b;
        uint64_t uint;
        int64_t sint;
        double f;
        struct {
            const char *s;
            size_t len;
        } str;
        struct {
            cn_json **items;
            size_t len, cap;
        } arr;
        struct {
            cn_member *members;
            size_t len, cap;
        } obj;
    } u;
    /** Parsed values: the text, and the offset just past the value. */
    const cn_doc *doc;
    size_t end;
};

/** "line L column C" of byte `at` of `doc`, as serde_json counts. */
const char *cn_position(const cn_doc *doc, size_t at);

#endif
