/* BT.601 studio-range YCbCr (ycbcr.h). The inverse is the forward
 * matrix's, computed in double and kept to nine digits. */
#include "ycbcr.h"

static float clamp01(double v)
{
    return v < 0.0 ? 0.0f : v > 1.0 ? 1.0f : (float)v;
}

void gm_ycbcr_luma(float *y, const float *x, size_t n, int c)
{
    for (size_t i = 0; i < n; i++)
        y[i] = c == 1 ? (float)gm_luma(x[i], x[i], x[i])
                      : (float)gm_luma(x[3 * i], x[3 * i + 1], x[3 * i + 2]);
}

void gm_ycbcr_from_rgb(float *y, float *cbcr, const float *rgb, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const double r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
        y[i] = (float)gm_luma(r, g, b);
        cbcr[2 * i] = (float)((128.0 - 37.797 * r - 74.203 * g + 112.0 * b) / 255.0);
        cbcr[2 * i + 1] = (float)((128.0 + 112.0 * r - 93.786 * g - 18.214 * b) / 255.0);
    }
}

void gm_ycbcr_to_pixels(float *x, const float *y, const float *cbcr, size_t n, int c)
{
    for (size_t i = 0; i < n; i++) {
        const double l = 1.16438356 * (y[i] - 16.0 / 255.0);
        if (c == 1) {
            x[i] = clamp01(l);
            continue;
        }
        const double cb = cbcr[2 * i] - 128.0 / 255.0, cr = cbcr[2 * i + 1] - 128.0 / 255.0;
        x[3 * i] = clamp01(l + 3.01124397e-07 * cb + 1.59602689 * cr);
        x[3 * i + 1] = clamp01(l - 0.391762540 * cb - 0.812968292 * cr);
        x[3 * i + 2] = clamp01(l + 2.01723264 * cb + 3.05426175e-06 * cr);
    }
}
