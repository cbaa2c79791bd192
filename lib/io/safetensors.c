/* Reading and writing safetensors. Every number from a file is a uint64_t
 * and every product is checked before use; the only allocations are the
 * header's JSON and one table sized by the tensors it names. The writer
 * emits its header twice, once to measure it and once for real. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "safetensors.h"
#include "fileio.h"
#include "json.h"
#include "core/alloc.h"
#include "core/error.h"

/* Floats are copied as they lie in memory, and safetensors is little-endian. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host: add byte swapping to port it"
#endif
_Static_assert(sizeof(float) == 4, "F32 tensors are copied as 4-byte floats");

#define METADATA "__metadata__"
#define DEPTH 3   /* root object, tensor object, shape array: all a header needs */
/* The most values a header within the limits can hold: the root, the
 * metadata object and its strings, and per tensor its object, dtype, shape
 * array and dims, offsets array and two offsets. */
#define NODES (2 + GM_ST_MAX_META + GM_ST_MAX_TENSORS * (6 + GM_ST_MAX_RANK))

/* The safetensors dtype table, with sizes in bits (some are sub-byte). */
static const struct { const char *name; unsigned bits; } dtypes[] = {
    { "BOOL", 8 }, { "F4", 4 }, { "F6_E2M3", 6 }, { "F6_E3M2", 6 }, { "U8", 8 }, { "I8", 8 },
    { "F8_E5M2", 8 }, { "F8_E4M3", 8 }, { "F8_E8M0", 8 }, { "F8_E4M3FNUZ", 8 },
    { "F8_E5M2FNUZ", 8 }, { "I16", 16 }, { "U16", 16 }, { "F16", 16 }, { "BF16", 16 },
    { "I32", 32 }, { "U32", 32 }, { "F32", 32 }, { "C64", 64 }, { "F64", 64 }, { "I64", 64 },
    { "U64", 64 },
};

struct gm_st_file {
    gm_json_doc *doc;
    const gm_json_node *meta;   /* NULL when the header has no "__metadata__" */
    int has_crc;
    size_t count;
    gm_st_info tensors[];       /* in name order, as the JSON root's members */
};

static int mul_ok(uint64_t a, uint64_t b, uint64_t *r)
{
    if (b && a > UINT64_MAX / b)
        return 0;
    *r = a * b;
    return 1;
}

_Static_assert(GM_ST_MAX_DIM <= 999999999999999, "a dim prints in at most 15 digits");

const char *gm_st_shape_str(char buf[GM_ST_SHAPE_STR], const int64_t *shape, int rank)
{
    size_t k = 1;
    buf[0] = '[';
    for (int i = 0; i < rank; i++)
        k += (size_t)snprintf(buf + k, GM_ST_SHAPE_STR - k, "%s%" PRId64, i ? "," : "", shape[i]);
    snprintf(buf + k, GM_ST_SHAPE_STR - k, "]");
    return buf;
}

/* Fill t from the header's entry for the tensor name. */
static gm_status read_tensor(const char *name, size_t name_len, const gm_json_node *v, gm_st_info *t,
                             const char **dtype)
{
    static const char *const keys[] = { "dtype", "shape", "data_offsets" };
    char sbuf[GM_ST_SHAPE_STR];
    t->name = name;
    if (!name_len)
        return gm_fail(GM_ERR_FORMAT, "a tensor has an empty name");
    if (name_len > GM_ST_MAX_NAME)
        return gm_fail(GM_ERR_FORMAT, "tensor name '%.40s...' is %zu bytes, over the limit of %d",
                       name, name_len, GM_ST_MAX_NAME);
    if (gm_json_kind_of(v) != GM_JSON_OBJECT)
        return gm_fail(GM_ERR_FORMAT, "tensor '%s' is not an object", name);
    for (size_t i = 0; i < gm_json_count(v); i++) {
        const char *k = gm_json_key_at(v, i, NULL);
        if (strcmp(k, keys[0]) && strcmp(k, keys[1]) && strcmp(k, keys[2]))
            return gm_fail(GM_ERR_FORMAT, "tensor '%s' has an unknown key '%.64s'", name, k);
    }
    for (int i = 0; i < 3; i++)
        if (!gm_json_get(v, keys[i]))
            return gm_fail(GM_ERR_FORMAT, "tensor '%s' has no '%s'", name, keys[i]);

    const char *dt = gm_json_string(gm_json_get(v, "dtype"), NULL);
    unsigned bits = 0;
    for (size_t i = 0; dt && i < sizeof dtypes / sizeof dtypes[0] && !bits; i++)
        if (!strcmp(dt, dtypes[i].name))
            bits = dtypes[i].bits;
    if (!bits)
        return gm_fail(GM_ERR_FORMAT, "tensor '%s' has an unknown dtype %s%.32s%s", name,
                       dt ? "'" : "", dt ? dt : "(not a string)", dt ? "'" : "");
    *dtype = dt;

    const gm_json_node *shape = gm_json_get(v, "shape");
    if (gm_json_kind_of(shape) != GM_JSON_ARRAY)
        return gm_fail(GM_ERR_FORMAT, "tensor '%s': shape is not an array", name);
    if (gm_json_count(shape) > GM_ST_MAX_RANK)
        return gm_fail(GM_ERR_FORMAT, "tensor '%s' has rank %zu, over the limit of %d", name,
                       gm_json_count(shape), GM_ST_MAX_RANK);
    t->rank = (int32_t)gm_json_count(shape);
    uint64_t numel = 1, nbits, begin, end;
    for (int i = 0; i < t->rank; i++) {
        uint64_t d;
        if (!gm_json_uint(gm_json_at(shape, (size_t)i), &d) || d > (uint64_t)GM_ST_MAX_DIM)
            return gm_fail(GM_ERR_FORMAT, "tensor '%s': shape[%d] is not an integer in [0, 2^48-1]",
                           name, i);
        t->shape[i] = (int64_t)d;
        if (!mul_ok(numel, d, &numel))
            return gm_fail(GM_ERR_FORMAT, "tensor '%s': the product of shape %s overflows",
                           name, gm_st_shape_str(sbuf, t->shape, i + 1));
    }
    gm_st_shape_str(sbuf, t->shape, t->rank);
    if (!mul_ok(numel, bits, &nbits))
        return gm_fail(GM_ERR_FORMAT, "tensor '%s': %s shape %s overflows", name, dt, sbuf);
    if (nbits % 8)
        return gm_fail(GM_ERR_FORMAT, "tensor '%s': %s shape %s is not a whole number of bytes",
                       name, dt, sbuf);

    const gm_json_node *off = gm_json_get(v, "data_offsets");
    if (gm_json_count(off) != 2 || gm_json_kind_of(off) != GM_JSON_ARRAY ||
        !gm_json_uint(gm_json_at(off, 0), &begin) || !gm_json_uint(gm_json_at(off, 1), &end))
        return gm_fail(GM_ERR_FORMAT, "tensor '%s': data_offsets is not [begin, end]", name);
    if (begin > end || end - begin != nbits / 8)
        return gm_fail(GM_ERR_FORMAT, "tensor '%s' data_offsets [%" PRIu64 ", %" PRIu64 "] "
                       "but %s shape %s needs %" PRIu64 " bytes", name, begin, end, dt, sbuf, nbits / 8);
    /* numel * 4 <= end fits the buffer once contiguity is checked, so size_t holds it */
    t->numel = (size_t)numel;
    t->begin = begin;
    t->end = end;
    return GM_OK;
}

static int by_offset(const void *pa, const void *pb)
{
    const gm_st_info *a = *(const gm_st_info *const *)pa, *b = *(const gm_st_info *const *)pb;
    if (a->begin != b->begin)
        return a->begin < b->begin ? -1 : 1;
    if (a->end != b->end)   /* an empty tensor may share its begin with the next one */
        return a->end < b->end ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* Contiguity from 0 to the end of the buffer, and the bytes pointers. */
static gm_status check_layout(gm_st_file *f, const gm_st_info **order, const uint8_t *data, uint64_t data_len)
{
    uint64_t at = 0;
    qsort(order, f->count, sizeof *order, by_offset);
    for (size_t i = 0; i < f->count; i++) {
        const gm_st_info *t = order[i];
        if (t->begin > at)
            return gm_fail(GM_ERR_FORMAT, "bytes [%" PRIu64 ", %" PRIu64 ") of the data "
                           "belong to no tensor (a hole before '%s')", at, t->begin, t->name);
        if (t->begin < at)
            return gm_fail(GM_ERR_FORMAT, "tensor '%s' data_offsets [%" PRIu64 ", %" PRIu64 "] "
                           "overlap the tensor before it, which ends at %" PRIu64, t->name, t->begin, t->end, at);
        at = t->end;
    }
    if (at != data_len)
        return gm_fail(GM_ERR_FORMAT, "the tensors cover %" PRIu64 " bytes but %" PRIu64
                       " follow the header", at, data_len);
    for (size_t i = 0; i < f->count; i++)
        f->tensors[i].bytes = data + f->tensors[i].begin;
    return GM_OK;
}

static gm_status check_crc(gm_st_file *f, const uint8_t *data, size_t data_len)
{
    const char *hex = gm_st_meta_get(f, GM_ST_CRC_KEY);
    uint32_t want = 0;
    if (!hex)
        return GM_OK;
    for (int i = 0; i < 8; i++) {
        char c = hex[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return gm_fail(GM_ERR_FORMAT, GM_ST_CRC_KEY " '%.16s' is not 8 lowercase hex digits", hex);
        want = want << 4 | (uint32_t)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    if (hex[8])
        return gm_fail(GM_ERR_FORMAT, GM_ST_CRC_KEY " '%.16s' is not 8 lowercase hex digits", hex);
    uint32_t got = (uint32_t)crc32_z(0, data, data_len);
    if (got != want)
        return gm_fail(GM_ERR_FORMAT, "checksum mismatch: " GM_ST_CRC_KEY " is %s but the "
                       "data's CRC-32 is %08" PRIx32, hex, got);
    f->has_crc = 1;
    return GM_OK;
}

/* The header's own value, as the writer puts it: the placeholder's place */
static const char header_crc_field[] = "\"" GM_ST_HEADER_CRC_KEY "\":\"";

/* the offset of its 8 hex digits in head[0, n), or 0 when it is absent */
static size_t header_crc_offset(const uint8_t *head, size_t n)
{
    size_t k = sizeof header_crc_field - 1;
    for (size_t i = 0; i + k + 8 <= n; i++)
        if (!memcmp(head + i, header_crc_field, k))
            return i + k;
    return 0;
}

static gm_status check_header_crc(const gm_st_file *f, const uint8_t *buf, size_t n)
{
    const char *hex = gm_st_meta_get(f, GM_ST_HEADER_CRC_KEY);
    if (!hex)
        return GM_OK;
    size_t at = header_crc_offset(buf, n);
    if (!at || strlen(hex) != 8 || memcmp(buf + at, hex, 8) != 0)
        return gm_fail(GM_ERR_FORMAT, GM_ST_HEADER_CRC_KEY " is not where the writer puts it");
    uLong crc = crc32_z(0, buf, (z_size_t)at);
    crc = crc32_z(crc, (const Bytef *)"00000000", 8);
    crc = crc32_z(crc, buf + at + 8, (z_size_t)(n - at - 8));
    char want[9];
    snprintf(want, sizeof want, "%08lx", crc & 0xFFFFFFFFul);
    if (strcmp(want, hex) != 0)
        return gm_fail(GM_ERR_FORMAT, "header checksum mismatch: " GM_ST_HEADER_CRC_KEY
                       " is %s but the header's CRC-32 is %s", hex, want);
    return GM_OK;
}

static gm_status parse_header(const uint8_t *buf, size_t len, gm_json_doc **doc, size_t *hlen)
{
    if (len < 8)
        return gm_fail(GM_ERR_FORMAT, "%zu bytes, too short for the 8-byte header length", len);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | buf[i];
    if (n > GM_ST_MAX_HEADER)
        return gm_fail(GM_ERR_FORMAT, "header length %" PRIu64 " is over the limit of %zu",
                       n, GM_ST_MAX_HEADER);
    if (n > len - 8)
        return gm_fail(GM_ERR_FORMAT, "header length %" PRIu64 " but only %zu bytes follow",
                       n, len - 8);
    const char *h = (const char *)buf + 8;
    size_t hn = (size_t)n;
    *hlen = hn;
    if (!hn || h[0] != '{')
        return gm_fail(GM_ERR_FORMAT, "the header does not start with '{'");
    while (h[hn - 1] == ' ')   /* stops at the '{' */
        hn--;
    if (h[hn - 1] != '}')
        return gm_fail(GM_ERR_FORMAT, "the header does not end with '}' and spaces");
    gm_json_limits lim = { DEPTH, NODES, (uint32_t)GM_ST_MAX_STRING };
    gm_status st = gm_json_parse(h, hn, &lim, doc);
    if (st) {
        char why[512];
        snprintf(why, sizeof why, "%s", gm_last_error());
        return gm_fail(st, "header: %s", why);
    }
    return GM_OK;
}

gm_status gm_st_parse(const uint8_t *buf, size_t len, gm_st_file **out)
{
    if (!out)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_st_parse: out is NULL");
    *out = NULL;
    if (!buf)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_st_parse: buf is NULL");
    gm_json_doc *doc;
    size_t hlen;
    gm_status st = parse_header(buf, len, &doc, &hlen);
    if (st)
        return st;

    const gm_json_node *root = gm_json_root(doc), *meta = gm_json_get(root, METADATA);
    size_t count = gm_json_count(root) - (meta != NULL);
    if (meta && gm_json_kind_of(meta) != GM_JSON_OBJECT)
        st = gm_fail(GM_ERR_FORMAT, METADATA " is not an object");
    else if (gm_json_count(meta) > GM_ST_MAX_META)
        st = gm_fail(GM_ERR_FORMAT, "%zu metadata entries, over the limit of %d",
                     gm_json_count(meta), GM_ST_MAX_META);
    else if (count > GM_ST_MAX_TENSORS)
        st = gm_fail(GM_ERR_FORMAT, "%zu tensors, over the limit of %d", count, GM_ST_MAX_TENSORS);
    for (size_t i = 0; !st && i < gm_json_count(meta); i++)
        if (gm_json_kind_of(gm_json_at(meta, i)) != GM_JSON_STRING)
            st = gm_fail(GM_ERR_FORMAT, METADATA " value of '%.64s' is not a string",
                         gm_json_key_at(meta, i, NULL));
    if (st) {
        gm_json_free(doc);
        return st;
    }

    /* The tensor table, then the same tensors' pointers to sort by offset. */
    gm_st_file *f = gm_malloc(sizeof *f + count * (sizeof(gm_st_info) + sizeof(gm_st_info *)));
    if (!f) {
        gm_json_free(doc);
        return gm_fail(GM_ERR_NO_MEMORY, "out of memory for %zu tensors", count);
    }
    memset(f, 0, sizeof *f + count * sizeof(gm_st_info));
    f->doc = doc;
    f->meta = meta;
    f->count = count;
    const gm_st_info **order = (const gm_st_info **)(void *)(f->tensors + count);
    const gm_st_info *unsupported = NULL;
    const char *unsupported_dtype = NULL;
    for (size_t i = 0, j = 0; !st && i < gm_json_count(root); i++) {
        const gm_json_node *v = gm_json_at(root, i);
        size_t name_len;
        const char *name = gm_json_key_at(root, i, &name_len), *dtype = NULL;
        if (v == meta)
            continue;
        order[j] = &f->tensors[j];
        st = read_tensor(name, name_len, v, &f->tensors[j], &dtype);
        if (!st && !unsupported && strcmp(dtype, "F32")) {
            unsupported = &f->tensors[j];
            unsupported_dtype = dtype;
        }
        j++;
    }
    const uint8_t *data = buf + 8 + hlen;
    size_t data_len = len - 8 - hlen;
    if (!st)
        st = check_layout(f, order, data, data_len);
    if (!st)
        st = check_header_crc(f, buf, 8 + hlen);
    if (!st)
        st = check_crc(f, data, data_len);
    if (!st && unsupported)
        st = gm_fail(GM_ERR_UNSUPPORTED, "tensor '%s' is %s: only F32 is supported",
                     unsupported->name, unsupported_dtype);
    if (st) {
        gm_st_free(f);
        return st;
    }
    *out = f;
    return GM_OK;
}

void gm_st_free(gm_st_file *f)
{
    if (!f)
        return;
    gm_json_free(f->doc);
    gm_free(f);
}

size_t gm_st_count(const gm_st_file *f)
{
    return f ? f->count : 0;
}

const gm_st_info *gm_st_at(const gm_st_file *f, size_t i)
{
    return f && i < f->count ? &f->tensors[i] : NULL;
}

const gm_st_info *gm_st_find(const gm_st_file *f, const char *name)
{
    size_t lo = 0, hi = f && name ? f->count : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(f->tensors[mid].name, name);
        if (!c)
            return &f->tensors[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

gm_status gm_st_tensor_copy(const gm_st_file *f, const char *name, float *dst, size_t count)
{
    const gm_st_info *t = gm_st_find(f, name);
    if (!t)
        return gm_fail(GM_ERR_MISMATCH, "no tensor '%s'", name ? name : "(null)");
    if (t->numel != count)
        return gm_fail(GM_ERR_MISMATCH, "tensor '%s' has %zu values, not %zu", name, t->numel, count);
    if (count && !dst)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_st_tensor_copy: dst is NULL");
    if (count)
        memcpy(dst, t->bytes, count * sizeof *dst);
    return GM_OK;
}

size_t gm_st_meta_count(const gm_st_file *f)
{
    return f ? gm_json_count(f->meta) : 0;
}

const char *gm_st_meta_key(const gm_st_file *f, size_t i)
{
    return f ? gm_json_key_at(f->meta, i, NULL) : NULL;
}

const char *gm_st_meta_value(const gm_st_file *f, size_t i)
{
    return f ? gm_json_string(gm_json_at(f->meta, i), NULL) : NULL;
}

const char *gm_st_meta_get(const gm_st_file *f, const char *key)
{
    return f ? gm_json_string(gm_json_get(f->meta, key), NULL) : NULL;
}

int gm_st_has_crc(const gm_st_file *f)
{
    return f ? f->has_crc : 0;
}

/* ---- writing ---- */

typedef struct plan {
    const gm_st_tensor **t;     /* sorted by name */
    const gm_st_meta **m;       /* sorted by key, the CRC entry included */
    size_t nt, nm;
    size_t data_size, header_size;   /* header_size is N, padding included */
    gm_st_meta crc, header_crc;
    char crc_hex[9];
} plan;

/* The header is emitted into a sink; with p NULL it only counts. */
typedef struct sink {
    char *p;
    size_t n;
} sink;

static void put(sink *s, const char *x, size_t n)
{
    if (s->p)
        memcpy(s->p + s->n, x, n);
    s->n += n;
}

static void put_str(sink *s, const char *x)
{
    put(s, x, strlen(x));
}

static void put_u64(sink *s, uint64_t v)
{
    char b[24];
    put(s, b, (size_t)snprintf(b, sizeof b, "%" PRIu64, v));
}

static void put_quoted(sink *s, const char *x)
{
    put(s, "\"", 1);
    for (; *x; x++) {
        unsigned char c = (unsigned char)*x;
        char e[8];
        if (c == '"' || c == '\\') {
            e[0] = '\\';
            e[1] = (char)c;
            put(s, e, 2);
        } else if (c < 0x20) {
            put(s, e, (size_t)snprintf(e, sizeof e, "\\u%04x", c));
        } else {
            put(s, x, 1);
        }
    }
    put(s, "\"", 1);
}

static void emit(const plan *pl, sink *s)
{
    uint64_t at = 0;
    put_str(s, "{\"" METADATA "\":{");
    for (size_t i = 0; i < pl->nm; i++) {
        if (i)
            put(s, ",", 1);
        put_quoted(s, pl->m[i]->key);
        put(s, ":", 1);
        put_quoted(s, pl->m[i]->value);
    }
    put(s, "}", 1);
    for (size_t i = 0; i < pl->nt; i++) {
        const gm_st_tensor *t = pl->t[i];
        uint64_t numel = 1;
        put(s, ",", 1);
        put_quoted(s, t->name);
        put_str(s, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < t->rank; d++) {
            if (d)
                put(s, ",", 1);
            put_u64(s, (uint64_t)t->shape[d]);
            numel *= (uint64_t)t->shape[d];
        }
        put_str(s, "],\"data_offsets\":[");
        put_u64(s, at);
        put(s, ",", 1);
        at += numel * sizeof(float);
        put_u64(s, at);
        put_str(s, "]}");
    }
    put(s, "}", 1);
}

static int tensor_by_name(const void *a, const void *b)
{
    return strcmp((*(const gm_st_tensor *const *)a)->name, (*(const gm_st_tensor *const *)b)->name);
}

static int meta_by_key(const void *a, const void *b)
{
    return strcmp((*(const gm_st_meta *const *)a)->key, (*(const gm_st_meta *const *)b)->key);
}

static gm_status check_text(const char *who, const char *what, const char *s, size_t max)
{
    if (!s)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: a %s is NULL", who, what);
    size_t n = strlen(s);
    if (n > max)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s '%.40s...' is %zu bytes, over the limit of %zu", who,
                       what, s, n, max);
    if (!gm_json_utf8_valid(s, n))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s '%.40s' is not valid UTF-8", who, what, s);
    return GM_OK;
}

static gm_status check_tensor(const char *who, const gm_st_tensor *t, uint64_t *nbytes)
{
    gm_status st = check_text(who, "tensor name", t->name, GM_ST_MAX_NAME);
    if (st)
        return st;
    if (!t->name[0] || !strcmp(t->name, METADATA))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: '%s' cannot name a tensor", who, t->name);
    if (t->rank < 0 || t->rank > GM_ST_MAX_RANK)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: tensor '%s' has rank %d, not in [0, %d]", who, t->name,
                       (int)t->rank, GM_ST_MAX_RANK);
    uint64_t numel = 1;
    for (int d = 0; d < t->rank; d++) {
        if (t->shape[d] < 0 || t->shape[d] > GM_ST_MAX_DIM)
            return gm_fail(GM_ERR_INVALID_ARG, "%s: tensor '%s' has shape[%d] = %" PRId64 ", not in [0, 2^48-1]",
                           who, t->name, d, t->shape[d]);
        if (!mul_ok(numel, (uint64_t)t->shape[d], &numel))
            return gm_fail(GM_ERR_INVALID_ARG, "%s: tensor '%s' is too large", who, t->name);
    }
    if (!mul_ok(numel, sizeof(float), nbytes) || *nbytes > SIZE_MAX)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: tensor '%s' is too large", who, t->name);
    if (numel && !t->data)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: tensor '%s' has no data", who, t->name);
    return GM_OK;
}

/* Validate and sort the input, compute the CRC and measure the header. */
static gm_status plan_init(plan *pl, const char *who, const gm_st_tensor *tensors, size_t nt,
                           const gm_st_meta *meta, size_t nm)
{
    memset(pl, 0, sizeof *pl);
    if ((nt && !tensors) || (nm && !meta))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: tensors or meta is NULL", who);
    if (nt > GM_ST_MAX_TENSORS || nm > GM_ST_MAX_META - 2)  /* room for the two checksums */
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %zu tensors and %zu metadata entries, over the limits of %d and %d",
                       who, nt, nm, GM_ST_MAX_TENSORS, GM_ST_MAX_META - 2);
    gm_status st;
    for (size_t i = 0; i < nm; i++) {
        if ((st = check_text(who, "metadata key", meta[i].key, GM_ST_MAX_STRING)) ||
            (st = check_text(who, "metadata value", meta[i].value, GM_ST_MAX_STRING)))
            return st;
        if (!strcmp(meta[i].key, GM_ST_CRC_KEY) || !strcmp(meta[i].key, GM_ST_HEADER_CRC_KEY))
            return gm_fail(GM_ERR_INVALID_ARG, "%s: metadata key '%s' is the writer's own", who, meta[i].key);
    }
    uint64_t total = 0, nbytes = 0;
    for (size_t i = 0; i < nt; i++) {
        if ((st = check_tensor(who, &tensors[i], &nbytes)))
            return st;
        if (nbytes > SIZE_MAX - total)
            return gm_fail(GM_ERR_INVALID_ARG, "%s: the tensors are too large together", who);
        total += nbytes;
    }
    void *block = gm_malloc(nt * sizeof *pl->t + (nm + 2) * sizeof *pl->m);
    if (!block)
        return gm_fail(GM_ERR_NO_MEMORY, "out of memory");
    pl->t = block;
    pl->m = (const gm_st_meta **)(void *)((char *)block + nt * sizeof *pl->t);
    pl->nt = nt;
    pl->nm = nm + 2;
    pl->data_size = (size_t)total;
    for (size_t i = 0; i < nt; i++)
        pl->t[i] = &tensors[i];
    for (size_t i = 0; i < nm; i++)
        pl->m[i] = &meta[i];
    pl->m[nm] = &pl->crc;
    pl->m[nm + 1] = &pl->header_crc;
    qsort(pl->t, nt, sizeof *pl->t, tensor_by_name);
    for (size_t i = 1; i < nt; i++)
        if (!strcmp(pl->t[i - 1]->name, pl->t[i]->name))
            return gm_fail(GM_ERR_INVALID_ARG, "%s: two tensors are named '%s'", who, pl->t[i]->name);

    uLong crc = crc32_z(0, Z_NULL, 0);
    for (size_t i = 0; i < nt; i++) {
        uint64_t numel = 1;
        for (int d = 0; d < pl->t[i]->rank; d++)
            numel *= (uint64_t)pl->t[i]->shape[d];
        if (numel)
            crc = crc32_z(crc, (const Bytef *)pl->t[i]->data, (z_size_t)(numel * sizeof(float)));
    }
    snprintf(pl->crc_hex, sizeof pl->crc_hex, "%08lx", crc & 0xFFFFFFFFul);
    pl->crc.key = GM_ST_CRC_KEY;
    pl->crc.value = pl->crc_hex;
    pl->header_crc.key = GM_ST_HEADER_CRC_KEY;
    pl->header_crc.value = "00000000";  /* sealed by plan_header */
    qsort(pl->m, pl->nm, sizeof *pl->m, meta_by_key);
    for (size_t i = 1; i < pl->nm; i++)
        if (!strcmp(pl->m[i - 1]->key, pl->m[i]->key))
            return gm_fail(GM_ERR_INVALID_ARG, "%s: metadata key '%.64s' appears twice", who, pl->m[i]->key);

    sink s = { NULL, 0 };
    emit(pl, &s);
    pl->header_size = (s.n + 8 + GM_ST_ALIGN - 1) / GM_ST_ALIGN * GM_ST_ALIGN - 8;
    if (pl->header_size > GM_ST_MAX_HEADER)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: the header would be %zu bytes, over the limit of %zu", who,
                       pl->header_size, GM_ST_MAX_HEADER);
    return GM_OK;
}

static void plan_free(plan *pl)
{
    gm_free(pl->t);   /* the start of the block, even when nt is 0 */
}

/* The length prefix and the padded header: 8 + header_size bytes. */
static void plan_header(const plan *pl, uint8_t *dst)
{
    uint64_t n = pl->header_size;
    for (int i = 0; i < 8; i++, n >>= 8)
        dst[i] = (uint8_t)(n & 0xFF);
    sink s = { (char *)dst + 8, 0 };
    emit(pl, &s);
    memset(dst + 8 + s.n, ' ', pl->header_size - s.n);
    char hex[9];
    snprintf(hex, sizeof hex, "%08lx", crc32_z(0, dst, (z_size_t)(8 + pl->header_size)) & 0xFFFFFFFFul);
    memcpy(dst + header_crc_offset(dst, 8 + pl->header_size), hex, 8);
}

static size_t tensor_bytes(const gm_st_tensor *t)
{
    size_t numel = 1;
    for (int d = 0; d < t->rank; d++)
        numel *= (size_t)t->shape[d];
    return numel * sizeof(float);
}

gm_status gm_st_write_buffer(const gm_st_tensor *tensors, size_t n_tensors, const gm_st_meta *meta,
                             size_t n_meta, uint8_t **out, size_t *out_len)
{
    static const char who[] = "gm_st_write_buffer";
    if (!out || !out_len)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: out and out_len must not be NULL", who);
    *out = NULL;
    *out_len = 0;
    plan pl;
    gm_status st = plan_init(&pl, who, tensors, n_tensors, meta, n_meta);
    if (st) {
        plan_free(&pl);
        return st;
    }
    size_t head = 8 + pl.header_size;
    if (pl.data_size > SIZE_MAX - head) {
        plan_free(&pl);
        return gm_fail(GM_ERR_NO_MEMORY, "the file would be too large");
    }
    uint8_t *buf = gm_malloc(head + pl.data_size);
    if (!buf) {
        plan_free(&pl);
        return gm_fail(GM_ERR_NO_MEMORY, "out of memory for %zu bytes", head + pl.data_size);
    }
    plan_header(&pl, buf);
    size_t at = head;
    for (size_t i = 0; i < pl.nt; i++) {
        size_t n = tensor_bytes(pl.t[i]);
        if (n)
            memcpy(buf + at, pl.t[i]->data, n);
        at += n;
    }
    plan_free(&pl);
    *out = buf;
    *out_len = at;
    return GM_OK;
}

gm_status gm_st_write_file(const char *path, const gm_st_tensor *tensors, size_t n_tensors,
                           const gm_st_meta *meta, size_t n_meta)
{
    static const char who[] = "gm_st_write_file";
    if (!path)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: path is NULL", who);
    plan pl;
    gm_status st = plan_init(&pl, who, tensors, n_tensors, meta, n_meta);
    uint8_t *head = NULL;
    if (!st && !(head = gm_malloc(8 + pl.header_size)))
        st = gm_fail(GM_ERR_NO_MEMORY, "out of memory for a %zu-byte header", pl.header_size);
    if (st) {
        plan_free(&pl);
        return st;
    }
    plan_header(&pl, head);
    gm_io_atomic w;
    st = gm_io_atomic_open(&w, path);
    if (!st)
        st = gm_io_atomic_write(&w, head, 8 + pl.header_size);
    for (size_t i = 0; !st && i < pl.nt; i++)
        st = gm_io_atomic_write(&w, pl.t[i]->data, tensor_bytes(pl.t[i]));
    if (!st)
        st = gm_io_atomic_commit(&w);
    gm_free(head);
    plan_free(&pl);
    return st;
}
