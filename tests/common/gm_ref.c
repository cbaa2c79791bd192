#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gm_ref.h"
#include "genmodel/common.h"

double gm_ref_act(int kind, double slope, double x)
{
    switch (kind) {
    case GM_ACT_RELU: return x > 0 ? x : 0;
    case GM_ACT_LEAKY_RELU: return x > 0 ? x : slope * x;
    case GM_ACT_ELU: return x > 0 ? x : expm1(x);
    case GM_ACT_TANH: return tanh(x);
    case GM_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    default: return x;
    }
}

size_t gm_ref_mlp_forward(const gm_ref_mlp *m, const double *params, const double *x, int N, double *out)
{
    int widest = 0;
    for (int l = 0; l <= m->n_layers; l++)
        widest = m->widths[l] > widest ? m->widths[l] : widest;
    double *in = malloc((size_t)N * widest * sizeof *in), *next = malloc((size_t)N * widest * sizeof *next);
    memcpy(in, x, (size_t)N * m->widths[0] * sizeof *in);
    size_t at = 0;
    for (int l = 0; l < m->n_layers; l++) {
        int D = m->widths[l], O = m->widths[l + 1];
        const double *W = params + at, *b = W + (size_t)O * D;
        at += (size_t)O * D + O;
        for (int n = 0; n < N; n++)
            for (int o = 0; o < O; o++) {
                double s = b[o];
                for (int d = 0; d < D; d++)
                    s += in[n * D + d] * W[o * D + d];
                next[n * O + o] = gm_ref_act(m->acts[l], m->slope, s);
            }
        double *t = in;
        in = next;
        next = t;
    }
    memcpy(out, in, (size_t)N * m->widths[m->n_layers] * sizeof *out);
    free(in);
    free(next);
    return at;
}

double gm_ref_act_slope(int kind, double slope, double y)
{
    switch (kind) {
    case GM_ACT_RELU: return y > 0 ? 1 : 0;
    case GM_ACT_LEAKY_RELU: return y > 0 ? 1 : slope;
    case GM_ACT_ELU: return y > 0 ? 1 : y + 1;
    case GM_ACT_TANH: return 1 - y * y;
    case GM_ACT_SIGMOID: return y * (1 - y);
    default: return 1;
    }
}

void gm_ref_mlp_input_grad(const gm_ref_mlp *m, const double *params, const double *x, int N, double *g)
{
    const int L = m->n_layers;
    size_t offset[16], act_at[16], total = 0;
    for (int l = 0, at = 0; l < L; l++) {
        offset[l] = (size_t)at;
        at += m->widths[l + 1] * m->widths[l] + m->widths[l + 1];
        act_at[l] = total;
        total += m->widths[l + 1];
    }
    double *y = malloc(total * sizeof *y), *u = malloc(64 * sizeof *u), *v = malloc(64 * sizeof *v);
    for (int n = 0; n < N; n++) {
        for (int l = 0; l < L; l++) {  /* one row forward, keeping every layer's output */
            int D = m->widths[l], O = m->widths[l + 1];
            const double *W = params + offset[l], *b = W + (size_t)O * D;
            const double *in = l ? y + act_at[l - 1] : x + (size_t)n * m->widths[0];
            for (int o = 0; o < O; o++) {
                double s = b[o];
                for (int d = 0; d < D; d++)
                    s += W[o * D + d] * in[d];
                y[act_at[l] + o] = gm_ref_act(m->acts[l], m->slope, s);
            }
        }
        u[0] = 1.0;
        for (int l = L - 1; l >= 0; l--) {
            int D = m->widths[l], O = m->widths[l + 1];
            const double *W = params + offset[l];
            for (int o = 0; o < O; o++)
                v[o] = u[o] * gm_ref_act_slope(m->acts[l], m->slope, y[act_at[l] + o]);
            for (int d = 0; d < D; d++) {
                u[d] = 0;
                for (int o = 0; o < O; o++)
                    u[d] += v[o] * W[o * D + d];
            }
        }
        for (int d = 0; d < m->widths[0]; d++)
            g[(size_t)n * m->widths[0] + d] = u[d];
    }
    free(y);
    free(u);
    free(v);
}
