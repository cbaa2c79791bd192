/* Activation kernels. Legend: N rows (batch), D columns.
 * One loop per kind keeps the switch out of the inner loop. */
#include <math.h>

#include "act.h"
#include "fastmath.h"
#include "simd.h"
#include "genmodel/common.h"

bool gm_act_valid(int kind)
{
    return kind >= GM_ACT_IDENTITY && kind <= GM_ACT_SIGMOID;
}

bool gm_act_curved(int kind)
{
    return kind == GM_ACT_ELU || kind == GM_ACT_TANH || kind == GM_ACT_SIGMOID;
}

void gm_act_curvature(float *g, const float *y, size_t n, int kind)
{
    switch (kind) {
    case GM_ACT_ELU:  /* f' = e^x = y + 1 below zero, and so is f'' */
        for (size_t i = 0; i < n; i++)
            g[i] *= y[i] > 0.0f ? 0.0f : y[i] + 1.0f;
        break;
    case GM_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            g[i] *= -2.0f * y[i] * (1.0f - y[i] * y[i]);
        break;
    case GM_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            g[i] *= y[i] * (1.0f - y[i]) * (1.0f - 2.0f * y[i]);
        break;
    default:
        for (size_t i = 0; i < n; i++)
            g[i] = 0.0f;
        break;
    }
}

static inline float sigmoid(float x)
{
    /* e^-|x| only, so that nothing overflows */
    float e = exp_nonpositive(-fabsf(x));
    return (x >= 0.0f ? 1.0f : e) / (1.0f + e);
}

/* The passes are built per vector width (simd.h). */
GM_VECTOR_CLONES static void forward_rows(float *y, int ld, const float *bias, int N, int D, int kind,
                                          float slope)
{
    for (int n = 0; n < N; n++) {
        float *row = y + (size_t)n * ld;
        if (bias)
            for (int d = 0; d < D; d++)
                row[d] += bias[d];
        switch (kind) {
        case GM_ACT_RELU:
            for (int d = 0; d < D; d++)
                row[d] = row[d] > 0.0f ? row[d] : 0.0f;
            break;
        case GM_ACT_LEAKY_RELU:
            for (int d = 0; d < D; d++)
                row[d] = row[d] > 0.0f ? row[d] : slope * row[d];
            break;
        case GM_ACT_ELU:
            for (int d = 0; d < D; d++)
                row[d] = row[d] > 0.0f ? row[d] : expm1f(row[d]);
            break;
        case GM_ACT_TANH:
            for (int d = 0; d < D; d++)
                row[d] = tanh_rational(row[d]);
            break;
        case GM_ACT_SIGMOID:
            for (int d = 0; d < D; d++)
                row[d] = sigmoid(row[d]);
            break;
        default:
            break;
        }
    }
}

GM_VECTOR_CLONES static void backward_rows(float *dy, int ld, float *dbias, const float *y, int N, int D,
                                           int kind, float slope)
{
    for (int n = 0; n < N; n++) {
        float *g = dy + (size_t)n * ld;
        const float *out = y + (size_t)n * ld;
        switch (kind) {
        case GM_ACT_RELU:
            for (int d = 0; d < D; d++)
                g[d] = out[d] > 0.0f ? g[d] : 0.0f;
            break;
        case GM_ACT_LEAKY_RELU:
            /* a positive slope keeps the sign of x, so y > 0 iff x > 0 */
            for (int d = 0; d < D; d++)
                g[d] = out[d] > 0.0f ? g[d] : slope * g[d];
            break;
        case GM_ACT_ELU:
            for (int d = 0; d < D; d++)
                g[d] = out[d] > 0.0f ? g[d] : g[d] * (out[d] + 1.0f);
            break;
        case GM_ACT_TANH:
            for (int d = 0; d < D; d++)
                g[d] *= 1.0f - out[d] * out[d];
            break;
        case GM_ACT_SIGMOID:
            for (int d = 0; d < D; d++)
                g[d] *= out[d] * (1.0f - out[d]);
            break;
        default:
            break;
        }
        if (dbias)
            for (int d = 0; d < D; d++)
                dbias[d] += g[d];
    }
}

void gm_act_forward_ld(float *y, int ld, const float *bias, int N, int D, int kind, float slope)
{
    forward_rows(y, ld, bias, N, D, kind, slope);
}

void gm_act_backward_ld(float *dy, int ld, float *dbias, const float *y, int N, int D, int kind, float slope)
{
    backward_rows(dy, ld, dbias, y, N, D, kind, slope);
}

void gm_act_forward(float *y, const float *bias, int N, int D, int kind, float slope)
{
    forward_rows(y, D, bias, N, D, kind, slope);
}

void gm_act_backward(float *dy, float *dbias, const float *y, int N, int D, int kind, float slope)
{
    backward_rows(dy, D, dbias, y, N, D, kind, slope);
}
