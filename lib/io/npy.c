/* Reading NPY files (npy.h). The header is a Python dict literal; we read
 * the subset numpy writes (numpy/lib/format.py): string keys and values in
 * single or double quotes, True/False, a tuple of non-negative integers,
 * any order, an optional trailing comma, spaces, and a final newline. */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "npy.h"
#include "core/alloc.h"
#include "core/error.h"

/* the header, as far as it has been read */
typedef struct cursor {
    const char *who, *path;
    const uint8_t *p, *end;
    const uint8_t *start;   /* of the file, for offsets */
} cursor;

static gm_status bad(const cursor *c, const char *what)
{
    return gm_fail(GM_ERR_FORMAT, "%s: '%s': bad NPY header at byte %zu: %s", c->who, c->path,
                   (size_t)(c->p - c->start), what);
}

static void skip_space(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

static bool take(cursor *c, char ch)
{
    skip_space(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* a quoted string of at most size - 1 bytes, without escapes */
static gm_status string(cursor *c, char *out, size_t size)
{
    skip_space(c);
    if (c->p == c->end || (*c->p != '\'' && *c->p != '"'))
        return bad(c, "expected a quoted string");
    const uint8_t quote = *c->p++, *s = c->p;
    while (c->p < c->end && *c->p != quote && *c->p != '\\' && *c->p != '\n')
        c->p++;
    if (c->p == c->end || *c->p != quote)
        return bad(c, "unterminated or escaped string");
    if ((size_t)(c->p - s) >= size)
        return bad(c, "string too long");
    memcpy(out, s, (size_t)(c->p - s));
    out[c->p - s] = '\0';
    c->p++;
    return GM_OK;
}

static gm_status boolean(cursor *c, bool *v)
{
    skip_space(c);
    const size_t left = (size_t)(c->end - c->p);
    if (left >= 4 && !memcmp(c->p, "True", 4))
        *v = true, c->p += 4;
    else if (left >= 5 && !memcmp(c->p, "False", 5))
        *v = false, c->p += 5;
    else
        return bad(c, "expected True or False");
    return GM_OK;
}

/* (d0, d1, ...) with an optional trailing comma; (n,) for one dimension */
static gm_status shape(cursor *c, gm_npy *a)
{
    if (!take(c, '('))
        return bad(c, "expected a tuple for 'shape'");
    a->ndim = 0;
    while (!take(c, ')')) {
        skip_space(c);
        if (a->ndim == GM_NPY_MAX_DIMS)
            return bad(c, "more than 8 dimensions");
        if (c->p == c->end || *c->p < '0' || *c->p > '9')
            return bad(c, "expected a dimension");
        int64_t v = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            v = 10 * v + (*c->p++ - '0');
            if (v > INT32_MAX)
                return bad(c, "dimension too large");
        }
        if (v == 0)
            return bad(c, "a dimension of 0 (an empty array)");
        a->dims[a->ndim++] = (int32_t)v;
        if (!take(c, ',')) {
            if (!take(c, ')'))
                return bad(c, "expected ',' or ')' in 'shape'");
            break;
        }
    }
    if (a->ndim == 0)
        return bad(c, "a scalar (shape ()), not an array");
    return GM_OK;
}

/* the element types read: byte order, kind, size */
typedef struct dtype {
    char order;   /* '<' little, '>' big */
    char kind;    /* 'f', 'i', 'u', 'b' (bool) */
    int size;
} dtype;

static gm_status parse_descr(cursor *c, const char *descr, dtype *t)
{
    const size_t n = strlen(descr);
    if (n != 3 || !strchr("<>|=", descr[0]) || !strchr("fiub", descr[1]) || !strchr("1248", descr[2]))
        return bad(c, "'descr' is not a numeric type this library reads (f4, f8, i1-i8, u1-u8, b1)");
    t->kind = descr[1];
    t->size = descr[2] - '0';
    /* '|' (no order) and '=' (native) on a little-endian machine */
    t->order = descr[0] == '>' ? '>' : '<';
    if ((t->kind == 'f' && t->size < 4) || (t->kind == 'b' && t->size != 1))
        return bad(c, "'descr' is not a numeric type this library reads (f4, f8, i1-i8, u1-u8, b1)");
    return GM_OK;
}

static gm_status header(cursor *c, gm_npy *a, dtype *t, bool *fortran)
{
    bool seen[3] = { false, false, false };
    if (!take(c, '{'))
        return bad(c, "expected '{'");
    while (!take(c, '}')) {
        char key[16], descr[16];
        gm_status s = string(c, key, sizeof key);
        if (s != GM_OK)
            return s;
        if (!take(c, ':'))
            return bad(c, "expected ':'");
        int k = !strcmp(key, "descr") ? 0 : !strcmp(key, "fortran_order") ? 1 : !strcmp(key, "shape") ? 2 : -1;
        if (k < 0)
            return bad(c, "a key other than 'descr', 'fortran_order' and 'shape'");
        if (seen[k])
            return bad(c, "a key given twice");
        seen[k] = true;
        s = k == 0 ? string(c, descr, sizeof descr) : k == 1 ? boolean(c, fortran) : shape(c, a);
        if (s == GM_OK && k == 0)
            s = parse_descr(c, descr, t);
        if (s != GM_OK)
            return s;
        if (!take(c, ',')) {
            if (!take(c, '}'))
                return bad(c, "expected ',' or '}'");
            break;
        }
    }
    if (!seen[0] || !seen[1] || !seen[2])
        return bad(c, "'descr', 'fortran_order' and 'shape' are required");
    skip_space(c);
    if (c->p == c->end || *c->p != '\n' || c->p + 1 != c->end)
        return bad(c, "the header does not end in a newline after the dict");
    return GM_OK;
}

/* element i of the data, as a double */
static double element(const uint8_t *data, size_t i, const dtype *t)
{
    uint8_t b[8];
    for (int k = 0; k < t->size; k++)
        b[k] = data[i * (size_t)t->size + (size_t)(t->order == '<' ? k : t->size - 1 - k)];
    uint64_t u = 0;
    for (int k = t->size - 1; k >= 0; k--)
        u = u << 8 | b[k];
    switch (t->kind) {
    case 'f':
        if (t->size == 4) {
            uint32_t w = (uint32_t)u;
            float f;
            memcpy(&f, &w, sizeof f);
            return f;
        } else {
            double d;
            memcpy(&d, &u, sizeof d);
            return d;
        }
    case 'i': {
        const int shift = 64 - 8 * t->size;  /* sign-extend */
        return (double)(int64_t)(u << shift) / (double)((uint64_t)1 << shift);
    }
    default:
        return (double)u;
    }
}

/* the C-order position of the element stored at Fortran-order position f */
static size_t c_index(const gm_npy *a, size_t f)
{
    size_t at = 0, stride = 1;
    for (int d = a->ndim - 1; d >= 0; d--)
        stride *= (size_t)a->dims[d];
    for (int d = 0; d < a->ndim; d++) {
        stride /= (size_t)a->dims[d];
        at += (f % (size_t)a->dims[d]) * stride;
        f /= (size_t)a->dims[d];
    }
    return at;
}

gm_status gm_npy_parse(const char *who, const char *path, const uint8_t *data, size_t len, size_t max_bytes,
                       gm_npy *out)
{
    memset(out, 0, sizeof *out);
    if (len < 10 || memcmp(data, "\x93NUMPY", 6) != 0)
        return gm_fail(GM_ERR_FORMAT, "%s: '%s' is not an NPY file (no \\x93NUMPY magic)", who, path);
    const int major = data[6];
    if (major < 1 || major > 3)
        return gm_fail(GM_ERR_FORMAT, "%s: '%s' is NPY version %d.%d; this library reads 1.0 to 3.0", who, path,
                       major, data[7]);
    const size_t fixed = major == 1 ? 10 : 12;
    if (len < fixed)
        return gm_fail(GM_ERR_FORMAT, "%s: '%s' is too short for an NPY header (%zu bytes)", who, path, len);
    size_t hlen = (size_t)data[8] | (size_t)data[9] << 8;
    if (major > 1)
        hlen |= (size_t)data[10] << 16 | (size_t)data[11] << 24;
    if (hlen > len - fixed)
        return gm_fail(GM_ERR_FORMAT, "%s: '%s': the NPY header claims %zu bytes, the file has %zu after byte %zu",
                       who, path, hlen, len - fixed, fixed);
    cursor c = { who, path, data + fixed, data + fixed + hlen, data };
    dtype t = { 0 };
    bool fortran = false;
    gm_status s = header(&c, out, &t, &fortran);
    if (s != GM_OK)
        return s;

    size_t count = 1;
    for (int d = 0; d < out->ndim; d++) {
        if (count > SIZE_MAX / (size_t)out->dims[d])
            return gm_fail(GM_ERR_FORMAT, "%s: '%s': the NPY shape overflows", who, path);
        count *= (size_t)out->dims[d];
    }
    const bool bytes = t.kind == 'u' && t.size == 1;
    const size_t keep = bytes ? 1 : sizeof(float), body = len - fixed - hlen;
    if (count > max_bytes / keep || count > SIZE_MAX / (size_t)t.size)
        return gm_fail(GM_ERR_FORMAT, "%s: '%s': the NPY array of %zu elements is larger than this library reads "
                       "(%zu bytes)", who, path, count, max_bytes);
    if (body != count * (size_t)t.size)
        return gm_fail(GM_ERR_FORMAT, "%s: '%s': the NPY header says %zu bytes of data, the file holds %zu after "
                       "byte %zu", who, path, count * (size_t)t.size, body, fixed + hlen);
    const uint8_t *src = data + fixed + hlen;
    out->count = count;
    out->integral = t.kind != 'f';
    if (bytes) {
        if (!(out->bytes = gm_malloc(count)))
            return gm_fail(GM_ERR_NO_MEMORY, "%s: '%s': no memory for %zu bytes", who, path, count);
        if (!fortran)
            memcpy(out->bytes, src, count);
        for (size_t i = 0; fortran && i < count; i++)
            out->bytes[c_index(out, i)] = src[i];
        return GM_OK;
    }
    if (!(out->values = gm_alloc_floats(count)))
        return gm_fail(GM_ERR_NO_MEMORY, "%s: '%s': no memory for %zu floats", who, path, count);
    for (size_t i = 0; i < count; i++) {
        const double v = element(src, i, &t);
        if (!isfinite(v) || fabs(v) > FLT_MAX) {
            gm_npy_release(out);
            return gm_fail(GM_ERR_FORMAT, "%s: '%s': element %zu (byte %zu) is %g, not a finite float", who, path,
                           i, fixed + hlen + i * (size_t)t.size, v);
        }
        out->values[fortran ? c_index(out, i) : i] = (float)v;
    }
    return GM_OK;
}

void gm_npy_release(gm_npy *a)
{
    gm_free(a->bytes);
    gm_free(a->values);
    a->bytes = NULL;
    a->values = NULL;
}
