/* Reading CSV tables of numbers (csv.h). Two passes over the bytes: the
 * first finds the lines and checks their shape, so that the values are
 * allocated once; the second converts the cells. Numbers go through
 * strtod in the C locale (uselocale, for this thread only), after a check
 * of their characters that keeps out what strtod would take besides
 * decimals (hex, inf, nan). */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "core/alloc.h"
#include "core/error.h"

#define MAX_CELL 63   /* characters of a number; a header name may be longer */

typedef struct line {
    const char *p, *end;   /* without its line ending */
    int64_t number;        /* 1-based, in the file */
} line;

typedef struct parser {
    const char *who, *path;
    const gm_csv_options *o;
    line cur;
} parser;

/* the next cell of the line from *at: [*s, *e) trimmed of spaces and quotes;
 * *at moves past its delimiter, or to the end */
static void next_cell(const parser *ps, const char **at, const char **s, const char **e)
{
    const char *p = *at, *end = ps->cur.end;
    const char *q = memchr(p, ps->o->delimiter, (size_t)(end - p));
    const char *stop = q ? q : end;
    *at = q ? q + 1 : end;
    while (p < stop && (*p == ' ' || *p == '\t'))
        p++;
    while (stop > p && (stop[-1] == ' ' || stop[-1] == '\t'))
        stop--;
    if (stop - p >= 2 && *p == '"' && stop[-1] == '"')
        p++, stop--;
    *s = p, *e = stop;
}

/* cells in a line: one more than its delimiters */
static int64_t cells_of(const parser *ps, const line *l)
{
    int64_t n = 1;
    for (const char *p = l->p; (p = memchr(p, ps->o->delimiter, (size_t)(l->end - p))); p++)
        n++;
    return n;
}

/* A decimal number's characters: [+-] digits [. digits] [(e|E) [+-] digits],
 * with a digit before or after the point. */
static bool is_decimal(const char *s, const char *e)
{
    const char *p = s;
    int digits = 0;
    if (p < e && (*p == '+' || *p == '-'))
        p++;
    for (; p < e && *p >= '0' && *p <= '9'; p++)
        digits++;
    if (p < e && *p == '.')
        for (p++; p < e && *p >= '0' && *p <= '9'; p++)
            digits++;
    if (!digits)
        return false;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p == e || *p < '0' || *p > '9')
            return false;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    return p == e;
}

/* A decimal the fast way, when that is exact: at most 19 significant
 * digits m below 2^53 and a power of ten |k| <= 22, so that m and 10^k are
 * both doubles and m * 10^k (or m / 10^-k) is one correctly rounded
 * operation: the double strtod would give (Clinger 1990). [s, e) is a
 * decimal already (is_decimal). */
static bool fast_decimal(const char *s, const char *e, double *v)
{
    static const double pow10[23] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                      1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
    const char *p = s;
    const bool negative = *p == '-';
    p += *p == '-' || *p == '+';
    uint64_t m = 0;
    int digits = 0, k = 0;
    for (; p < e && *p >= '0' && *p <= '9'; p++)
        if (m || *p != '0')
            m = 10 * m + (uint64_t)(*p - '0'), digits++;
    if (p < e && *p == '.')
        for (p++; p < e && *p >= '0' && *p <= '9'; p++, k--)
            if (m || *p != '0')
                m = 10 * m + (uint64_t)(*p - '0'), digits++;
    if (p < e) {   /* the exponent */
        p++;
        const bool down = *p == '-';
        p += *p == '-' || *p == '+';
        int x = 0;
        for (; p < e && x < 1000; p++)
            x = 10 * x + (*p - '0');
        k += down ? -x : x;
    }
    if (digits > 19 || m >= (uint64_t)1 << 53 || k < -22 || k > 22)
        return false;
    const double d = k < 0 ? (double)m / pow10[-k] : (double)m * pow10[k];
    *v = negative ? -d : d;
    return true;
}

/* the cell [s, e) as a finite float, or false */
static bool number(const char *s, const char *e, float *v)
{
    if (e - s > MAX_CELL || !is_decimal(s, e))
        return false;
    double fast;
    if (fast_decimal(s, e, &fast)) {
        if (fabs(fast) > FLT_MAX)
            return false;
        *v = (float)fast;
        return true;
    }
    char buf[MAX_CELL + 1];
    memcpy(buf, s, (size_t)(e - s));
    buf[e - s] = '\0';
    const double d = strtod(buf, NULL);
    if (!isfinite(d) || fabs(d) > FLT_MAX)
        return false;
    *v = (float)d;
    return true;
}

static gm_status cell_error(const parser *ps, int64_t column, const char *s, const char *e, const char *what)
{
    const int shown = e - s > 32 ? 32 : (int)(e - s);
    return gm_fail(GM_ERR_FORMAT, "%s: '%s' line %lld, column %lld: '%.*s'%s %s", ps->who, ps->path,
                   (long long)ps->cur.number, (long long)column, shown, s, e - s > 32 ? "..." : "", what);
}

/* The line from p: its end (before CR LF or LF) and where the next starts. */
static const char *line_end(const char *p, const char *end, const char **next)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    *next = nl ? nl + 1 : end;
    const char *e = nl ? nl : end;
    return e > p && e[-1] == '\r' ? e - 1 : e;
}

/* the label column's index among cols, from its name or number; -1 for none */
static gm_status label_index(const parser *ps, const line *head, bool header, int64_t cols, int64_t *index)
{
    *index = -1;
    const char *want = ps->o->label_column;
    if (!want)
        return GM_OK;
    char *stop;
    const long long k = strtoll(want, &stop, 10);
    if (*want >= '0' && *want <= '9' && !*stop) {
        if (k >= cols)
            return gm_fail(GM_ERR_INVALID_ARG, "%s: '%s' has %lld columns, so no label column %lld", ps->who,
                           ps->path, (long long)cols, k);
        *index = k;
        return GM_OK;
    }
    if (header) {
        parser h = *ps;
        h.cur = *head;
        const char *at = head->p, *s, *e;
        for (int64_t c = 0; c < cols; c++) {
            next_cell(&h, &at, &s, &e);
            if ((size_t)(e - s) == strlen(want) && !memcmp(s, want, (size_t)(e - s))) {
                *index = c;
                return GM_OK;
            }
        }
    }
    return gm_fail(GM_ERR_INVALID_ARG, "%s: '%s' has no column named '%s'%s", ps->who, ps->path, want,
                   header ? "" : " (it has no header line)");
}

gm_status gm_csv_parse(const char *who, const char *path, const uint8_t *data, size_t len,
                       const gm_csv_options *options, int32_t max_label, size_t max_bytes, gm_csv *out)
{
    memset(out, 0, sizeof *out);
    parser ps = { who, path, options, { 0 } };
    const char *p = (const char *)data, *end = p + len, *next;
    if (len == 0)
        return gm_fail(GM_ERR_FORMAT, "%s: '%s' is empty", who, path);

    /* pass 1: the lines and their widths */
    line first = { p, line_end(p, end, &next), 1 };
    const char *second = next;
    ps.cur = first;
    const int64_t cols = cells_of(&ps, &first);
    bool header = options->header == 1;
    if (options->header < 0) {
        const char *at = first.p, *s, *e;
        float v;
        for (int64_t c = 0; c < cols && !header; c++) {
            next_cell(&ps, &at, &s, &e);
            header = !number(s, e, &v);
        }
    }
    int64_t rows = 0;
    for (ps.cur.number = 1, p = header ? second : first.p; p < end; p = next, ps.cur.number++) {
        ps.cur.p = p;
        ps.cur.end = line_end(p, end, &next);
        if (ps.cur.p == ps.cur.end)
            return gm_fail(GM_ERR_FORMAT, "%s: '%s' line %lld is empty", who, path,
                           (long long)(ps.cur.number + header));
        const int64_t n = cells_of(&ps, &ps.cur);
        if (n != cols)
            return gm_fail(GM_ERR_FORMAT, "%s: '%s' line %lld has %lld cells, the first line %lld", who, path,
                           (long long)(ps.cur.number + header), (long long)n, (long long)cols);
        rows++;
    }
    if (rows == 0)
        return gm_fail(GM_ERR_FORMAT, "%s: '%s' has no rows of data", who, path);
    int64_t label;
    gm_status st = label_index(&ps, &first, header, cols, &label);
    if (st != GM_OK)
        return st;
    const int64_t width = cols - (label >= 0);
    if (width == 0)
        return gm_fail(GM_ERR_FORMAT, "%s: '%s' has no column besides the labels", who, path);
    if (rows > INT32_MAX || (uint64_t)rows * (uint64_t)width > max_bytes / sizeof(float))
        return gm_fail(GM_ERR_FORMAT, "%s: '%s' has %lld rows of %lld values, more than this library reads",
                       who, path, (long long)rows, (long long)width);

    out->values = gm_alloc_floats((size_t)rows * (size_t)width);
    out->labels = label >= 0 ? gm_malloc((size_t)rows * sizeof *out->labels) : NULL;
    if (!out->values || (label >= 0 && !out->labels)) {
        gm_csv_release(out);
        return gm_fail(GM_ERR_NO_MEMORY, "%s: '%s': no memory for %lld rows", who, path, (long long)rows);
    }
    out->rows = (int32_t)rows;
    out->cols = (int32_t)width;

    /* pass 2: the cells, in the C locale */
    locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (c_locale == (locale_t)0) {
        gm_csv_release(out);
        return gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for the C locale", who);
    }
    const locale_t before = uselocale(c_locale);
    float *dst = out->values;
    p = header ? second : first.p;
    for (int64_t r = 0; r < rows && st == GM_OK; r++, p = next) {
        ps.cur = (line){ p, line_end(p, end, &next), r + 1 + header };
        const char *at = p, *s, *e;
        for (int64_t c = 0; c < cols; c++) {
            float v;
            next_cell(&ps, &at, &s, &e);
            if (!number(s, e, &v)) {
                st = cell_error(&ps, c + 1, s, e, "is not a finite decimal number");
                break;
            }
            if (c != label) {
                *dst++ = v;
            } else if (v != floorf(v) || v < 0.0f || v > (float)max_label) {
                char what[64];
                snprintf(what, sizeof what, "is not a label (an integer from 0 to %d)", (int)max_label);
                st = cell_error(&ps, c + 1, s, e, what);
                break;
            } else {
                out->labels[r] = (int32_t)v;
            }
        }
    }
    uselocale(before);
    freelocale(c_locale);
    if (st != GM_OK)
        gm_csv_release(out);
    return st;
}

void gm_csv_release(gm_csv *t)
{
    gm_free(t->values);
    gm_free(t->labels);
    t->values = NULL;
    t->labels = NULL;
}
