/** @file
 * The variational autoencoder (Kingma & Welling 2013).
 *
 * An MLP encoder maps x (and, for a conditional VAE, a one-hot label) to
 * the mean and log-variance of q(z|x); z = mu + sigma * eps; an MLP decoder
 * maps z (and the label) back to the likelihood's parameters. Training
 * minimises the negative ELBO, reconstruction + beta * KL(q(z|x) || N(0, I)),
 * in nats per sample.
 *
 * Arrays are row-major float: x is (n, input_dim), z, mu and logvar are
 * (n, latent_dim), labels (n) int32 in [0, n_classes). labels must be NULL
 * for an unconditional VAE and non-NULL for a conditional one.
 *
 * Inputs are checked, whole, before any work: x must lie in the
 * likelihood's domain ([0, 1] for Bernoulli, finite for Gaussian), z, mu
 * and logvar must be finite; anything else is GM_ERR_INVALID_ARG naming
 * the array, row and column ("gm_vae_encode: x[3][17] = nan is outside
 * ..."), and nothing is written.
 *
 * Every call on a handle (common.h has the rules all calls keep):
 * - Ownership: the caller allocates every array, the outputs with the
 *   shapes each function gives; the handle keeps no pointer to any.
 * - Failure: GM_ERR_INVALID_ARG for a NULL vae, a NULL array the call
 *   needs (only the ones a function says may be NULL may be), n < 1,
 *   labels as above, an input outside its domain as above, or, in a model
 *   with standardize 1, any call that takes or returns values of x
 *   (decode, sample and manifold too) before gm_vae_fit_standardization;
 *   GM_ERR_NO_MEMORY when the handle's workspace or thread team must grow
 *   (the first time it sees a larger batch, up to 1024 rows for
 *   inference) or a call's own scratch memory cannot be had. On
 *   failure nothing is written and the handle is as it was, random state
 *   included.
 * - Threads: one call at a time on a handle; different handles at once.
 *
 * Random draws come from the handle's own seeded generator. These calls
 * advance it: train_step (n * latent_dim normal draws; none if it fails),
 * reparameterize and sample (n * latent_dim), elbo (n * latent_dim), score
 * (m * n * latent_dim), iwae (k * n * latent_dim), score_as, calibrate and
 * flag with GM_SCORE_NEG_ELBO, GM_SCORE_IWAE or GM_SCORE_COMPLEXITY
 * (m * n * latent_dim; the other kinds draw nothing) and shuffle (n - 1
 * integers). encode, decode, reconstruct, interpolate, manifold,
 * anomaly_map, fit_latent and fit_standardization do not: they are
 * deterministic. */
#ifndef GENMODEL_VAE_H
#define GENMODEL_VAE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An opaque VAE: created by gm_vae_create, gm_vae_load or
 * gm_vae_load_buffer, owned by the caller and released by gm_vae_free.
 * One call at a time on a handle (every call writes its workspace);
 * different handles may be used from different threads at once (common.h,
 * Threads). */
typedef struct gm_vae gm_vae;

/** The decoder's likelihood p(x|z) (gm_vae_config's likelihood). */
typedef enum gm_likelihood {
    GM_LIKELIHOOD_BERNOULLI = 0,  /**< x in [0, 1]; the decoder gives logits; BCE */
    GM_LIKELIHOOD_GAUSSIAN = 1    /**< N(decoder mean, I): beta plays the variance's part */
} gm_likelihood;

#define GM_VAE_MAX_HIDDEN 4  /**< the most hidden layers a network of the VAE may have */

/** How to build and train a VAE: fill it with gm_vae_config_init, change
 * what you need, pass it to gm_vae_create. The fields' limits are checked
 * there; the defaults are the ones given with each field. */
typedef struct gm_vae_config {
    size_t struct_size;                  /**< set by gm_vae_config_init */
    int32_t input_dim;                   /**< D, 1..GM_MAX_DIM; default 784 */
    int32_t latent_dim;                  /**< Z, 1..GM_MAX_DIM; default 20 */
    int32_t n_enc_hidden;                /**< encoder hidden layers, 0..4; default 1 */
    int32_t enc_hidden[GM_VAE_MAX_HIDDEN]; /**< their widths (1..GM_MAX_DIM), input side first; default {400} */
    int32_t n_dec_hidden;                /**< decoder hidden layers, 0..4; default 1 */
    int32_t dec_hidden[GM_VAE_MAX_HIDDEN]; /**< their widths (1..GM_MAX_DIM), latent side first; default {400} */
    int32_t activation;                  /**< gm_activation of hidden layers; default GM_ACT_RELU */
    float leaky_slope;                   /**< for GM_ACT_LEAKY_RELU, in [0, 1); default 0.01 */
    int32_t likelihood;                  /**< gm_likelihood; default GM_LIKELIHOOD_BERNOULLI */
    float beta;                          /**< weight of the KL term, >= 0; default 1 */
    int32_t n_classes;                   /**< 1..GM_MAX_CLASSES (65536): conditional on a one-hot
                                              label; default 0, unconditional */
    gm_optimizer_config optim;           /**< default Adam, lr 1e-3, betas (0.9, 0.999), eps 1e-8 */
    uint64_t seed;                       /**< weights and every random draw; default 0 */
    /* Since 0.2: convolutional networks. Zero in all of them (the default)
     * keeps the MLP of the fields above; see docs/conv.md. */
    int32_t image_channels;              /**< the images each row of x holds, as (height, width,
                                              channels) with the channel fastest (NHWC); 0: x is a
                                              flat vector. c * h * w must be input_dim */
    int32_t image_height;                /**< h, with image_channels */
    int32_t image_width;                 /**< w, with image_channels */
    int32_t n_conv;                      /**< the encoder's stride-2 convolutions (4x4, padding 1),
                                              0..GM_MAX_CONV; default 0. The hidden layers follow
                                              them; the decoder mirrors them: its hidden layers, a
                                              dense projection to the last conv's output shape,
                                              then transposed convolutions back to the image */
    int32_t conv_channels[GM_MAX_CONV];  /**< their output channels (1..GM_MAX_DIM), image side
                                              first */
    int32_t normalization;               /**< gm_normalization after the convolutions but the
                                              encoder's first and the decoder's last: NONE (default)
                                              or BATCH */
    int32_t scoring;                     /**< 1 (default): keep what the scores fit, saved with the
                                              model: the latent score's aggregate posterior
                                              (gm_vae_fit_latent) and a calibrated threshold
                                              (gm_vae_calibrate); 0: neither. A file written before
                                              0.3 has 0 */
    int32_t standardize;                 /**< 1: the model standardizes each column of x by the mean
                                              and standard deviation gm_vae_fit_standardization fits
                                              on the training data (saved with the model); calls that
                                              return values of x (decode, sample, reconstruct, ...)
                                              map them back. For tables; needs the Gaussian
                                              likelihood. Default 0 */
    int32_t latent_bank;                 /**< with scoring: how many training rows' posterior means
                                              gm_vae_fit_latent keeps for GM_SCORE_LATENT_KNN (evenly
                                              spaced among more), 0..GM_VAE_MAX_BANK; default 8192.
                                              0 keeps none. A file written before 0.3 has 0 */
} gm_vae_config;

/** The largest latent_bank. */
#define GM_VAE_MAX_BANK (1 << 20)

/** Loss terms of a batch, averaged over its samples, in nats. */
typedef struct gm_vae_losses {
    double loss;       /**< the objective: recon + beta * kl */
    double neg_elbo;   /**< recon + kl: the negative evidence lower bound */
    double recon;      /**< -log p(x|z) for one draw of z */
    double kl;         /**< KL(q(z|x) || N(0, I)), exact */
} gm_vae_losses;

/** Fill cfg with the defaults above (the 784-400-20 MLP of the paper).
 * The macro passes the size of the struct the caller was compiled with, so
 * a newer library never writes past it; bindings call the function. */
#define gm_vae_config_init(cfg) gm_vae_config_init_size((cfg), sizeof *(cfg))
/** What gm_vae_config_init expands to, for bindings that cannot use the macro:
 * size is the caller's sizeof(*cfg). A NULL cfg or a size below
 * sizeof(size_t) or above GM_MAX_STRUCT_SIZE: nothing is written. Writes
 * only the size bytes at cfg; thread-safe. */
GM_API void gm_vae_config_init_size(gm_vae_config *cfg, size_t size);

/** Create a VAE with freshly initialised weights (PyTorch's defaults, from
 * cfg->seed). On failure *out is NULL: GM_ERR_INVALID_ARG names the field
 * (a size beyond its limit in common.h, or encoder and decoder together
 * beyond GM_MAX_PARAMS weights), GM_ERR_VERSION for a config from a newer
 * library, GM_ERR_NO_MEMORY. Also GM_ERR_INVALID_ARG for a NULL cfg or out
 * or a struct_size out of range (docs/conventions.md). cfg is copied; on
 * success *out is a new handle the caller releases with gm_vae_free.
 * Thread-safe (no handle yet). */
GM_API gm_status gm_vae_create(const gm_vae_config *cfg, gm_vae **out);

/** Release a VAE: its memory and its threads (joined here); NULL is a
 * no-op. No other call may be using it. */
GM_API void gm_vae_free(gm_vae *vae);

/** Copy the handle's config into *cfg (cfg->struct_size must be set, as
 * gm_vae_config_init does; only that many bytes are written, and bytes past
 * the struct this library knows are left as they are). The config is the
 * one the handle was created or loaded with, with optim.lr as
 * gm_vae_set_lr last set it. GM_ERR_INVALID_ARG for a NULL vae or cfg or a
 * struct_size below the first published struct's or above
 * GM_MAX_STRUCT_SIZE; nothing is written then. */
GM_API gm_status gm_vae_get_config(const gm_vae *vae, gm_vae_config *cfg);

/** Optimizer updates applied so far; 0 for a NULL vae (a count, not a
 * status, so it has no error to return). */
GM_API int64_t gm_vae_step_count(const gm_vae *vae);

/** Change the learning rate for later steps (a schedule): the config's
 * optim.lr, which gm_vae_get_config returns and a checkpoint saves.
 * GM_ERR_INVALID_ARG for a NULL vae or an lr that is not finite and > 0;
 * the rate stays then. */
GM_API gm_status gm_vae_set_lr(gm_vae *vae, float lr);

/** Fit the standardization of a config with standardize 1: the mean and
 * the standard deviation (population) of each column of x over its n >= 2
 * rows, the training data. Kept with the model and saved with it; every
 * call that takes x needs it. GM_ERR_INVALID_ARG names a constant column
 * (it carries nothing to model: drop it) or a non-finite cell, and refuses
 * a model that has trained (its weights learnt the statistics it has).
 * x is (n, input_dim) (no labels). Before the first step it may be called
 * again, and the last fit holds. GM_ERR_INVALID_ARG also for a NULL vae or
 * x, n < 2, a config with standardize 0, or a column whose spread
 * overflows a float; GM_ERR_NO_MEMORY. On failure the statistics it had
 * are kept. No random draws. */
GM_API gm_status gm_vae_fit_standardization(gm_vae *vae, const float *x, int32_t n);

/** q(z|x): mu and logvar (n, latent_dim) of each sample of x (n,
 * input_dim), with labels (n) for a conditional VAE, else NULL. mu and
 * logvar are written; neither may be NULL. Errors as in the file's notes.
 * Deterministic. */
GM_API gm_status gm_vae_encode(gm_vae *vae, const float *x, const int32_t *labels, int32_t n,
                               float *mu, float *logvar);

/** z = mu + exp(logvar / 2) * eps with eps ~ N(0, I) from the handle's
 * generator; mu, logvar and z all (n, latent_dim), mu and logvar finite
 * (else GM_ERR_INVALID_ARG naming the value). No labels. Draws
 * n * latent_dim normals; errors as in the file's notes. */
GM_API gm_status gm_vae_reparameterize(gm_vae *vae, const float *mu, const float *logvar, int32_t n,
                                       float *z);

/** The decoder's mean for each z (n, latent_dim, finite): probabilities
 * (Bernoulli) or means (Gaussian), x_out (n, input_dim); labels (n) for a
 * conditional VAE, else NULL. Errors as in the file's notes.
 * Deterministic. */
GM_API gm_status gm_vae_decode(gm_vae *vae, const float *z, const int32_t *labels, int32_t n,
                               float *x_out);

/** One optimizer update on the batch x (n, input_dim); fills *losses (may be
 * NULL) with the batch's averages from before the update. Inputs outside
 * the likelihood's domain (NaN, or outside [0, 1] for Bernoulli) are
 * refused with GM_ERR_INVALID_ARG before any work. A non-finite loss or
 * gradient returns GM_ERR_NUMERIC and changes nothing: weights, optimizer
 * state and random state stay as they were. A step at a batch size already
 * seen allocates no memory. labels (n) for a conditional VAE, else NULL.
 * n must be >= 2 when batch normalization would see one value per feature
 * (a normalized dense layer), and, with an all-reduce hook, size * n at
 * most 2^31 - 1 (GM_ERR_INVALID_ARG). A hook's failure is the
 * step's status (see gm_allreduce_fn). On any failure *losses is not
 * written; the other errors are as in the file's notes. */
GM_API gm_status gm_vae_train_step(gm_vae *vae, const float *x, const int32_t *labels, int32_t n,
                                   gm_vae_losses *losses);

/** Make this handle worker rank of size in a data-parallel run whose
 * workers average through fn (see gm_allreduce_fn for the whole contract):
 * from the next training step on, each step's n rows are rows
 * [rank * n, (rank + 1) * n) of a global batch of size * n rows, and the
 * step reproduces a single process's step on that batch to float rounding.
 * fn NULL (with rank 0, size 1) makes the handle a single process again.
 * GM_ERR_INVALID_ARG for a NULL vae, size < 1, rank outside [0, size), or
 * size > 1 without fn. Batch normalization takes each worker's own rows'
 * statistics (as PyTorch's DDP without SyncBatchNorm). Neither fn nor the
 * rank is saved in a checkpoint: a loaded handle is a single process. The
 * handle keeps fn and ctx until they are replaced or it is freed (ctx
 * stays the caller's, and must outlive its use); on failure the previous
 * setting stays. */
GM_API gm_status gm_vae_set_allreduce(gm_vae *vae, gm_allreduce_fn fn, void *ctx, int32_t rank, int32_t size);

/** The evidence lower bound of each sample of x (n, input_dim), elbo (n
 * doubles, not NULL), from one draw of z; no update. labels (n) for a
 * conditional VAE, else NULL. Averages over the n samples go to *losses
 * unless it is NULL (written only on success). Draws n * latent_dim
 * normals; errors as in the file's notes. */
GM_API gm_status gm_vae_elbo(gm_vae *vae, const float *x, const int32_t *labels, int32_t n,
                             double *elbo, gm_vae_losses *losses);

/** The importance-weighted bound with k >= 1 samples (Burda et al. 2015),
 * log_px (n doubles): an estimate of log p(x) that tightens as k grows,
 * for x (n, input_dim) and labels (n) or NULL. k < 1 is
 * GM_ERR_INVALID_ARG. Draws k * n * latent_dim normals; errors as in the
 * file's notes. */
GM_API gm_status gm_vae_iwae(gm_vae *vae, const float *x, const int32_t *labels, int32_t n, int32_t k,
                             double *log_px);

/** n new samples from the prior, x_out (n, input_dim), as decoder means.
 * For a conditional VAE labels (n) names each sample's class; NULL for an
 * unconditional one. Draws n * latent_dim normals; errors as in the file's
 * notes. */
GM_API gm_status gm_vae_sample(gm_vae *vae, const int32_t *labels, int32_t n, float *x_out);

/** Decode each sample's posterior mean: x (n, input_dim) in, x_out (n,
 * input_dim) out; labels (n) for a conditional VAE, else NULL. Errors as
 * in the file's notes. Deterministic. */
GM_API gm_status gm_vae_reconstruct(gm_vae *vae, const float *x, const int32_t *labels, int32_t n,
                                    float *x_out);

/** Anomaly score of each sample of x (n, input_dim), scores (n doubles):
 * the negative ELBO averaged over m >= 1 draws of z (m < 1 is
 * GM_ERR_INVALID_ARG). labels (n) or NULL. Higher means less like the
 * training data. Draws m * n * latent_dim normals; errors as in the file's
 * notes. */
GM_API gm_status gm_vae_score(gm_vae *vae, const float *x, const int32_t *labels, int32_t n, int32_t m,
                              double *scores);

/** Interpolation walks between pairs of inputs: for pair i, a[i] and b[i]
 * (n rows each), decode `steps` >= 2 evenly spaced points from a[i]'s
 * posterior mean to b[i]'s, both ends included, into out (n * steps,
 * input_dim), pair after pair. a and b are (n, input_dim). For a
 * conditional VAE labels (n) holds each pair's class, used to encode both
 * ends and to decode the walk; NULL for an unconditional one. n * steps at
 * most 2^31 - 1 (else GM_ERR_INVALID_ARG); GM_ERR_NO_MEMORY for the walk's
 * scratch memory; the other errors as in the file's notes. Deterministic. */
GM_API gm_status gm_vae_interpolate(gm_vae *vae, const float *a, const float *b, const int32_t *labels, int32_t n,
                                    int32_t steps, float *out);

/** The manifold of a VAE with a 2-D latent space (latent_dim 2, else
 * GM_ERR_INVALID_ARG): decode a side x side lattice of the prior's
 * quantiles into out (side * side, input_dim), row by row. The cell in row
 * r, column c decodes z = (q(c), q(side - 1 - r)), q(k) = the standard
 * normal's quantile at (k + 0.5) / side: z_1 grows to the right, z_2
 * upwards. label is the class of a conditional VAE, -1 for an
 * unconditional one. side in [1, 4096]; a side or label out of range, a
 * NULL vae or out is GM_ERR_INVALID_ARG; GM_ERR_NO_MEMORY for the lattice's
 * scratch memory. Deterministic. */
GM_API gm_status gm_vae_manifold(gm_vae *vae, int32_t side, int32_t label, float *out);

/** What gm_vae_score_as computes for each row; higher is always less like
 * the training data (docs/anomaly.md). */
typedef enum gm_score_kind {
    GM_SCORE_NEG_ELBO = 0,        /**< the negative ELBO averaged over m draws of z (gm_vae_score) */
    GM_SCORE_IWAE = 1,            /**< -log p(x), the importance-weighted estimate from m draws */
    GM_SCORE_RECONSTRUCTION = 2,  /**< -log p(x | z = mu(x)): the error of the posterior-mean
                                       reconstruction, deterministic (m is not used) */
    GM_SCORE_COMPLEXITY = 3,      /**< -log p(x) (as GM_SCORE_IWAE) minus x's complexity: the length,
                                       in nats, of its pixels rounded to 8 bits as zlib's deflate
                                       (level 9, raw) codes them (Serra et al. 2020) */
    GM_SCORE_LATENT = 4,          /**< the squared Mahalanobis distance of mu(x) from the training
                                       data's aggregate posterior (gm_vae_fit_latent; deterministic,
                                       m is not used) */
    GM_SCORE_LATENT_KNN = 5       /**< the mean distance of mu(x) to its GM_VAE_KNN nearest among
                                       the training rows' posterior means that gm_vae_fit_latent
                                       kept (latent_bank of them), in the Mahalanobis metric of their
                                       aggregate posterior; deterministic, m is not used. The
                                       default of the tool and of Python (docs/anomaly.md) */
} gm_score_kind;

/** The neighbours GM_SCORE_LATENT_KNN averages over. */
#define GM_VAE_KNN 10

/** Fit the aggregate posterior GM_SCORE_LATENT measures against: the mean
 * and the covariance of mu(x) over the n rows (the training data), the
 * covariance with a ridge of 1e-6 times its mean variance; and keep the
 * posterior means of latent_bank of the rows (all of them, or evenly
 * spaced ones of more) for GM_SCORE_LATENT_KNN. Kept with the model and
 * saved with it. Needs scoring 1 in the config and n >= 2;
 * GM_ERR_NUMERIC if the posterior means are not finite. x is (n,
 * input_dim), labels (n) or NULL. It may be called again: the last fit
 * holds. GM_ERR_INVALID_ARG for scoring 0 or n < 2, GM_ERR_NO_MEMORY for
 * its n * latent_dim doubles of scratch, the rest as in the file's notes;
 * on failure what it had fitted is kept. Deterministic. */
GM_API gm_status gm_vae_fit_latent(gm_vae *vae, const float *x, const int32_t *labels, int32_t n);

/** Anomaly score of each sample of x (n, input_dim) by kind (a
 * gm_score_kind), scores (n doubles); labels (n) or NULL; m >= 1 draws of
 * z where the kind takes them (m is not read otherwise). GM_ERR_INVALID_ARG
 * for an unknown kind, m < 1 for a kind that draws, or GM_SCORE_LATENT or
 * GM_SCORE_LATENT_KNN before gm_vae_fit_latent (or in a model that keeps
 * none); the rest as in the file's notes. Draws as in the file's notes.
 * GM_SCORE_COMPLEXITY can also fail with GM_ERR_NO_MEMORY (zlib), before
 * any draw. */
GM_API gm_status gm_vae_score_as(gm_vae *vae, int32_t kind, const float *x, const int32_t *labels, int32_t n,
                                 int32_t m, double *scores);

/** Where each sample is anomalous: map (n, input_dim), each value's own
 * term of the reconstruction score, -log p(x_j | z = mu(x)) (a map sums to
 * the GM_SCORE_RECONSTRUCTION score of its row), for x (n, input_dim) and
 * labels (n) or NULL. With standardize 1 the terms are those of the
 * standardized values. Errors as in the file's notes. Deterministic. */
GM_API gm_status gm_vae_anomaly_map(gm_vae *vae, const float *x, const int32_t *labels, int32_t n, float *map);

/** Calibrate a threshold on held-out normal rows x (n >= 2): score them by
 * kind (a gm_score_kind, m draws), keep 1001 quantiles of the scores (for
 * p-values) and the threshold that flags the fraction fpr of them, fpr in
 * (0, 1). Kept with the model and saved with it; needs scoring 1.
 * x is (n, input_dim), labels (n) or NULL. A later call replaces the
 * calibration. GM_ERR_INVALID_ARG for scoring 0, n < 2, fpr outside (0, 1)
 * or what gm_vae_score_as refuses; GM_ERR_NO_MEMORY for n doubles of
 * scratch; the rest as in the file's notes. On failure the previous
 * calibration is kept. Draws as gm_vae_score_as with kind and m. */
GM_API gm_status gm_vae_calibrate(gm_vae *vae, int32_t kind, const float *x, const int32_t *labels, int32_t n,
                                  int32_t m, float fpr);

/** Score rows as calibrated (the kind and m of gm_vae_calibrate): scores
 * (n), their empirical p-values (n; the fraction of the held-out scores at
 * or above each, from the quantiles, at least 1 / (held-out rows + 1)),
 * and flags (n; 1 where the score is above the threshold). p_values and
 * flags may be NULL. GM_ERR_INVALID_ARG before a calibration. x is (n,
 * input_dim), labels (n) or NULL; scores (n doubles) may not be NULL,
 * p_values (n doubles) and flags (n int32_t) are written unless NULL.
 * Errors and draws as gm_vae_score_as's with the calibrated kind and m. */
GM_API gm_status gm_vae_flag(gm_vae *vae, const float *x, const int32_t *labels, int32_t n, double *scores,
                             double *p_values, int32_t *flags);

/** A uniformly random permutation of 0..n-1 into order (n int32_t), from
 * the handle's generator: the shuffled order of an epoch. Draws n - 1
 * integers. GM_ERR_INVALID_ARG for a NULL vae or order, or n < 1. */
GM_API gm_status gm_vae_shuffle(gm_vae *vae, int32_t *order, int32_t n);

#ifdef __cplusplus
}
#endif

#endif
