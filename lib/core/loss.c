/* Loss kernels. Legend: N samples, D dimensions, C classes, Z latent.
 * Every loss is computed from logits or log-variances, in forms that stay
 * finite for any finite input. */
#include <math.h>
#include <stdint.h>

#include "fastmath.h"
#include "loss.h"
#include "simd.h"

#define HALF_LOG_2PI 0.91893853320467274178

/* one element's cross-entropy, and e^-|l| for its gradient:
 * -t log s(l) - (1-t) log(1-s(l)) = max(l,0) - l t + log(1 + e^-|l|), and
 * s(l) from the same e^-|l|, so neither can overflow */
static inline float bce_term(float l, float t, float *e_out)
{
    float e = exp_nonpositive(-fabsf(l));
    *e_out = e;
    return (l > 0.0f ? l : 0.0f) - l * t + log1p_unit(e);
}

static inline float bce_grad(float l, float t, float e, float scale)
{
    return scale * ((l >= 0.0f ? 1.0f : e) / (1.0f + e) - t);
}

/* Sixteen running sums, added in a fixed order: an AVX-512 vector of lanes
 * without letting the compiler reorder a float sum. The loop is written
 * twice, with and without the gradient, so that neither has a branch.
 * Each is built per vector width (simd.h). */
enum { LANES = 16 };

GM_VECTOR_CLONES static double bce_row(const float *l, const float *t, int D)
{
    float acc[LANES] = { 0 }, e;
    int d = 0;
    for (; d + LANES <= D; d += LANES)
        for (int k = 0; k < LANES; k++)
            acc[k] += bce_term(l[d + k], t[d + k], &e);
    double sum = 0.0;
    for (int k = 0; k < LANES; k++)
        sum += acc[k];
    for (; d < D; d++)
        sum += bce_term(l[d], t[d], &e);
    return sum;
}

GM_VECTOR_CLONES static double bce_row_grad(const float *l, const float *t, float *g, float scale, int D)
{
    float acc[LANES] = { 0 }, e;
    int d = 0;
    for (; d + LANES <= D; d += LANES)
        for (int k = 0; k < LANES; k++) {
            acc[k] += bce_term(l[d + k], t[d + k], &e);
            g[d + k] = bce_grad(l[d + k], t[d + k], e, scale);
        }
    double sum = 0.0;
    for (int k = 0; k < LANES; k++)
        sum += acc[k];
    for (; d < D; d++) {
        sum += bce_term(l[d], t[d], &e);
        g[d] = bce_grad(l[d], t[d], e, scale);
    }
    return sum;
}

void gm_bce_logits_ld(double *loss, float *dlogits, const float *logits, const float *target, float scale,
                      int N, int D, int ld)
{
    for (int n = 0; n < N; n++) {
        const size_t row = (size_t)n * ld;
        loss[n] = dlogits ? bce_row_grad(logits + row, target + row, dlogits + row, scale, D)
                          : bce_row(logits + row, target + row, D);
    }
}

void gm_bce_logits(double *loss, float *dlogits, const float *logits, const float *target, float scale,
                   int N, int D)
{
    gm_bce_logits_ld(loss, dlogits, logits, target, scale, N, D, D);
}

void gm_gaussian_nll(double *loss, float *dmean, float *dlogvar, const float *mean, const float *logvar,
                     const float *target, float scale, int N, int D)
{
    for (int n = 0; n < N; n++) {
        const size_t row = (size_t)n * D;
        double sum = 0.0;
        for (int d = 0; d < D; d++) {
            const size_t i = row + d;
            float diff = target[i] - mean[i];
            float lv = logvar ? logvar[i] : 0.0f;
            double inv_var = exp(-(double)lv);
            sum += HALF_LOG_2PI + 0.5 * lv + 0.5 * (double)diff * diff * inv_var;
            if (dmean)
                dmean[i] = (float)(-scale * diff * inv_var);
            if (dmean && logvar)
                dlogvar[i] = (float)(scale * 0.5 * (1.0 - (double)diff * diff * inv_var));
        }
        loss[n] = sum;
    }
}

void gm_mse_forward(double *loss, const float *pred, const float *target, int N, int D)
{
    for (int n = 0; n < N; n++) {
        size_t row = (size_t)n * D;
        double sum = 0.0;
        for (int d = 0; d < D; d++) {
            double diff = (double)pred[row + d] - target[row + d];
            sum += diff * diff;
        }
        loss[n] = sum / D;
    }
}

void gm_mse_backward(float *dpred, const float *pred, const float *target, float scale, int N, int D)
{
    float k = 2.0f * scale / (float)D;
    for (size_t i = 0; i < (size_t)N * D; i++)
        dpred[i] = k * (pred[i] - target[i]);
}

/* log sum_c exp(l_c), shifted by the maximum so no exp overflows */
static double log_sum_exp(const float *l, int C, float *max_out)
{
    float mx = l[0];
    for (int c = 1; c < C; c++)
        mx = fmaxf(mx, l[c]);
    double s = 0.0;
    for (int c = 0; c < C; c++)
        s += exp((double)l[c] - mx);
    *max_out = mx;
    return mx + log(s);
}

void gm_softmax_xent_forward(double *loss, const float *logits, const int32_t *labels, int N, int C)
{
    for (int n = 0; n < N; n++) {
        const float *l = logits + (size_t)n * C;
        float mx;
        loss[n] = log_sum_exp(l, C, &mx) - l[labels[n]];
    }
}

void gm_softmax_xent_backward(float *dlogits, const float *logits, const int32_t *labels,
                              float scale, int N, int C)
{
    for (int n = 0; n < N; n++) {
        const float *l = logits + (size_t)n * C;
        float *g = dlogits + (size_t)n * C;
        float mx;
        double lse = log_sum_exp(l, C, &mx);
        for (int c = 0; c < C; c++)
            g[c] = scale * (float)exp((double)l[c] - lse);
        g[labels[n]] -= scale;
    }
}

void gm_kl_normal_forward(double *loss, const float *mu, const float *logvar, int ld, int N, int Z)
{
    for (int n = 0; n < N; n++) {
        const float *m = mu + (size_t)n * ld, *lv = logvar + (size_t)n * ld;
        double sum = 0.0;
        for (int z = 0; z < Z; z++)
            sum += exp((double)lv[z]) + (double)m[z] * m[z] - 1.0 - lv[z];
        loss[n] = 0.5 * sum;
    }
}

void gm_kl_normal_backward(float *dmu, float *dlogvar, const float *mu, const float *logvar,
                           int ld, float scale, int N, int Z)
{
    for (int n = 0; n < N; n++) {
        size_t row = (size_t)n * ld;
        for (int z = 0; z < Z; z++) {
            dmu[row + z] = scale * mu[row + z];
            dlogvar[row + z] = scale * 0.5f * (expf(logvar[row + z]) - 1.0f);
        }
    }
}
