/** @file
 * The generative adversarial network (Goodfellow et al. 2014).
 *
 * An MLP generator G maps noise z (and, for a conditional GAN, a one-hot
 * label) to a sample; an MLP discriminator D maps a sample (and the label)
 * to one logit (a critic value for the Wasserstein loss). Each training
 * step makes n_critic updates of D, then one of G.
 *
 * Arrays are row-major float: x is (n, data_dim), z (n, noise_dim), labels
 * (n) int32 in [0, n_classes), NULL for an unconditional GAN and non-NULL
 * for a conditional one.
 *
 * Inputs are checked, whole, before any work: z and x must be finite
 * (GM_ERR_INVALID_ARG naming the array, row and column; nothing is
 * written). x is not confined to [0, 1] even with a sigmoid generator:
 * the discriminator is trained on real rows plus instance noise, and a
 * GAN has no likelihood to give x a domain.
 *
 * Random draws come from the handle's seeded generator. These calls
 * advance it: train_step (each discriminator update draws n * noise_dim
 * normals for G's noise, 2 * n * data_dim for instance noise while its
 * sigma > 0, n uniforms for WGAN-GP's interpolation; the generator update
 * n * data_dim for instance noise while sigma > 0; none if the step
 * fails), sample (n * noise_dim normals) and shuffle (n - 1 integers).
 * generate and discriminate do not: they are deterministic.
 *
 * Every call on a handle (common.h has the rules all calls keep):
 * - Ownership: the caller allocates every array, the outputs with the
 *   shapes each function gives; the handle keeps no pointer to any.
 * - Failure: GM_ERR_INVALID_ARG for a NULL gan, a NULL array the call
 *   needs (only the ones a function says may be NULL may be), n < 1,
 *   labels as above, or an input that is not finite; GM_ERR_NO_MEMORY when
 *   the handle's workspace or thread team must grow (the first time it
 *   sees a larger batch, up to 1024 rows for inference). On failure
 *   nothing is written and the handle is as it was, random state included.
 * - Threads: one call at a time on a handle; different handles at once. */
#ifndef GENMODEL_GAN_H
#define GENMODEL_GAN_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An opaque GAN: created by gm_gan_create, gm_gan_load or
 * gm_gan_load_buffer, owned by the caller and released by gm_gan_free.
 * One call at a time on a handle (every call writes its workspace);
 * different handles may be used from different threads at once (common.h,
 * Threads). */
typedef struct gm_gan gm_gan;

/** The adversarial loss (gm_gan_config's loss). */
typedef enum gm_gan_loss {
    GM_GAN_NONSATURATING = 0,  /**< D: cross-entropy; G minimises -log D(G(z)) */
    GM_GAN_MINIMAX = 1,        /**< D: cross-entropy; G minimises log(1 - D(G(z))), as in the paper */
    GM_GAN_HINGE = 2,          /**< D: relu(1 - D(x)) + relu(1 + D(G(z))); G: -D(G(z)) */
    GM_GAN_LSGAN = 3,          /**< least squares: D pulls real to 1 and fake to 0; G pulls fake to 1 */
    GM_GAN_WGAN_GP = 4         /**< Wasserstein critic with a gradient penalty (Gulrajani et al. 2017) */
} gm_gan_loss;

#define GM_GAN_MAX_HIDDEN 4  /**< the most hidden layers a network of the GAN may have */
#define GM_GAN_MAX_MBSTD_GROUP 64  /**< the largest minibatch_std group */

/** How to build and train a GAN: fill it with gm_gan_config_init, change
 * what you need, pass it to gm_gan_create. The fields' limits are checked
 * there; the defaults are the ones given with each field. */
typedef struct gm_gan_config {
    size_t struct_size;                    /**< set by gm_gan_config_init */
    int32_t data_dim;                      /**< D, 1..GM_MAX_DIM; default 784 */
    int32_t noise_dim;                     /**< Z, 1..GM_MAX_DIM; default 64 */
    int32_t n_gen_hidden;                  /**< generator hidden layers, 0..4; default 2 */
    int32_t gen_hidden[GM_GAN_MAX_HIDDEN]; /**< their widths (1..GM_MAX_DIM), noise side first;
                                                default {256, 512} */
    int32_t n_disc_hidden;                 /**< discriminator hidden layers, 0..4; default 2 */
    int32_t disc_hidden[GM_GAN_MAX_HIDDEN];/**< their widths (1..GM_MAX_DIM), data side first;
                                                default {512, 256} */
    int32_t activation;                    /**< gm_activation of hidden layers; default GM_ACT_LEAKY_RELU */
    float leaky_slope;                     /**< in [0, 1); default 0.2 */
    int32_t gen_output;                    /**< GM_ACT_SIGMOID (data in [0, 1], default) or GM_ACT_TANH ([-1, 1]) */
    int32_t loss;                          /**< gm_gan_loss; default GM_GAN_HINGE */
    int32_t n_critic;                      /**< discriminator updates per generator update, >= 1; default 1 */
    float gp_weight;                       /**< WGAN-GP penalty weight lambda; default 10 */
    float label_smoothing;                 /**< one-sided: real target 1 - s for the cross-entropy
                                                and least-squares losses, in [0, 0.5); default 0 */
    float instance_noise;                  /**< sigma of Gaussian noise added to D's inputs, >= 0; default 0
                                              (0.1 before 0.2, when D had no spectral normalization) */
    int32_t noise_anneal_steps;            /**< sigma decays linearly to 0 over this many steps (0: constant);
                                                default 10000 */
    float ema_decay;                       /**< EMA of the generator's weights for sampling, in [0, 1); 0: off;
                                                default 0.999. Warmed up: the update after generator
                                                step t uses min(ema_decay, (t - 1) / (t + 9)), so the
                                                first copies the weights and early averages are not
                                                dominated by the initial ones (docs/gan.md) */
    int32_t n_classes;                     /**< 1..GM_MAX_CLASSES (65536): conditional on a one-hot
                                                label; default 0, unconditional */
    gm_optimizer_config gen_optim;         /**< default Adam, lr 2e-4, betas (0.5, 0.999) */
    gm_optimizer_config disc_optim;        /**< default Adam, lr 2e-4, betas (0.5, 0.999) */
    uint64_t seed;                         /**< weights and every random draw; default 0 */
    /* Since 0.2: convolutional networks. Zero in all of them (the default)
     * keeps the MLP of the fields above; see docs/conv.md. */
    int32_t image_channels;                /**< the images each row of x holds, as (height, width,
                                              channels) with the channel fastest (NHWC); 0: x is a
                                              flat vector. c * h * w must be data_dim */
    int32_t image_height;                  /**< h, with image_channels */
    int32_t image_width;                   /**< w, with image_channels */
    int32_t n_conv;                        /**< the discriminator's stride-2 convolutions (4x4,
                                              padding 1), 0..GM_MAX_CONV; default 0. Its hidden
                                              layers follow them; the generator mirrors them: its
                                              hidden layers, a dense projection to the last conv's
                                              output shape, then transposed convolutions back to
                                              the image */
    int32_t conv_channels[GM_MAX_CONV];    /**< their output channels (1..GM_MAX_DIM), image side
                                              first */
    int32_t gen_norm;                      /**< gm_normalization of the generator's hidden layers
                                              (dense and conv, all but the output): NONE (default)
                                              or BATCH */
    int32_t disc_norm;                     /**< of the discriminator's: SPECTRAL (the default since
                                              0.2; a checkpoint without the field holds NONE), on
                                              every layer; NONE; or BATCH, after its convolutions
                                              but the first, each batch of real or generated
                                              samples normalized alone (not with GM_GAN_WGAN_GP,
                                              whose penalty is per sample) */
    int32_t minibatch_std;                 /**< the group size of a minibatch-standard-deviation
                                              feature (Karras et al. 2018) before the discriminator's
                                              last layer, 0 (default, none) or
                                              2..GM_GAN_MAX_MBSTD_GROUP; a training batch must split
                                              into groups of it (an inference batch's last group may
                                              be smaller); not with GM_GAN_WGAN_GP */
} gm_gan_config;

/** What one training step saw, from its last discriminator update and its
 * generator update. d_real and d_fake are mean probabilities D(x) and
 * D(G(z)) for the cross-entropy losses, mean raw outputs for the others. */
typedef struct gm_gan_losses {
    double d_loss;   /**< the discriminator's loss, penalty included */
    double g_loss;   /**< the generator's loss */
    double d_real;   /**< mean D(x) */
    double d_fake;   /**< mean D(G(z)) */
    double gp;       /**< the gradient penalty term, lambda included (WGAN-GP; else 0) */
} gm_gan_losses;

/** Fill cfg with the defaults above: the reference MLP GAN's networks and
 * optimizers, with the hinge loss, instance noise and an EMA generator,
 * which cover Fashion-MNIST's classes far better than the reference's
 * non-saturating loss alone (docs/gan.md). The macro passes the caller's
 * struct size, as gm_vae_config_init does. */
#define gm_gan_config_init(cfg) gm_gan_config_init_size((cfg), sizeof *(cfg))
/** What gm_gan_config_init expands to, for bindings that cannot use the macro:
 * size is the caller's sizeof(*cfg). A NULL cfg or a size below
 * sizeof(size_t) or above GM_MAX_STRUCT_SIZE: nothing is written. Writes
 * only the size bytes at cfg; thread-safe. */
GM_API void gm_gan_config_init_size(gm_gan_config *cfg, size_t size);

/** Create a GAN with freshly initialised weights (PyTorch's defaults, from
 * cfg->seed). On failure *out is NULL: GM_ERR_INVALID_ARG names the field
 * (a size beyond its limit in common.h, or generator and discriminator
 * together beyond GM_MAX_PARAMS weights), GM_ERR_VERSION for a config from
 * a newer library, GM_ERR_NO_MEMORY. Also GM_ERR_INVALID_ARG for a NULL cfg
 * or out or a struct_size out of range (docs/conventions.md). cfg is
 * copied; on success *out is a new handle the caller releases with
 * gm_gan_free. Thread-safe (no handle yet). */
GM_API gm_status gm_gan_create(const gm_gan_config *cfg, gm_gan **out);

/** Release a GAN: its memory and its threads (joined here); NULL is a
 * no-op. No other call may be using it. */
GM_API void gm_gan_free(gm_gan *gan);

/** Copy the handle's config into *cfg (cfg->struct_size must be set, as
 * gm_gan_config_init does; only that many bytes are written, and bytes past
 * the struct this library knows are left as they are). The config is the
 * one the handle was created or loaded with, with the learning rates
 * gm_gan_set_lr last set. GM_ERR_INVALID_ARG for a NULL gan or cfg or a
 * struct_size below the first published struct's or above
 * GM_MAX_STRUCT_SIZE; nothing is written then. */
GM_API gm_status gm_gan_get_config(const gm_gan *gan, gm_gan_config *cfg);

/** Training steps (generator updates) made so far; 0 for a NULL gan (a
 * count, not a status, so it has no error to return). */
GM_API int64_t gm_gan_step_count(const gm_gan *gan);

/** Change the learning rates for later steps: the config's gen_optim.lr
 * and disc_optim.lr, which gm_gan_get_config returns and a checkpoint
 * saves. GM_ERR_INVALID_ARG for a NULL gan or a rate that is not finite
 * and > 0; both rates stay then. */
GM_API gm_status gm_gan_set_lr(gm_gan *gan, float gen_lr, float disc_lr);

/** x_out (n, data_dim) = G(z), z (n, noise_dim) finite, labels (n) for a
 * conditional GAN, else NULL. use_ema is 0 (the generator's current
 * weights) or 1 (their moving average); any other value, or 1 on a GAN
 * created with ema_decay = 0, which keeps no average, is
 * GM_ERR_INVALID_ARG rather than a silent fallback to the current weights.
 * Errors as in the file's notes. Deterministic. */
GM_API gm_status gm_gan_generate(gm_gan *gan, const float *z, const int32_t *labels, int32_t n,
                                 int32_t use_ema, float *x_out);

/** logits (n floats) = D(x): the discriminator's logit, or the critic's
 * value, for x (n, data_dim) and labels (n) or NULL. x must be finite (any
 * finite value). Errors as in the file's notes. Deterministic. */
GM_API gm_status gm_gan_discriminate(gm_gan *gan, const float *x, const int32_t *labels, int32_t n,
                                     float *logits);

/** One alternating step on the real batch x (n, data_dim), n at most
 * 2^30 - 1 (the discriminator sees 2n rows at once): n_critic updates
 * of D (each on this batch against fresh samples of G; a conditional GAN
 * generates them with the batch's labels), then one update of G. Fills
 * *losses unless it is NULL. A non-finite value (NaN in x, or a diverging
 * loss) returns GM_ERR_INVALID_ARG or GM_ERR_NUMERIC and changes nothing:
 * both networks, their optimizer state and the random state stay as they
 * were. A step at a batch size already seen allocates no memory. labels
 * (n) for a conditional GAN, else NULL. GM_ERR_INVALID_ARG also for an n
 * that is not a multiple of minibatch_std, n < 2 where batch
 * normalization would see one value per feature, and, with an all-reduce
 * hook, size * n above 2^30 - 1; a hook's failure is the step's status
 * (see gm_allreduce_fn). On any failure *losses is not written; the other
 * errors are as in the file's notes. */
GM_API gm_status gm_gan_train_step(gm_gan *gan, const float *x, const int32_t *labels, int32_t n,
                                   gm_gan_losses *losses);

/** Make this handle worker rank of size in a data-parallel run, as
 * gm_vae_set_allreduce does for a VAE (see gm_allreduce_fn): each step's
 * n real rows are the worker's share of a global batch of size * n, its
 * noise, instance noise and interpolation weights those of its rows; fn
 * is called for each discriminator update and for the generator's. A
 * minibatch-stddev discriminator groups rows within each worker's share
 * (the same groups as one process when n is a multiple of the group).
 * GM_ERR_INVALID_ARG for a NULL gan, size < 1, rank outside [0, size), or
 * size > 1 without fn; the previous setting stays then. Neither fn nor the
 * rank is saved in a checkpoint. The handle keeps fn and ctx until they
 * are replaced or it is freed (ctx stays the caller's, and must outlive
 * its use). */
GM_API gm_status gm_gan_set_allreduce(gm_gan *gan, gm_allreduce_fn fn, void *ctx, int32_t rank, int32_t size);

/** n samples of G, x_out (n, data_dim), for noise drawn from the handle's
 * generator (n * noise_dim normals); through the EMA weights when the GAN
 * keeps them (ema_decay > 0), else through the current weights. labels (n)
 * names each sample's class in a conditional GAN; NULL in an
 * unconditional one. Errors as in the file's notes. */
GM_API gm_status gm_gan_sample(gm_gan *gan, const int32_t *labels, int32_t n, float *x_out);

/** A uniformly random permutation of 0..n-1 into order (n int32_t), from
 * the handle's generator: the shuffled order of an epoch. Draws n - 1
 * integers. GM_ERR_INVALID_ARG for a NULL gan or order, or n < 1. */
GM_API gm_status gm_gan_shuffle(gm_gan *gan, int32_t *order, int32_t n);

#ifdef __cplusplus
}
#endif

#endif
