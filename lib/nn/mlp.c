#include <stdio.h>
#include <string.h>

#include "mlp.h"
#include "dense.h"
#include "core/act.h"
#include "core/error.h"

gm_status gm_mlp_init(gm_mlp *mlp, gm_param_table *t, const char *prefix, int n_layers,
                      const int *widths, const int *acts, float slope)
{
    memset(mlp, 0, sizeof *mlp);
    if (n_layers < 1 || n_layers > GM_MLP_MAX_LAYERS)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %d layers, the limit is %d", prefix, n_layers,
                       GM_MLP_MAX_LAYERS);
    mlp->n_layers = n_layers;
    mlp->slope = slope;
    mlp->first_param = t->count;
    for (int i = 0; i <= n_layers; i++) {
        if (widths[i] < 1)
            return gm_fail(GM_ERR_INVALID_ARG, "%s: layer width %d must be >= 1", prefix, widths[i]);
        mlp->width[i] = widths[i];
    }
    for (int i = 0; i < n_layers; i++) {
        if (!gm_act_valid(acts[i]))
            return gm_fail(GM_ERR_INVALID_ARG, "%s: unknown activation %d", prefix, acts[i]);
        mlp->act[i] = acts[i];
        char name[GM_PARAM_NAME_MAX];
        int64_t wshape[2] = { widths[i + 1], widths[i] }, bshape[1] = { widths[i + 1] };
        snprintf(name, sizeof name, "%s.%d.weight", prefix, i);
        gm_status s = gm_params_add(t, name, 2, wshape, NULL);
        if (s != GM_OK)
            return s;
        snprintf(name, sizeof name, "%s.%d.bias", prefix, i);
        if ((s = gm_params_add(t, name, 1, bshape, NULL)) != GM_OK)
            return s;
    }
    return GM_OK;
}

void gm_mlp_init_weights(const gm_mlp *mlp, gm_param_table *t, gm_rng *rng)
{
    for (int i = 0; i < mlp->n_layers; i++) {
        int w = mlp->first_param + 2 * i;
        gm_dense_init(rng, gm_param_data(t, w), gm_param_data(t, w + 1), mlp->width[i], mlp->width[i + 1]);
    }
}

void gm_mlp_free(gm_mlp *mlp)
{
    gm_ws_free(&mlp->ws);
    mlp->batch = 0;
}

gm_status gm_mlp_reserve(gm_mlp *mlp, int N)
{
    if (N <= mlp->batch)
        return GM_OK;
    float **slots[GM_MLP_MAX_LAYERS + 2];
    size_t counts[GM_MLP_MAX_LAYERS + 2];
    int widest = 0;
    for (int i = 0; i < mlp->n_layers; i++) {
        slots[i] = &mlp->out[i];
        counts[i] = (size_t)N * mlp->width[i + 1];
        if (mlp->width[i + 1] > widest)
            widest = mlp->width[i + 1];
    }
    slots[mlp->n_layers] = &mlp->delta[0];
    slots[mlp->n_layers + 1] = &mlp->delta[1];
    counts[mlp->n_layers] = counts[mlp->n_layers + 1] = (size_t)N * widest;
    gm_status s = gm_ws_carve(&mlp->ws, mlp->n_layers + 2, slots, counts);
    if (s == GM_OK)
        mlp->batch = N;
    return s;
}

const float *gm_mlp_forward(gm_mlp *mlp, const gm_param_table *t, const float *x, int N)
{
    const float *in = x;
    for (int i = 0; i < mlp->n_layers; i++) {
        int w = mlp->first_param + 2 * i;
        gm_dense_forward(mlp->out[i], in, gm_param_data(t, w), gm_param_data(t, w + 1),
                         N, mlp->width[i], mlp->width[i + 1], mlp->act[i], mlp->slope);
        in = mlp->out[i];
    }
    return in;
}

void gm_mlp_backward(gm_mlp *mlp, gm_param_table *t, const float *x, float *dout, float *dx, int N, gm_grads grads)
{
    const bool want = grads != GM_GRADS_SKIP;
    float *dy = dout;
    for (int i = mlp->n_layers - 1; i >= 0; i--) {
        int w = mlp->first_param + 2 * i;
        const float *in = i > 0 ? mlp->out[i - 1] : x;
        float *din = i > 0 ? mlp->delta[i % 2] : dx;
        gm_dense_backward(din, want ? gm_param_grad(t, w) : NULL, want ? gm_param_grad(t, w + 1) : NULL,
                          grads == GM_GRADS_ADD, dy, in, gm_param_data(t, w), mlp->out[i], N, mlp->width[i], mlp->width[i + 1],
                          mlp->act[i], mlp->slope);
        dy = din;
    }
}
