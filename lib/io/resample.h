/* Bicubic resampling, as Pillow's Image.resize(size, Image.BICUBIC) does
 * it: the one way this library resizes an image (the folder reader's
 * resize, super-resolution's low-resolution inputs and its baseline).
 * Images are (H, W, C): rows of pixels of C interleaved values. */
#ifndef GM_IO_RESAMPLE_H
#define GM_IO_RESAMPLE_H

#include <stdint.h>

#include "genmodel/common.h"

/* Resample src (sh, sw, c) to dst (dh, dw, c), values in [0, 1]. Pillow's
 * convolution: Keys' cubic (a = -0.5) with pixel centres at +0.5, its
 * support widened by the factor when shrinking (so shrinking averages, no
 * aliasing), the weights of a window cut by the edge renormalised;
 * separable, across the rows first, then down the columns, a side that
 * keeps its size skipping its pass. Each pass clamps to [0, 1], as
 * Pillow's 8-bit passes clip to [0, 255]. On 8-bit images (bytes / 255)
 * the result is within one level of Pillow's bytes once rounded (1.004/255
 * at most on the test images): Pillow rounds after each pass, this does not.
 * Every size in 1..GM_MAX_DIM, c in 1..GM_MAX_DIM, and no image above
 * SIZE_MAX bytes, else GM_ERR_INVALID_ARG; GM_ERR_NO_MEMORY for the one
 * scratch block. src and dst must not overlap. */
gm_status gm_resample_bicubic(const char *who, const float *src, int32_t sh, int32_t sw, int32_t c, float *dst,
                              int32_t dh, int32_t dw);

/* The same on 8-bit values (0..255) as Pillow computes them, giving its
 * bytes: weights rounded to Pillow's 22-bit fixed point, each pass
 * rounded half up and clipped to 0..255. */
gm_status gm_resample_bicubic_u8(const char *who, const uint8_t *src, int32_t sh, int32_t sw, int32_t c,
                                 uint8_t *dst, int32_t dh, int32_t dw);

#endif
