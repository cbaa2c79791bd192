#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dense.h"
#include "layer.h"
#include "core/act.h"
#include "core/blas.h"
#include "core/error.h"

void gm_dense_forward_share(float *y, const float *x, const float *W, const float *b,
                            int N, int D, int O, int o0, int o1, int act, float slope)
{
    const int width = o1 - o0;
    if (width < 1)
        return;
    if (N == 1)
        gm_gemv(false, width, D, 1.0f, W + (size_t)o0 * D, x, 0.0f, y + o0);
    else
        gm_gemm_ld(false, true, N, width, D, 1.0f, x, D, W + (size_t)o0 * D, D, 0.0f, y + o0, O);
    gm_act_forward_ld(y + o0, O, b ? b + o0 : NULL, N, width, act, slope);
}

void gm_dense_forward(float *y, const float *x, const float *W, const float *b,
                      int N, int D, int O, int act, float slope)
{
    gm_dense_forward_share(y, x, W, b, N, D, O, 0, O, act, slope);
}

void gm_dense_backward_share(float *dx, float *dW, float *db, bool accumulate, float *dy, const float *x,
                             const float *W, const float *y, int N, int D, int O, int o0, int o1, int act,
                             float slope)
{
    const int width = o1 - o0;
    if (width < 1) {
        if (dx)
            memset(dx, 0, (size_t)N * D * sizeof *dx);
        return;
    }
    /* written over, the gradients need no zeroing pass of their own: the
     * product with beta 0 clears dW as it goes */
    if (db && !accumulate)
        memset(db + o0, 0, (size_t)width * sizeof *db);
    gm_act_backward_ld(dy + o0, O, db ? db + o0 : NULL, y + o0, N, width, act, slope);
    if (dW)
        gm_gemm_ld(true, false, width, D, N, 1.0f, dy + o0, O, x, D, accumulate ? 1.0f : 0.0f,
                   dW + (size_t)o0 * D, D);
    if (dx)
        gm_gemm_ld(false, false, N, D, width, 1.0f, dy + o0, O, W + (size_t)o0 * D, D, 0.0f, dx, D);
}

void gm_dense_init(gm_rng *rng, float *W, float *b, int D, int O)
{
    /* kaiming_uniform(a=sqrt(5)) reduces to this bound, and so does the bias's */
    float bound = 1.0f / sqrtf((float)D);
    gm_rng_uniform(rng, W, (size_t)O * D, -bound, bound);
    if (b)
        gm_rng_uniform(rng, b, (size_t)O, -bound, bound);
}

/* ---- the dense kind of layer (nn/layer.h): W (O, D), b (O) ---- */

static gm_status dense_declare(gm_layer *l, const gm_layer_spec *s, gm_param_table *t, const char *prefix, int i,
                               const char *who)
{
    const int64_t D = (int64_t)gm_shape_size(l->in);
    if (s->out < 1)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s's layer width %d must be >= 1", who, prefix, s->out);
    l->out = (gm_shape){ s->out, 1, 1 };
    char name[GM_PARAM_NAME_MAX];
    int64_t wshape[2] = { s->out, D }, bshape[1] = { s->out };
    snprintf(name, sizeof name, "%s.%d.weight", prefix, i);
    gm_status st = gm_params_add(t, name, 2, wshape, NULL, who);
    if (st != GM_OK || !l->bias)
        return st;
    snprintf(name, sizeof name, "%s.%d.bias", prefix, i);
    return gm_params_add(t, name, 1, bshape, NULL, who);
}

static void dense_init(const gm_layer *l, gm_param_table *t, gm_rng *rng)
{
    gm_dense_init(rng, gm_param_data(t, l->param), l->bias ? gm_param_data(t, l->param + 1) : NULL,
                  (int)gm_shape_size(l->in), l->split);
}

static void dense_forward(const gm_layer *l, const gm_layer_pass *p, const gm_member *self, const float *x, float *y)
{
    (void)self;
    const int D = (int)gm_shape_size(l->in), O = l->split;
    gm_dense_forward_share(y + (size_t)p->n0 * O, x + (size_t)p->n0 * D, gm_layer_weight(l, p),
                           gm_layer_bias(l, p), p->n1 - p->n0, D, O, p->c0, p->c1,
                           p->linear ? GM_ACT_IDENTITY : l->act, l->slope);
}

static void dense_backward(const gm_layer *l, const gm_layer_pass *p, const gm_member *self, const gm_layer_grad *g)
{
    (void)self;
    gm_dense_backward_share(g->part, g->dW, g->db, g->accumulate, g->dy, g->x, gm_layer_weight(l, p), l->y,
                            p->N, (int)gm_shape_size(l->in), l->split, p->c0, p->c1,
                            p->linear ? GM_ACT_IDENTITY : l->act, l->slope);
}

static double dense_work(const gm_layer *l)
{
    return (double)gm_shape_size(l->in) * l->split;
}

const gm_layer_ops gm_layer_dense = {
    .name = "dense",
    .declare = dense_declare,
    .init = dense_init,
    .forward = dense_forward,
    .backward = dense_backward,
    .work = dense_work,
};
