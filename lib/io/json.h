/* A strict JSON parser for the subset safetensors headers use: objects,
 * arrays, strings and non-negative integers up to 2^53. true, false, null,
 * signs, fractions and exponents are errors. Strings are decoded to UTF-8
 * and NUL-terminated; \u0000 is refused, so C string functions see all of
 * them. Members of an object come back sorted by key, not in document order.
 * Messages give the detail ("byte 7: unexpected 'x'"), for the caller to
 * put behind what it was parsing. */
#ifndef GM_IO_JSON_H
#define GM_IO_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "genmodel/common.h"

#define GM_JSON_MAX_INT ((uint64_t)1 << 53)   /* the largest integer accepted */

#define GM_JSON_DEFAULT_DEPTH 4
#define GM_JSON_DEPTH_CAP 64      /* the parser recurses once per level */
#define GM_JSON_DEFAULT_NODES (1u << 20)
#define GM_JSON_DEFAULT_STRING (1u << 20)

typedef enum gm_json_kind {
    GM_JSON_NONE = 0,   /* what the accessors report for NULL */
    GM_JSON_OBJECT,
    GM_JSON_ARRAY,
    GM_JSON_STRING,
    GM_JSON_INT
} gm_json_kind;

typedef struct gm_json_limits {
    int max_depth;          /* nested objects and arrays; the root one is depth 1 */
    uint32_t max_nodes;     /* values of any kind (keys are not values) */
    uint32_t max_string;    /* decoded bytes in one string or key */
} gm_json_limits;

typedef struct gm_json_doc gm_json_doc;
typedef struct gm_json_node gm_json_node;

/* Parse exactly text[0, len): one value, whitespace around it, nothing else.
 * limits NULL means the defaults above. On success *out owns everything the
 * nodes point to (it does not keep text); free it with gm_json_free. On
 * failure *out is NULL and the status is GM_ERR_FORMAT (the message gives
 * the byte offset), GM_ERR_NO_MEMORY or GM_ERR_INVALID_ARG. Memory: len + 1
 * bytes for the strings and a few dozen bytes per value. */
gm_status gm_json_parse(const char *text, size_t len, const gm_json_limits *limits, gm_json_doc **out);
void gm_json_free(gm_json_doc *doc);   /* NULL is a no-op */

/* Accessors. Nodes live as long as their document. Each accepts NULL and a
 * node of the wrong kind, answering NULL, 0 or GM_JSON_NONE, so lookups chain:
 * gm_json_uint(gm_json_at(gm_json_get(obj, "shape"), 0), &dim). */
const gm_json_node *gm_json_root(const gm_json_doc *doc);
gm_json_kind gm_json_kind_of(const gm_json_node *n);
/* Members of an object or elements of an array; 0 for the other kinds. */
size_t gm_json_count(const gm_json_node *n);
/* The i-th element, or the value of the i-th member in key order. */
const gm_json_node *gm_json_at(const gm_json_node *n, size_t i);
/* The key of the i-th member of an object; *len (if not NULL) its bytes. */
const char *gm_json_key_at(const gm_json_node *obj, size_t i, size_t *len);
/* Binary search of an object's keys. */
const gm_json_node *gm_json_get(const gm_json_node *obj, const char *key);
/* A string's bytes, NUL-terminated; *len (if not NULL) excludes the NUL. */
const char *gm_json_string(const gm_json_node *n, size_t *len);
/* 1 and *value set for an integer, 0 for anything else. */
int gm_json_uint(const gm_json_node *n, uint64_t *value);

/* 1 when s[0, n) is well-formed UTF-8 (no overlongs, no surrogates, at most
 * U+10FFFF): what the parser requires inside strings. */
int gm_json_utf8_valid(const char *s, size_t n);

#endif
