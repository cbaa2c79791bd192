/* PSNR and SSIM (quality.h). Images are (H, W, C); a plane is one channel,
 * or the luminance, of the cropped image. SSIM's Gaussian sums are
 * separable: across the rows into five (H, W - 10) maps (x, y, xx, yy,
 * xy), then down the columns at each pixel whose window fits, in double
 * as scikit-image works. One scratch block per call. */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quality.h"
#include "ycbcr.h"
#include "core/alloc.h"
#include "core/error.h"

#define RADIUS 5   /* int(3.5 * sigma + 0.5), scipy's truncation for scikit-image's 11 taps */
#define TAPS (2 * RADIUS + 1)
#define SIGMA 1.5

/* the measured part of an image pair */
typedef struct view {
    const float *a, *b;
    size_t w, c;             /* the whole image's row: w pixels of c values */
    size_t top, rows, cols;  /* the crop: rows x cols from (top, top) */
    size_t planes;           /* 1 for the luminance, else c */
    bool luma;
} view;

static gm_status check(const char *who, const float *a, const float *b, int32_t h, int32_t w, int32_t c,
                       int32_t border, gm_quality_space space, const double *out, int32_t least, view *v)
{
    if (!a || !b || !out)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s is NULL", who, !a ? "a" : !b ? "b" : "the result");
    const struct { const char *name; int32_t v; } sizes[] = { { "height", h }, { "width", w }, { "channels", c } };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (sizes[i].v < 1 || sizes[i].v > GM_MAX_DIM)
            return gm_fail(GM_ERR_INVALID_ARG, "%s: the %s must be in 1..%d (got %d)", who, sizes[i].name,
                           GM_MAX_DIM, (int)sizes[i].v);
    if ((size_t)h > SIZE_MAX / sizeof(float) / (size_t)w / (size_t)c)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: an image of %d x %d x %d is too large", who, (int)h, (int)w, (int)c);
    if (space != GM_QUALITY_CHANNELS && space != GM_QUALITY_LUMA)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: unknown space %d", who, (int)space);
    if (space == GM_QUALITY_LUMA && c != 3)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: the luminance needs 3 channels (RGB), not %d", who, (int)c);
    const int64_t rows = (int64_t)h - 2 * (int64_t)border, cols = (int64_t)w - 2 * (int64_t)border;
    if (border < 0 || rows < least || cols < least)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: a border of %d leaves %lld x %lld of %d x %d pixels, less than "
                       "%d x %d", who, (int)border, (long long)(rows > 0 ? rows : 0),
                       (long long)(cols > 0 ? cols : 0), (int)h, (int)w, (int)least, (int)least);
    *v = (view){ a, b, (size_t)w, (size_t)c, (size_t)border, (size_t)rows, (size_t)cols,
                 space == GM_QUALITY_LUMA ? 1 : (size_t)c, space == GM_QUALITY_LUMA };
    return GM_OK;
}

/* plane p of img at (y, x) of the crop */
static double value(const view *v, const float *img, size_t y, size_t x, size_t p)
{
    const float *px = img + ((v->top + y) * v->w + v->top + x) * v->c;
    if (v->luma)
        return gm_luma(px[0], px[1], px[2]);
    return px[p];
}

gm_status gm_quality_psnr(const char *who, const float *a, const float *b, int32_t h, int32_t w, int32_t c,
                          int32_t border, gm_quality_space space, double *psnr)
{
    view v;
    gm_status s = check(who, a, b, h, w, c, border, space, psnr, 1, &v);
    if (s != GM_OK)
        return s;
    double sum = 0.0;
    for (size_t y = 0; y < v.rows; y++)
        for (size_t x = 0; x < v.cols; x++)
            for (size_t p = 0; p < v.planes; p++) {
                const double d = value(&v, a, y, x, p) - value(&v, b, y, x, p);
                sum += d * d;
            }
    const double mse = sum / ((double)v.rows * (double)v.cols * (double)v.planes);
    *psnr = mse == 0.0 ? INFINITY : 10.0 * log10(1.0 / mse);
    return GM_OK;
}

/* the mean SSIM of plane p, with x and y (rows, cols) and the five
 * across-the-rows maps m (5, rows, cols - 2 RADIUS) as scratch */
static double plane_ssim(const view *v, size_t p, const double *g, double *x, double *y, double *m)
{
    const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
    const size_t rows = v->rows, cols = v->cols, inner = cols - 2 * RADIUS, n = rows * inner;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            x[i * cols + j] = value(v, v->a, i, j, p);
            y[i * cols + j] = value(v, v->b, i, j, p);
        }
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < inner; j++) {
            const double *xr = x + i * cols + j, *yr = y + i * cols + j;
            double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
            for (int k = 0; k < TAPS; k++) {
                sx += g[k] * xr[k];
                sy += g[k] * yr[k];
                sxx += g[k] * xr[k] * xr[k];
                syy += g[k] * yr[k] * yr[k];
                sxy += g[k] * xr[k] * yr[k];
            }
            const size_t at = i * inner + j;
            m[at] = sx, m[n + at] = sy, m[2 * n + at] = sxx, m[3 * n + at] = syy, m[4 * n + at] = sxy;
        }
    double total = 0.0;
    for (size_t i = 0; i + 2 * RADIUS < rows; i++)
        for (size_t j = 0; j < inner; j++) {
            double s[5] = { 0 };
            for (int k = 0; k < TAPS; k++)
                for (int q = 0; q < 5; q++)
                    s[q] += g[k] * m[(size_t)q * n + (i + (size_t)k) * inner + j];
            const double ux = s[0], uy = s[1];
            const double vx = s[2] - ux * ux, vy = s[3] - uy * uy, vxy = s[4] - ux * uy;
            total += (2 * ux * uy + c1) * (2 * vxy + c2) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
        }
    return total / ((double)(rows - 2 * RADIUS) * (double)inner);
}

gm_status gm_quality_ssim(const char *who, const float *a, const float *b, int32_t h, int32_t w, int32_t c,
                          int32_t border, gm_quality_space space, double *ssim)
{
    view v;
    gm_status s = check(who, a, b, h, w, c, border, space, ssim, TAPS, &v);
    if (s != GM_OK)
        return s;
    /* x and y, then the five maps: at most 7 doubles a pixel, and rows * cols
     * floats fit a size_t, so 7 * rows * cols doubles may not */
    const size_t px = v.rows * v.cols;
    if (px > SIZE_MAX / 7 / sizeof(double))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %zu x %zu pixels are too many to measure", who, v.rows, v.cols);
    double *x = gm_malloc((2 * px + 5 * v.rows * (v.cols - 2 * RADIUS)) * sizeof(double));
    if (!x)
        return gm_fail(GM_ERR_NO_MEMORY, "%s: no memory to measure %zu x %zu pixels", who, v.rows, v.cols);
    /* scipy's Gaussian kernel: exp(-k^2 / (2 sigma^2)) for |k| <= RADIUS, summing to 1 */
    double g[TAPS], sum = 0.0;
    for (int k = 0; k < TAPS; k++)
        sum += g[k] = exp(-0.5 * (double)((k - RADIUS) * (k - RADIUS)) / (SIGMA * SIGMA));
    for (int k = 0; k < TAPS; k++)
        g[k] /= sum;
    double total = 0.0;
    for (size_t p = 0; p < v.planes; p++)
        total += plane_ssim(&v, p, g, x, x + px, x + 2 * px);
    gm_free(x);
    *ssim = total / (double)v.planes;
    return GM_OK;
}
