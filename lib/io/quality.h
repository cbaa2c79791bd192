/* How close an image is to a reference, as super-resolution is measured:
 * PSNR and SSIM, on every channel or on the luminance, after cropping a
 * border. Images are (H, W, C) floats in [0, 1]. */
#ifndef GM_IO_QUALITY_H
#define GM_IO_QUALITY_H

#include <stdint.h>

#include "genmodel/common.h"

/* What is compared: every value, or for RGB (C = 3) the luminance Y of
 * ITU-R BT.601 in studio range, as the super-resolution papers' MATLAB
 * rgb2ycbcr gives it: Y = (16 + 65.481 R + 128.553 G + 24.966 B) / 255. */
typedef enum gm_quality_space {
    GM_QUALITY_CHANNELS = 0,
    GM_QUALITY_LUMA = 1,
} gm_quality_space;

/* The peak signal-to-noise ratio of a against b (both (h, w, c)), in dB
 * with peak 1: 10 log10(1 / MSE), the MSE over every value measured (as
 * scikit-image's peak_signal_noise_ratio with data_range 1). Identical
 * images give INFINITY (the MSE is 0). border pixels are cropped from each
 * of the four sides first (super-resolution crops the scale). */
gm_status gm_quality_psnr(const char *who, const float *a, const float *b, int32_t h, int32_t w, int32_t c,
                          int32_t border, gm_quality_space space, double *psnr);

/* The mean structural similarity of a and b (Wang et al. 2004): K1 0.01,
 * K2 0.03, L 1, statistics weighted by an 11 x 11 Gaussian of sigma 1.5
 * (population covariance), averaged over the pixels whose window lies
 * inside the (cropped) image, and over the channels. That is
 * scikit-image's structural_similarity(a, b, data_range=1,
 * gaussian_weights=True, sigma=1.5, use_sample_covariance=False), with
 * channel_axis=-1 for several channels. 1 for identical images. The image
 * left after cropping must be at least 11 x 11. */
gm_status gm_quality_ssim(const char *who, const float *a, const float *b, int32_t h, int32_t w, int32_t c,
                          int32_t border, gm_quality_space space, double *ssim);

/* Both return GM_ERR_INVALID_ARG for a NULL pointer, a size outside
 * 1..GM_MAX_DIM, an image above SIZE_MAX bytes, a negative border or one
 * that leaves too little, LUMA without 3 channels, or an unknown space;
 * gm_quality_ssim GM_ERR_NO_MEMORY for its one scratch block. */

#endif
