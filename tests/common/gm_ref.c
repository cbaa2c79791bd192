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
