/* YCbCr of ITU-R BT.601 in studio range, as the super-resolution papers'
 * MATLAB rgb2ycbcr: the space an upscaler on the luminance works in.
 * Values are in [0, 1]: Y in [16, 235] / 255, Cb and Cr in [16, 240] / 255
 * for RGB in [0, 1]. A grey image is R = G = B. */
#ifndef GM_IO_YCBCR_H
#define GM_IO_YCBCR_H

#include <stddef.h>

/* Y of an RGB value */
static inline double gm_luma(double r, double g, double b)
{
    return (16.0 + 65.481 * r + 128.553 * g + 24.966 * b) / 255.0;
}

/* y (n) = the luminance of n pixels of c values (1 grey, 3 RGB) */
void gm_ycbcr_luma(float *y, const float *x, size_t n, int c);

/* y (n) and cbcr (n, 2) of n RGB pixels (n, 3) */
void gm_ycbcr_from_rgb(float *y, float *cbcr, const float *rgb, size_t n);

/* x (n, c) from n pixels' luminance y (n) and, for c = 3, their chroma
 * cbcr (n, 2): the inverse of the conversions above, clamped to [0, 1]. */
void gm_ycbcr_to_pixels(float *x, const float *y, const float *cbcr, size_t n, int c);

#endif
