/* The normalization kinds of layer (nn/layer.h) on norm.h's kernels.
 *
 * Batch normalization, over the channels the layer before it computed:
 * per channel of an image (BatchNorm2d), per feature of a flat vector
 * (BatchNorm1d). The running statistics are buffers of the table: a
 * training pass moves pending copies of them in the layer's scratch,
 * which gm_net_commit writes back once the step has succeeded. */
#include <stdio.h>
#include <string.h>

#include "layer.h"
#include "net.h"
#include "norm.h"
#include "core/error.h"

/* tensors after l->param: weight (gamma), bias (beta), running_mean,
 * running_var; scratch, each C floats: the pending running mean and
 * variance, then each stacked batch's mean and inverse std */
enum { GAMMA, BETA, RUN_MEAN, RUN_VAR };
enum { PENDING_MEAN, PENDING_VAR, BATCH_STATS };

static int channels(const gm_layer *l) { return l->split; }

static gm_status bn_declare(gm_layer *l, const gm_layer_spec *s, gm_param_table *t, const char *prefix, int i,
                            const char *who)
{
    (void)s;
    l->out = l->in;
    static const char *const names[] = { "weight", "bias", "running_mean", "running_var" };
    const int64_t shape[1] = { l->in.c };
    for (int k = 0; k < 4; k++) {
        char name[GM_PARAM_NAME_MAX];
        snprintf(name, sizeof name, "%s.%d.%s", prefix, i, names[k]);
        gm_status st = k < RUN_MEAN ? gm_params_add(t, name, 1, shape, NULL, who)
                                    : gm_params_add_buffer(t, name, 1, shape, NULL, who);
        if (st != GM_OK)
            return st;
    }
    return GM_OK;
}

static gm_status bn_resize(gm_layer *l, const char *who)
{
    (void)who;
    l->out = l->in;
    return GM_OK;
}

static void bn_init(const gm_layer *l, gm_param_table *t, gm_rng *rng)
{
    (void)rng;
    for (int c = 0; c < channels(l); c++) {
        gm_param_data(t, l->param + GAMMA)[c] = 1.0f;
        gm_param_data(t, l->param + BETA)[c] = 0.0f;
        gm_param_data(t, l->param + RUN_MEAN)[c] = 0.0f;
        gm_param_data(t, l->param + RUN_VAR)[c] = 1.0f;
    }
}

static size_t bn_scratch(const gm_layer *l, int N, int members, bool backward)
{
    (void)N;
    (void)members;
    (void)backward;
    return (BATCH_STATS + 2 * GM_NET_MAX_BATCHES) * (size_t)channels(l);
}

static float *stat(const gm_layer *l, int k) { return l->scratch + (size_t)k * channels(l); }
static float *batch_mean(const gm_layer *l, int b) { return stat(l, BATCH_STATS + 2 * b); }
static float *batch_inv_std(const gm_layer *l, int b) { return stat(l, BATCH_STATS + 2 * b + 1); }
static int batches(const gm_layer_pass *p) { return p->batches > 1 ? p->batches : 1; }

static void bn_forward(const gm_layer *l, const gm_layer_pass *p, const gm_member *self, const float *x, float *y)
{
    (void)self;
    const int C = channels(l), P = (int)(gm_shape_size(l->in) / (size_t)C);
    const size_t at = (size_t)p->n0 * P * C;
    const float *gamma = gm_param_data(p->t, l->param + GAMMA), *beta = gm_param_data(p->t, l->param + BETA);
    if (p->train) {
        /* a training pass takes all its rows: each batch's in turn */
        const int R = p->N / batches(p) * P;
        for (int b = 0; b < batches(p); b++)
            gm_bn_forward_train(y + (size_t)b * R * C, batch_mean(l, b), batch_inv_std(l, b),
                                stat(l, PENDING_MEAN), stat(l, PENDING_VAR), x + (size_t)b * R * C, gamma, beta, R,
                                C, p->c0, p->c1, l->act, l->slope);
    } else
        gm_bn_forward_infer(y + at, x + at, gamma, beta, gm_param_data(p->t, l->param + RUN_MEAN),
                            gm_param_data(p->t, l->param + RUN_VAR), (p->n1 - p->n0) * P, C, p->c0, p->c1, l->act,
                            l->slope);
}

static void bn_backward(const gm_layer *l, const gm_layer_pass *p, const gm_member *self, const gm_layer_grad *d)
{
    (void)self;
    const int C = channels(l), P = (int)(gm_shape_size(l->in) / (size_t)C), R = p->N / batches(p) * P;
    /* without an input gradient to give, dy takes it (the kernel allows) */
    float *dx = d->part ? d->part : d->dy;
    for (int b = 0; b < batches(p); b++) {
        const size_t at = (size_t)b * R * C;
        gm_bn_backward(dx + at, d->dW, d->db, d->accumulate || b > 0, d->dy + at, d->x + at, l->y + at,
                       batch_mean(l, b), batch_inv_std(l, b), gm_param_data(p->t, l->param + GAMMA), R, C, p->c0,
                       p->c1, l->act, l->slope);
    }
}

static void bn_begin(const gm_layer *l, const gm_param_table *t)
{
    memcpy(stat(l, PENDING_MEAN), gm_param_data(t, l->param + RUN_MEAN), (size_t)channels(l) * sizeof(float));
    memcpy(stat(l, PENDING_VAR), gm_param_data(t, l->param + RUN_VAR), (size_t)channels(l) * sizeof(float));
}

static void bn_commit(const gm_layer *l, gm_param_table *t)
{
    memcpy(gm_param_data(t, l->param + RUN_MEAN), stat(l, PENDING_MEAN), (size_t)channels(l) * sizeof(float));
    memcpy(gm_param_data(t, l->param + RUN_VAR), stat(l, PENDING_VAR), (size_t)channels(l) * sizeof(float));
}

static int bn_min_batch(const gm_layer *l)
{
    return gm_shape_size(l->in) / (size_t)channels(l) >= 2 ? 1 : 2;
}

static double bn_work(const gm_layer *l)
{
    return (double)gm_shape_size(l->in) * GM_WORK_STREAM;
}

const gm_layer_ops gm_layer_batchnorm = {
    .name = "batchnorm",
    .local = true,
    .declare = bn_declare,
    .resize = bn_resize,
    .init = bn_init,
    .forward = bn_forward,
    .backward = bn_backward,
    .scratch = bn_scratch,
    .min_batch = bn_min_batch,
    .begin = bn_begin,
    .commit = bn_commit,
    .work = bn_work,
};

/* Minibatch standard deviation: the input's channels, then one more
 * holding, for each group of l->group samples, the mean over the features
 * of their standard deviation over the group. A batch's last group may be
 * smaller (an inference pass over any number of rows). The team splits
 * the input's channels; the member with the last of them computes the
 * new one. */

static gm_status mbstd_declare(gm_layer *l, const gm_layer_spec *s, gm_param_table *t, const char *prefix, int i,
                               const char *who)
{
    (void)t;
    if (s->group < 2)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s's layer %d: a group of %d samples has no spread", who, prefix, i,
                       s->group);
    l->out = (gm_shape){ l->in.c + 1, l->in.h, l->in.w };
    l->split = l->in.c;
    l->group = s->group;
    return GM_OK;
}

static void mbstd_init(const gm_layer *l, gm_param_table *t, gm_rng *rng)
{
    (void)l;
    (void)t;
    (void)rng;
}

static void mbstd_forward(const gm_layer *l, const gm_layer_pass *p, const gm_member *self, const float *x, float *y)
{
    (void)self;
    const int C = l->in.c, P = l->in.h * l->in.w, N = p->n1 - p->n0, G = l->group, full = N / G * G;
    const int c1 = p->c1 == C ? C + 1 : p->c1;
    x += (size_t)p->n0 * P * C;
    y += (size_t)p->n0 * P * (C + 1);
    gm_mbstd_forward(y, x, full, P, C, G, p->c0, c1);
    if (N > full)
        gm_mbstd_forward(y + (size_t)full * P * (C + 1), x + (size_t)full * P * C, N - full, P, C, N - full, p->c0,
                         c1);
}

static void mbstd_backward(const gm_layer *l, const gm_layer_pass *p, const gm_member *self, const gm_layer_grad *d)
{
    (void)self;
    if (!d->part)
        return;
    const int C = l->in.c, P = l->in.h * l->in.w, N = p->N, G = l->group, full = N / G * G;
    gm_mbstd_backward(d->part, d->dy, d->x, full, P, C, G, p->c0, p->c1);
    if (N > full)
        gm_mbstd_backward(d->part + (size_t)full * P * C, d->dy + (size_t)full * P * (C + 1),
                          d->x + (size_t)full * P * C, N - full, P, C, N - full, p->c0, p->c1);
}

static double mbstd_work(const gm_layer *l)
{
    return 3.0 * (double)gm_shape_size(l->in) * GM_WORK_STREAM;
}

const gm_layer_ops gm_layer_mbstd = {
    .name = "mbstd",
    .whole_dx = true,
    .mixes_rows = true,
    .declare = mbstd_declare,
    .init = mbstd_init,
    .forward = mbstd_forward,
    .backward = mbstd_backward,
    .work = mbstd_work,
};
