/* Losses. Legend: N samples, D dimensions, C classes, Z latent dimensions.
 * The forward part writes loss (N): each sample's loss summed over its
 * dimensions, in double. The backward part WRITES (does not accumulate)
 * scale * dloss/dinput. The likelihoods of a training step compute both in
 * one pass (the backward part is skipped when its output is NULL); the
 * others are _forward/_backward pairs. */
#ifndef GM_CORE_LOSS_H
#define GM_CORE_LOSS_H

#include <stddef.h>
#include <stdint.h>

/* Binary cross-entropy of a Bernoulli with logits (N, D) against targets
 * in [0, 1]; dlogits (N, D) unless NULL. */
void gm_bce_logits(double *loss, float *dlogits, const float *logits, const float *target, float scale,
                   int N, int D);
/* The same over D columns of wider matrices whose rows are ld floats apart
 * (all three alike): loss gets each row's sum over those columns. */
void gm_bce_logits_ld(double *loss, float *dlogits, const float *logits, const float *target, float scale,
                      int N, int D, int ld);

/* Gaussian negative log-likelihood of target under N(mean, exp(logvar)),
 * all (N, D); logvar NULL means unit variance. dmean (N, D) unless NULL;
 * dlogvar (N, D) when given a logvar. */
void gm_gaussian_nll(double *loss, float *dmean, float *dlogvar, const float *mean, const float *logvar,
                     const float *target, float scale, int N, int D);

/* Mean squared error over each sample's D dimensions. */
void gm_mse_forward(double *loss, const float *pred, const float *target, int N, int D);
void gm_mse_backward(float *dpred, const float *pred, const float *target, float scale, int N, int D);

/* Softmax cross-entropy of logits (N, C) against class labels (N) in [0, C). */
void gm_softmax_xent_forward(double *loss, const float *logits, const int32_t *labels, int N, int C);
void gm_softmax_xent_backward(float *dlogits, const float *logits, const int32_t *labels,
                              float scale, int N, int C);

/* KL(N(mu, exp(logvar)) || N(0, I)) for mu, logvar (N, Z) whose rows are ld
 * floats apart (an encoder packs each row as [mu | logvar], ld = 2Z);
 * dmu and dlogvar have the same layout. */
void gm_kl_normal_forward(double *loss, const float *mu, const float *logvar, int ld, int N, int Z);
void gm_kl_normal_backward(float *dmu, float *dlogvar, const float *mu, const float *logvar,
                           int ld, float scale, int N, int Z);

#endif
