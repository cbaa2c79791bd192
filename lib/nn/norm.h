/* The normalising layers' kernels: batch normalization, spectral
 * normalization of a weight, and the minibatch standard deviation feature.
 * Legend: R rows (N*H*W of an NHWC batch, N of a flat one), C channels;
 * N batch, P pixels per sample (H*W, 1 for flat), G group size; O and I a
 * weight matrix's rows and columns.
 * As in conv.h, a team member calls them on its channels [c0, c1) (rows
 * [o0, o1) of a weight) and writes only those; nothing here allocates,
 * fails or checks its inputs. Sums are taken in double. */
#ifndef GM_NN_NORM_H
#define GM_NN_NORM_H

#include <stdbool.h>

#include "core/rng.h"

#define GM_BN_EPS 1e-5         /* PyTorch's BatchNorm defaults */
#define GM_BN_MOMENTUM 0.1
#define GM_SN_EPS 1e-12        /* torch.nn.utils.spectral_norm's */
#define GM_MBSTD_EPS 1e-8      /* inside the square root, as StyleGAN's */

/* --- Batch normalization (PyTorch's BatchNorm1d/2d in training and eval
 * mode) with an activation fused after it: y = f(gamma * xhat + beta). --- */

/* Channels [c0, c1) of y (R, C) from x (R, C) with the batch's statistics:
 * mean and inv_std = 1/sqrt(var + eps) (C), var the biased variance, are
 * written for the backward; run_mean and run_var (C) move a momentum's
 * step toward mean and the unbiased variance var * R/(R - 1). R >= 2
 * (PyTorch refuses one value per channel in training; so must a layer). */
void gm_bn_forward_train(float *y, float *mean, float *inv_std, float *run_mean, float *run_var, const float *x,
                         const float *gamma, const float *beta, int R, int C, int c0, int c1, int act, float slope);

/* The same with the running statistics, which it leaves as they are. */
void gm_bn_forward_infer(float *y, const float *x, const float *gamma, const float *beta, const float *run_mean,
                         const float *run_var, int R, int C, int c0, int c1, int act, float slope);

/* Backward of gm_bn_forward_train over the channels [c0, c1), given its x,
 * y, mean and inv_std: dy holds dL/dy on entry and dL/d(pre-activation) on
 * return, in the share's channels; dx's channels [c0, c1) are written (the
 * whole gradient there, not a part: the statistics mix rows, not
 * channels; dx may be dy); dgamma and dbeta's entries are written over, or
 * added to when accumulate (either may be NULL). */
void gm_bn_backward(float *dx, float *dgamma, float *dbeta, bool accumulate, float *dy, const float *x,
                    const float *y, const float *mean, const float *inv_std, const float *gamma, int R, int C,
                    int c0, int c1, int act, float slope);

/* --- Spectral normalization (Miyato et al. 2018), as
 * torch.nn.utils.spectral_norm with one power iteration: the layer uses
 * W_sn = W / sigma, sigma = u.(W v), and u and v are held constant in the
 * backward. W is viewed as (O, I): a conv's (out_c, K*K*in_c). --- */

/* v (I) = normalize(W^T u), then u (O) = normalize(W v), each x/max(|x|,
 * eps); returns sigma = u.(W v). u is read and updated. One thread. */
float gm_sn_power_step(float *u, float *v, const float *W, int O, int I);

/* u (O) and v (I) drawn as PyTorch draws them: normal, then normalized. */
void gm_sn_init(gm_rng *rng, float *u, float *v, int O, int I);

/* sigma = u.(W v) for the u and v as they are (no power iteration, as
 * PyTorch's eval mode); Wv (O) is scratch. One thread. */
float gm_sn_sigma(const float *u, const float *v, const float *W, int O, int I, float *Wv);

/* Rows [o0, o1) of W_sn (O, I) = W / sigma. */
void gm_sn_weight(float *W_sn, const float *W, float sigma, int I, int o0, int o1);

/* The backward turns G = dL/dW_sn (O, I) into
 *     dL/dW = G / sigma - (sum(G * W) / sigma^2) u v^T
 * in two steps, as the rows are shared: each member sums G * W over its
 * rows [o0, o1) (gm_sn_backward_dot); the parts are added, and each member
 * writes its rows of dW from the total dot (gm_sn_backward_rows), over
 * what dW held or added to it when accumulate. Written over, dW may be G. */
double gm_sn_backward_dot(const float *G, const float *W, int I, int o0, int o1);
void gm_sn_backward_rows(float *dW, bool accumulate, const float *G, const float *u, const float *v, float sigma,
                         double dot, int I, int o0, int o1);

/* --- Minibatch standard deviation (Karras et al. 2018, StyleGAN's
 * grouped form): samples in groups of G consecutive ones (N % G == 0); for
 * each group, the standard deviation over the group of every feature
 * (biased, eps inside the square root), averaged over the P*C features,
 * is one scalar, appended to every pixel of the group's samples as one
 * more channel. --- */

/* Channels [c0, c1) of y (N, P, C + 1), from x (N, P, C): channels below C
 * are x's, channel C the group's scalar (computed only by the member whose
 * share holds it, so the result does not depend on the split). */
void gm_mbstd_forward(float *y, const float *x, int N, int P, int C, int G, int c0, int c1);

/* Channels [c0, c1) of dx (N, P, C), c1 <= C, written (the whole
 * gradient there), from dy (N, P, C + 1) and x. */
void gm_mbstd_backward(float *dx, const float *dy, const float *x, int N, int P, int C, int G, int c0, int c1);

#endif
