/** @file
 * Super-resolution: a convolutional upscaler by 2, 3 or 4.
 *
 * The network is fully convolutional, so it runs on an image of any size:
 * an ESPCN (Shi et al. 2016) by default, convolutions with "same" padding
 * (5x5 to 64 channels, 3x3 to 32, tanh) and a 3x3 convolution to
 * scale^2 * channels whose outputs a pixel shuffle arranges into the image
 * scale times larger. It works on the luminance Y of an image (channels 1,
 * the default; colour images are upscaled in YCbCr, their chroma by
 * bicubic interpolation) or on its RGB values (channels 3).
 *
 * Training is on pairs of patches: a high-resolution crop and its bicubic
 * downscale (gm_sr_patches makes them from a dataset of images, as
 * Pillow's Image.resize with BICUBIC does). The pixel loss is the mean
 * squared or absolute error of the upscaled patch; with adv_weight > 0 a
 * convolutional discriminator is trained beside it (SRGAN, Ledig et al.
 * 2017) with one of the GAN losses, and the upscaler's loss adds
 * adv_weight times its adversarial loss.
 *
 * Arrays are row-major float in [0, 1] (checked; nothing else is a pixel):
 * an image of h x w pixels of c values is (h, w, c), channel fastest; a
 * batch of n is n such images. The low-resolution side of a pair is
 * (h, w), the high-resolution one (scale h, scale w).
 *
 * Random draws come from the handle's seeded generator: gm_sr_patches
 * draws where its crops are; nothing else draws. Every call on a handle follows common.h's rules (ownership,
 * failure, threads) as gan.h states them: on failure nothing is written
 * and the handle is as it was, random state included. Checkpoints:
 * gm_sr_save and gm_sr_load (checkpoint.h). */
#ifndef GENMODEL_SR_H
#define GENMODEL_SR_H

#include "common.h"
#include "data.h"
#include "gan.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An opaque upscaler: created by gm_sr_create, gm_sr_load or
 * gm_sr_load_buffer, owned by the caller and released by gm_sr_free. One
 * call at a time on a handle; different handles from different threads at
 * once. */
typedef struct gm_sr gm_sr;

/** The pixel loss (gm_sr_config's pixel_loss). */
typedef enum gm_sr_loss {
    GM_SR_MSE = 0,  /**< mean squared error, as torch's MSELoss */
    GM_SR_L1 = 1    /**< mean absolute error, as torch's L1Loss */
} gm_sr_loss;

#define GM_SR_MAX_BODY 4       /**< the most convolutions before the output one */
#define GM_SR_MAX_KERNEL 9     /**< the largest (odd) kernel side */
#define GM_SR_MAX_PATCH 512    /**< the largest patch side */

/** How to build and train an upscaler: fill it with gm_sr_config_init,
 * change what you need, pass it to gm_sr_create. */
typedef struct gm_sr_config {
    size_t struct_size;                    /**< set by gm_sr_config_init */
    int32_t scale;                         /**< 2, 3 or 4; default 2 */
    int32_t channels;                      /**< 1: the luminance Y (default); 3: RGB */
    int32_t n_body;                        /**< convolutions before the output one, 1..GM_SR_MAX_BODY;
                                                default 2 */
    int32_t body_channels[GM_SR_MAX_BODY]; /**< their output channels (1..1024); default {64, 32} */
    int32_t body_kernel[GM_SR_MAX_BODY];   /**< their kernel sides, odd, 1..GM_SR_MAX_KERNEL;
                                                default {5, 3} */
    int32_t out_kernel;                    /**< the output convolution's, odd; default 3 */
    int32_t activation;                    /**< gm_activation after the body's convolutions;
                                                default GM_ACT_TANH */
    float leaky_slope;                     /**< in [0, 1); default 0.2 */
    int32_t patch;                         /**< the low-resolution side of gm_sr_patches' patches,
                                                scale * patch at most GM_SR_MAX_PATCH; default 17 */
    int32_t pixel_loss;                    /**< gm_sr_loss; default GM_SR_MSE */
    float adv_weight;                      /**< the adversarial loss's weight against the pixel loss,
                                                >= 0; default 0: no discriminator */
    int32_t adv_loss;                      /**< gm_gan_loss of the adversarial game, not
                                                GM_GAN_WGAN_GP; default GM_GAN_NONSATURATING */
    int32_t n_disc_conv;                   /**< the discriminator's stride-2 convolutions (4x4, padding
                                                1) over a high-resolution patch, 1..GM_MAX_CONV; then a
                                                dense layer of 256 and the logit; default 3 */
    int32_t disc_channels[GM_MAX_CONV];    /**< their channels; default {32, 64, 128} */
    int32_t disc_norm;                     /**< gm_normalization of the discriminator: NONE or
                                                SPECTRAL (default) */
    gm_optimizer_config optim;             /**< the upscaler's; default Adam, lr 1e-3 */
    gm_optimizer_config disc_optim;        /**< the discriminator's; default Adam, lr 1e-4,
                                                betas (0.5, 0.999) */
    uint64_t seed;                         /**< weights and every random draw; default 0 */
} gm_sr_config;

/** What one training step saw. */
typedef struct gm_sr_losses {
    double pixel;    /**< the pixel loss */
    double g_adv;    /**< the upscaler's adversarial loss, unweighted (0 without a discriminator) */
    double d_loss;   /**< the discriminator's loss (0 without one) */
} gm_sr_losses;

/** Fill cfg with the defaults above (the ESPCN on Y, MSE, no
 * discriminator). The macro passes the caller's struct size. */
#define gm_sr_config_init(cfg) gm_sr_config_init_size((cfg), sizeof *(cfg))
/** What gm_sr_config_init expands to, for bindings that cannot use the
 * macro: size is the caller's sizeof(*cfg). A NULL cfg or a size below
 * sizeof(size_t) or above GM_MAX_STRUCT_SIZE: nothing is written. */
GM_API void gm_sr_config_init_size(gm_sr_config *cfg, size_t size);

/** Create an upscaler with freshly initialised weights (PyTorch's
 * defaults, from cfg->seed). On failure *out is NULL: GM_ERR_INVALID_ARG
 * names the field, GM_ERR_VERSION for a config from a newer library,
 * GM_ERR_NO_MEMORY. Thread-safe (no handle yet). */
GM_API gm_status gm_sr_create(const gm_sr_config *cfg, gm_sr **out);

/** Release an upscaler and its threads; NULL is a no-op. */
GM_API void gm_sr_free(gm_sr *sr);

/** Copy the handle's config into *cfg, as gm_gan_get_config does. */
GM_API gm_status gm_sr_get_config(const gm_sr *sr, gm_sr_config *cfg);

/** Training steps made so far; 0 for a NULL sr. */
GM_API int64_t gm_sr_step_count(const gm_sr *sr);

/** Change the learning rates for later steps (optim.lr and
 * disc_optim.lr, which a checkpoint saves). GM_ERR_INVALID_ARG for a NULL
 * sr or a rate that is not finite and > 0. */
GM_API gm_status gm_sr_set_lr(gm_sr *sr, float lr, float disc_lr);

/** n training pairs from the images of ds (an image dataset, of any sizes;
 * gm_dataset_image): for each, an image at random, a square crop of
 * scale * patch pixels at random within it, as hi (n, scale * patch,
 * scale * patch, channels), and its bicubic downscale as lo (n, patch,
 * patch, channels). A model on Y takes the luminance of gm_sr_upscale's
 * YCbCr, a grey image's as R = G = B; a model on RGB needs RGB images. GM_ERR_INVALID_ARG for a NULL argument, n
 * < 1, a dataset that is not of images, an RGB model on grey images, or
 * an image smaller than the crop (named by its index). */
GM_API gm_status gm_sr_patches(gm_sr *sr, const gm_dataset *ds, int32_t n, float *lo, float *hi);

/** One optimizer step on n pairs: lo (n, h, w, channels) and hi (n,
 * scale h, scale w, channels), values in [0, 1]. Any h and w in
 * [1, GM_SR_MAX_PATCH / scale] without a discriminator; the config's
 * patch with one (its dense layer fixes the size). With a discriminator,
 * one update of it (hi against the upscaled lo), then one of the
 * upscaler. Fills *losses unless NULL. A non-finite loss or gradient is
 * GM_ERR_NUMERIC and changes nothing. The second step at a size already
 * seen allocates nothing. */
GM_API gm_status gm_sr_train_step(gm_sr *sr, const float *lo, const float *hi, int32_t n, int32_t h, int32_t w,
                                  gm_sr_losses *losses);

/** Upscale one image x (h, w, c), c 1 or 3, into y (scale h, scale w, c),
 * clamped to [0, 1]. A model on Y upscales a colour image's luminance and
 * takes its chroma (YCbCr of ITU-R BT.601, studio range) by bicubic
 * interpolation, and a grey image's as R = G = B; a model on RGB needs
 * c = 3. Any size from 1 x 1 up to
 * GM_MAX_DIM pixels a side (and the output's floats within SIZE_MAX): it
 * runs in tiles of at most 128 x 128 pixels, overlapping by the network's
 * reach, whose results equal those of the whole image at once; after the
 * first image of a size, no allocation per tile. */
GM_API gm_status gm_sr_upscale(gm_sr *sr, const float *x, int32_t h, int32_t w, int32_t c, float *y);

/** How an upscaler fares on a set of images (gm_sr_evaluate). */
typedef struct gm_sr_scores {
    int32_t images;        /**< how many were measured */
    double psnr;           /**< the model's mean PSNR (dB) */
    double ssim;           /**< the model's mean SSIM */
    double bicubic_psnr;   /**< bicubic interpolation's mean PSNR, on the same images */
    double bicubic_ssim;   /**< bicubic interpolation's mean SSIM */
} gm_sr_scores;

/** Measure the upscaler as the field does: each image of ds cropped to a
 * multiple of scale, downscaled by bicubic, upscaled by the model and by
 * bicubic, and both compared with the original on the luminance Y (RGB)
 * or of R = G = B (grey), scale pixels of border cropped: PSNR (peak 1) and
 * SSIM (Gaussian 11 x 11, sigma 1.5), as scikit-image computes them.
 * GM_ERR_INVALID_ARG for a NULL argument, a dataset that is not of
 * images, an RGB model on grey images, or an image too small to measure
 * (its low-resolution side below 1 pixel or its cropped side below 11). */
GM_API gm_status gm_sr_evaluate(gm_sr *sr, const gm_dataset *ds, gm_sr_scores *scores);

#ifdef __cplusplus
}
#endif

#endif
