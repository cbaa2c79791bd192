/* Batch norm, spectral norm and the minibatch standard deviation.
 * Legend as in norm.h. Per-channel sums run over a block of at most CHUNK
 * channels at a time, row by row, so that each row's block is read as one
 * contiguous run and the double accumulators stay on the stack. */
#include <math.h>
#include <string.h>

#include "norm.h"
#include "core/act.h"
#include "core/blas.h"

enum { CHUNK = 64 };

static int chunk_end(int a, int c1)
{
    return c1 - a < CHUNK ? c1 : a + CHUNK;
}

void gm_bn_forward_train(float *y, float *mean, float *inv_std, float *run_mean, float *run_var, const float *x,
                         const float *gamma, const float *beta, int R, int C, int c0, int c1, int act, float slope)
{
    for (int a = c0; a < c1; a = chunk_end(a, c1)) {
        const int w = chunk_end(a, c1) - a;
        double sum[CHUNK] = { 0 }, sq[CHUNK] = { 0 };
        float mu[CHUNK], scale[CHUNK];
        for (int r = 0; r < R; r++) {
            const float *row = x + (size_t)r * C + a;
            for (int j = 0; j < w; j++)
                sum[j] += row[j];
        }
        /* the variance from a second pass around the mean: one pass's
         * E[x^2] - E[x]^2 cancels badly when the mean dwarfs the spread */
        for (int j = 0; j < w; j++)
            sum[j] /= R;
        for (int r = 0; r < R; r++) {
            const float *row = x + (size_t)r * C + a;
            for (int j = 0; j < w; j++) {
                double d = row[j] - sum[j];
                sq[j] += d * d;
            }
        }
        for (int j = 0; j < w; j++) {
            const double var = sq[j] / R, istd = 1.0 / sqrt(var + GM_BN_EPS);
            const int c = a + j;
            mu[j] = mean[c] = (float)sum[j];
            inv_std[c] = (float)istd;
            scale[j] = (float)(gamma[c] * istd);
            run_mean[c] = (float)((1.0 - GM_BN_MOMENTUM) * run_mean[c] + GM_BN_MOMENTUM * sum[j]);
            run_var[c] = (float)((1.0 - GM_BN_MOMENTUM) * run_var[c] + GM_BN_MOMENTUM * var * R / (R - 1));
        }
        for (int r = 0; r < R; r++) {
            const float *in = x + (size_t)r * C + a;
            float *out = y + (size_t)r * C + a;
            for (int j = 0; j < w; j++)
                out[j] = (in[j] - mu[j]) * scale[j] + beta[a + j];
        }
    }
    if (c1 > c0)
        gm_act_forward_ld(y + c0, C, NULL, R, c1 - c0, act, slope);
}

void gm_bn_forward_infer(float *y, const float *x, const float *gamma, const float *beta, const float *run_mean,
                         const float *run_var, int R, int C, int c0, int c1, int act, float slope)
{
    for (int a = c0; a < c1; a = chunk_end(a, c1)) {
        const int w = chunk_end(a, c1) - a;
        float scale[CHUNK];
        for (int j = 0; j < w; j++)
            scale[j] = (float)(gamma[a + j] / sqrt((double)run_var[a + j] + GM_BN_EPS));
        for (int r = 0; r < R; r++) {
            const float *in = x + (size_t)r * C + a;
            float *out = y + (size_t)r * C + a;
            for (int j = 0; j < w; j++)
                out[j] = (in[j] - run_mean[a + j]) * scale[j] + beta[a + j];
        }
    }
    if (c1 > c0)
        gm_act_forward_ld(y + c0, C, NULL, R, c1 - c0, act, slope);
}

void gm_bn_backward(float *dx, float *dgamma, float *dbeta, bool accumulate, float *dy, const float *x,
                    const float *y, const float *mean, const float *inv_std, const float *gamma, int R, int C,
                    int c0, int c1, int act, float slope)
{
    if (c1 <= c0)
        return;
    gm_act_backward_ld(dy + c0, C, NULL, y + c0, R, c1 - c0, act, slope);
    for (int a = c0; a < c1; a = chunk_end(a, c1)) {
        const int w = chunk_end(a, c1) - a;
        double sum[CHUNK] = { 0 }, sum_xhat[CHUNK] = { 0 };
        for (int r = 0; r < R; r++) {
            const float *g = dy + (size_t)r * C + a, *in = x + (size_t)r * C + a;
            for (int j = 0; j < w; j++) {
                sum[j] += g[j];
                sum_xhat[j] += (double)g[j] * ((in[j] - mean[a + j]) * inv_std[a + j]);
            }
        }
        /* dx = gamma * inv_std * (dy - mean(dy) - xhat * mean(dy * xhat)):
         * the batch's mean and variance carry the other two terms */
        float k[CHUNK], m1[CHUNK], m2[CHUNK];
        for (int j = 0; j < w; j++) {
            const int c = a + j;
            k[j] = gamma[c] * inv_std[c];
            m1[j] = (float)(sum[j] / R);
            m2[j] = (float)(sum_xhat[j] / R);
            if (dbeta)
                dbeta[c] = (float)(accumulate ? dbeta[c] + sum[j] : sum[j]);
            if (dgamma)
                dgamma[c] = (float)(accumulate ? dgamma[c] + sum_xhat[j] : sum_xhat[j]);
        }
        for (int r = 0; r < R; r++) {
            const float *g = dy + (size_t)r * C + a, *in = x + (size_t)r * C + a;
            float *out = dx + (size_t)r * C + a;
            for (int j = 0; j < w; j++) {
                const float xhat = (in[j] - mean[a + j]) * inv_std[a + j];
                out[j] = k[j] * (g[j] - m1[j] - xhat * m2[j]);
            }
        }
    }
}

/* x (n) /= max(|x|, GM_SN_EPS), as torch.nn.functional.normalize; returns
 * |x|^2 / max(|x|, eps), the dot of the result with x as it was */
static double normalize(float *x, int n)
{
    double sq = 0.0;
    for (int i = 0; i < n; i++)
        sq += (double)x[i] * x[i];
    const double norm = sqrt(sq), d = norm > GM_SN_EPS ? norm : GM_SN_EPS;
    for (int i = 0; i < n; i++)
        x[i] = (float)(x[i] / d);
    return sq / d;
}

float gm_sn_power_step(float *u, float *v, const float *W, int O, int I)
{
    gm_gemv(true, O, I, 1.0f, W, u, 0.0f, v);
    normalize(v, I);
    /* sigma = u.(W v) for the new u = W v / |W v|: the dot comes with the
     * normalisation, without a third product */
    gm_gemv(false, O, I, 1.0f, W, v, 0.0f, u);
    return (float)normalize(u, O);
}

void gm_sn_init(gm_rng *rng, float *u, float *v, int O, int I)
{
    gm_rng_normal(rng, u, (size_t)O);
    normalize(u, O);
    gm_rng_normal(rng, v, (size_t)I);
    normalize(v, I);
}

float gm_sn_sigma(const float *u, const float *v, const float *W, int O, int I, float *Wv)
{
    gm_gemv(false, O, I, 1.0f, W, v, 0.0f, Wv);
    double dot = 0.0;
    for (int o = 0; o < O; o++)
        dot += (double)u[o] * Wv[o];
    return (float)dot;
}

void gm_sn_weight(float *W_sn, const float *W, float sigma, int I, int o0, int o1)
{
    for (size_t i = (size_t)o0 * I; i < (size_t)o1 * I; i++)
        W_sn[i] = W[i] / sigma;
}

double gm_sn_backward_dot(const float *G, const float *W, int I, int o0, int o1)
{
    double dot = 0.0;
    for (size_t i = (size_t)o0 * I; i < (size_t)o1 * I; i++)
        dot += (double)G[i] * W[i];
    return dot;
}

void gm_sn_backward_rows(float *dW, bool accumulate, const float *G, const float *u, const float *v, float sigma,
                         double dot, int I, int o0, int o1)
{
    /* W_sn = W / sigma and sigma = u^T W v: dL/dsigma = -dot / sigma^2,
     * and dsigma/dW = u v^T */
    const float coef = (float)(dot / ((double)sigma * sigma));
    for (int o = o0; o < o1; o++) {
        const float cu = coef * u[o];
        float *out = dW + (size_t)o * I;
        const float *g = G + (size_t)o * I;
        for (int i = 0; i < I; i++) {
            const float d = g[i] / sigma - cu * v[i];
            out[i] = accumulate ? out[i] + d : d;
        }
    }
}

/* feature f's mean and standard deviation over a group of G samples whose
 * features are F apart */
static void feature_stats(const float *x, int G, size_t F, size_t f, double *mean, double *std)
{
    double sum = 0.0, sq = 0.0;
    for (int j = 0; j < G; j++)
        sum += x[j * F + f];
    *mean = sum / G;
    for (int j = 0; j < G; j++) {
        double d = x[j * F + f] - *mean;
        sq += d * d;
    }
    *std = sqrt(sq / G + GM_MBSTD_EPS);
}

void gm_mbstd_forward(float *y, const float *x, int N, int P, int C, int G, int c0, int c1)
{
    const int cx = c1 < C ? c1 : C;
    const size_t F = (size_t)P * C;
    for (size_t px = 0; px < (size_t)N * P && cx > c0; px++)
        memcpy(y + px * (C + 1) + c0, x + px * C + c0, (size_t)(cx - c0) * sizeof *y);
    if (c1 <= C)
        return;
    for (int g0 = 0; g0 < N; g0 += G) {
        const float *xg = x + (size_t)g0 * F;
        double total = 0.0, mean, std;
        for (size_t f = 0; f < F; f++) {
            feature_stats(xg, G, F, f, &mean, &std);
            total += std;
        }
        const float s = (float)(total / F);
        for (size_t px = (size_t)g0 * P; px < (size_t)(g0 + G) * P; px++)
            y[px * (C + 1) + C] = s;
    }
}

void gm_mbstd_backward(float *dx, const float *dy, const float *x, int N, int P, int C, int G, int c0, int c1)
{
    const size_t F = (size_t)P * C;
    for (int g0 = 0; g0 < N; g0 += G) {
        double ds = 0.0;
        for (size_t px = (size_t)g0 * P; px < (size_t)(g0 + G) * P; px++)
            ds += dy[px * (C + 1) + C];
        /* s = mean over F features of sqrt(var + eps): ds/dx of a sample's
         * feature is (x - mean) / (G * F * std), the mean's own
         * derivative cancelling over the group */
        const double k = ds / ((double)G * F);
        const float *xg = x + (size_t)g0 * F;
        for (int p = 0; p < P; p++)
            for (int c = c0; c < c1; c++) {
                const size_t f = (size_t)p * C + c;
                double mean, std;
                feature_stats(xg, G, F, f, &mean, &std);
                const double kf = k / std;
                for (int j = 0; j < G; j++) {
                    const size_t px = (size_t)(g0 + j) * P + p;
                    dx[px * C + c] = (float)(dy[px * (C + 1) + c] + kf * (xg[j * F + f] - mean));
                }
            }
    }
}
