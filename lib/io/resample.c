/* Bicubic resampling (resample.h), after Pillow's Resample.c: per output
 * pixel of a side, a window of input pixels and its weights; then two
 * passes, each a weighted sum over a window. Images are (H, W, C); the
 * float and 8-bit entries share every line but the loads and stores.
 * One scratch block per call: the windows and the image between passes. */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resample.h"
#include "core/alloc.h"
#include "core/error.h"

#define FIXED 4194304.0   /* 2^22: Pillow's PRECISION_BITS for 8-bit images */

/* Keys' cubic convolution kernel with a = -0.5, as Pillow's bicubic_filter */
static double cubic(double x)
{
    const double a = -0.5;
    x = fabs(x);
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0)
        return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

/* one side's windows: output pixel i reads count[i] inputs from first[i],
 * weighted by w[i * ksize ...] */
typedef struct axis {
    int64_t ksize;
    double *w;         /* (out, ksize) */
    int32_t *first;    /* (out) */
    int32_t *count;    /* (out) */
} axis;

/* the widest window: the support (2 input pixels, times the factor when
 * shrinking) on each side, and the pixel itself */
static int64_t window_size(int32_t in, int32_t out)
{
    const double scale = (double)in / (double)out;
    return (int64_t)ceil(2.0 * (scale > 1.0 ? scale : 1.0)) * 2 + 1;
}

/* Pillow's precompute_coeffs: centres at +0.5, a window cut by the edges
 * and its weights renormalised to sum to one; for 8-bit work rounded, as
 * Pillow's normalize_coeffs_8bpc, to 22 fractional bits (away from zero),
 * so that a sum landing near a half rounds the way Pillow's does (the
 * products and their sums are then exact in double). */
static void axis_init(axis *a, int32_t in, int32_t out, bool fixed)
{
    const double scale = (double)in / (double)out, stretch = scale > 1.0 ? scale : 1.0, support = 2.0 * stretch;
    for (int32_t i = 0; i < out; i++) {
        const double centre = ((double)i + 0.5) * scale;
        /* (int) truncates as Pillow's does; a negative start clamps to 0 anyway */
        int32_t lo = (int32_t)(centre - support + 0.5), hi = (int32_t)(centre + support + 0.5);
        lo = lo < 0 ? 0 : lo;
        hi = hi > in ? in : hi;
        double *w = a->w + (size_t)i * (size_t)a->ksize, sum = 0.0;
        for (int32_t k = 0; k < hi - lo; k++)
            sum += w[k] = cubic(((double)(k + lo) - centre + 0.5) / stretch);
        for (int32_t k = 0; sum != 0.0 && k < hi - lo; k++) {
            w[k] /= sum;
            if (fixed)
                w[k] = trunc(w[k] * FIXED + (w[k] < 0.0 ? -0.5 : 0.5)) / FIXED;
        }
        a->first[i] = lo;
        a->count[i] = hi - lo;
    }
}

/* an image of floats or of bytes */
typedef struct plane {
    void *p;
    bool bytes;
} plane;

static inline double get(plane s, size_t i)
{
    return s.bytes ? (double)((const uint8_t *)s.p)[i] : (double)((const float *)s.p)[i];
}

/* clamped to [0, hi], and rounded to a whole value for 8-bit work */
static inline void put(plane d, size_t i, double v, double hi, bool round)
{
    v = v < 0.0 ? 0.0 : v > hi ? hi : v;
    if (round)
        v = floor(v + 0.5);
    if (d.bytes)
        ((uint8_t *)d.p)[i] = (uint8_t)v;
    else
        ((float *)d.p)[i] = (float)v;
}

/* across the rows: in (rows, sw, c) to out (rows, dw, c) */
static void pass_rows(plane in, plane out, int32_t rows, int32_t sw, int32_t dw, size_t c, const axis *a, double hi,
                      bool round)
{
    for (size_t y = 0; y < (size_t)rows; y++)
        for (size_t x = 0; x < (size_t)dw; x++) {
            const double *w = a->w + x * (size_t)a->ksize;
            const size_t from = (y * (size_t)sw + (size_t)a->first[x]) * c, to = (y * (size_t)dw + x) * c;
            for (size_t ch = 0; ch < c; ch++) {
                double sum = 0.0;
                for (int32_t k = 0; k < a->count[x]; k++)
                    sum += w[k] * get(in, from + (size_t)k * c + ch);
                put(out, to + ch, sum, hi, round);
            }
        }
}

/* down the columns: in (sh, row) to out (dh, row), row values a row */
static void pass_cols(plane in, plane out, int32_t dh, size_t row, const axis *a, double hi, bool round)
{
    for (size_t y = 0; y < (size_t)dh; y++) {
        const double *w = a->w + y * (size_t)a->ksize;
        const size_t from = (size_t)a->first[y] * row;
        for (size_t i = 0; i < row; i++) {
            double sum = 0.0;
            for (int32_t k = 0; k < a->count[y]; k++)
                sum += w[k] * get(in, from + (size_t)k * row + i);
            put(out, y * row + i, sum, hi, round);
        }
    }
}

/* a * b * c * size fits a size_t (all positive) */
static bool fits(int64_t a, int64_t b, int64_t c, size_t size)
{
    const size_t limit = SIZE_MAX / size;
    return (size_t)a <= limit / (size_t)b && (size_t)a * (size_t)b <= limit / (size_t)c;
}

static gm_status resample(const char *who, plane src, int32_t sh, int32_t sw, int32_t c, plane dst, int32_t dh,
                          int32_t dw)
{
    if (!src.p || !dst.p)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s is NULL", who, !src.p ? "src" : "dst");
    const struct { const char *name; int32_t v; } sizes[] = {
        { "source height", sh }, { "source width", sw }, { "channels", c }, { "height", dh }, { "width", dw },
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (sizes[i].v < 1 || sizes[i].v > GM_MAX_DIM)
            return gm_fail(GM_ERR_INVALID_ARG, "%s: the %s must be in 1..%d (got %d)", who, sizes[i].name,
                           GM_MAX_DIM, (int)sizes[i].v);
    if (!fits(sh, sw, c, sizeof(float)) || !fits(dh, dw, c, sizeof(float)) || !fits(sh, dw, c, sizeof(float)))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: resampling %d x %d x %d to %d x %d is too large", who, (int)sh,
                       (int)sw, (int)c, (int)dh, (int)dw);
    const bool across = sw != dw, down = sh != dh;
    const double hi = src.bytes ? 255.0 : 1.0;
    const size_t row = (size_t)dw * (size_t)c;
    if (!across && !down) {
        for (size_t i = 0; i < (size_t)dh * row; i++)
            put(dst, i, get(src, i), hi, false);
        return GM_OK;
    }
    /* one block: both sides' weights, the image between the passes, the windows' bounds */
    axis ax = { across ? window_size(sw, dw) : 0, NULL, NULL, NULL };
    axis ay = { down ? window_size(sh, dh) : 0, NULL, NULL, NULL };
    const size_t nwx = (size_t)dw * (size_t)ax.ksize, nwy = (size_t)dh * (size_t)ay.ksize;
    const size_t ntmp = across && down ? (size_t)sh * row : 0;
    const size_t bytes = (nwx + nwy) * sizeof(double) + ntmp * sizeof(float) + 2 * ((size_t)dw + (size_t)dh) *
                         sizeof(int32_t);
    char *block = gm_malloc(bytes);
    if (!block)
        return gm_fail(GM_ERR_NO_MEMORY, "%s: no memory to resample to %d x %d", who, (int)dh, (int)dw);
    ax.w = (double *)block;
    ay.w = ax.w + nwx;
    float *tmp = (float *)(ay.w + nwy);
    ax.first = (int32_t *)(tmp + ntmp);
    ax.count = ax.first + dw;
    ay.first = ax.count + dw;
    ay.count = ay.first + dh;
    if (across)
        axis_init(&ax, sw, dw, src.bytes);
    if (down)
        axis_init(&ay, sh, dh, src.bytes);
    /* 8-bit work rounds after each pass, as Pillow's */
    const plane mid = across && down ? (plane){ tmp, false } : dst;
    if (across)
        pass_rows(src, mid, sh, sw, dw, (size_t)c, &ax, hi, src.bytes);
    if (down)
        pass_cols(across ? mid : src, dst, dh, row, &ay, hi, src.bytes);
    gm_free(block);
    return GM_OK;
}

gm_status gm_resample_bicubic(const char *who, const float *src, int32_t sh, int32_t sw, int32_t c, float *dst,
                              int32_t dh, int32_t dw)
{
    return resample(who, (plane){ (void *)(uintptr_t)src, false }, sh, sw, c, (plane){ dst, false }, dh, dw);
}

gm_status gm_resample_bicubic_u8(const char *who, const uint8_t *src, int32_t sh, int32_t sw, int32_t c,
                                 uint8_t *dst, int32_t dh, int32_t dw)
{
    return resample(who, (plane){ (void *)(uintptr_t)src, true }, sh, sw, c, (plane){ dst, true }, dh, dw);
}
