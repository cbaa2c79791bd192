/* Pixel shuffle (nn/shuffle.h) and its kind of layer (nn/layer.h): no
 * tensors, in (C*r*r, H, W) -> out (C, H*r, W*r). A team divides both
 * passes by input rows, not by channels: an upscaler's shuffle has few
 * output channels (3 for RGB), fewer than a share of channels would give
 * every member. Legend: N batch, C output channels, r the factor. */
#include <limits.h>
#include <stdbool.h>

#include "layer.h"
#include "shuffle.h"
#include "core/act.h"
#include "core/error.h"

/* One walk for both directions: each output pixel of the rows, its C
 * values in y ("flat") and where they sit in x ("deep", r*r apart). */
static void walk(float *dst, const float *src, bool to_flat, int C, int W, int r, int q0, int q1)
{
    const size_t rr = (size_t)r * r, deep_row = (size_t)W * C * rr;
    for (size_t q = (size_t)q0; q < (size_t)q1; q++)
        for (int i = 0; i < r; i++)
            for (int w = 0; w < W; w++)
                for (int j = 0; j < r; j++) {
                    const size_t flat = (((q * r + i) * W + w) * r + j) * C;
                    const size_t deep = q * deep_row + (size_t)w * C * rr + (size_t)i * r + j;
                    if (to_flat)
                        for (int c = 0; c < C; c++)
                            dst[flat + c] = src[deep + c * rr];
                    else
                        for (int c = 0; c < C; c++)
                            dst[deep + c * rr] = src[flat + c];
                }
}

void gm_shuffle_forward(float *y, const float *x, int C, int W, int r, int q0, int q1)
{
    walk(y, x, true, C, W, r, q0, q1);
}

void gm_shuffle_backward(float *dx, const float *dy, int C, int W, int r, int q0, int q1)
{
    walk(dx, dy, false, C, W, r, q0, q1);
}

/* ---- the kind of layer ---- */

enum { MIN_FACTOR = 2, MAX_FACTOR = 8 };

/* out from in for the factor l->factor */
static gm_status shuffle_resize(gm_layer *l, const char *who)
{
    const int r = l->factor;
    if (l->in.h > INT_MAX / r || l->in.w > INT_MAX / r)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: pixel shuffle of %dx%d by %d is too large", who, l->in.h, l->in.w, r);
    l->out = (gm_shape){ l->in.c / (r * r), l->in.h * r, l->in.w * r };
    return GM_OK;
}

static gm_status shuffle_declare(gm_layer *l, const gm_layer_spec *s, gm_param_table *t, const char *prefix, int i,
                                 const char *who)
{
    (void)t;
    const int r = s->factor;
    if (r < MIN_FACTOR || r > MAX_FACTOR)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s's layer %d: pixel shuffle factor %d is outside [%d, %d]", who,
                       prefix, i, r, MIN_FACTOR, MAX_FACTOR);
    if (l->in.c % (r * r))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s's layer %d: pixel shuffle by %d needs channels divisible by %d, "
                       "not %d", who, prefix, i, r, r * r, l->in.c);
    if (l->in.h > INT_MAX / r || l->in.w > INT_MAX / r)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s's layer %d: pixel shuffle of %dx%d by %d is too large", who, prefix,
                       i, l->in.h, l->in.w, r);
    l->factor = r;
    return shuffle_resize(l, who);
}

/* the pass's input rows [*q0, *q1) that the member moves: all of them
 * alone (an inference pass's rows are its own already) */
static int factor_rows(const gm_layer *l, const gm_layer_pass *p, const gm_member *self, int *q0, int *q1)
{
    const int H = l->in.h;
    *q0 = p->n0 * H;
    *q1 = p->n1 * H;
    if (self->size > 1) {
        int a, b;
        gm_team_share(self, *q1 - *q0, &a, &b);
        *q1 = *q0 + b;
        *q0 += a;
    }
    return l->factor;
}

static void shuffle_forward(const gm_layer *l, const gm_layer_pass *p, const gm_member *self, const float *x,
                            float *y)
{
    int q0, q1;
    const int r = factor_rows(l, p, self, &q0, &q1), C = l->split, W = l->in.w;
    gm_shuffle_forward(y, x, C, W, r, q0, q1);
    const int act = p->linear ? GM_ACT_IDENTITY : l->act;
    if (act != GM_ACT_IDENTITY && q1 > q0)
        gm_act_forward(y + (size_t)q0 * r * W * r * C, NULL, (q1 - q0) * r * W * r, C, act, l->slope);
    /* a local kind after it reads its channels without a barrier */
    if (self->size > 1)
        gm_team_sync(self);
}

static void shuffle_backward(const gm_layer *l, const gm_layer_pass *p, const gm_member *self,
                             const gm_layer_grad *d)
{
    if (!d->part)
        return;  /* no tensors: the input gradient is all it gives */
    /* the member's rows hold every member's channels of dy */
    if (self->size > 1)
        gm_team_sync(self);
    int q0, q1;
    const int r = factor_rows(l, p, self, &q0, &q1), C = l->split, W = l->in.w;
    const int act = p->linear ? GM_ACT_IDENTITY : l->act;
    const size_t at = (size_t)q0 * r * W * r * C;
    if (act != GM_ACT_IDENTITY && q1 > q0)
        gm_act_backward(d->dy + at, NULL, l->y + at, (q1 - q0) * r * W * r, C, act, l->slope);
    gm_shuffle_backward(d->part, d->dy, C, W, r, q0, q1);
}

static double shuffle_work(const gm_layer *l)
{
    return (double)gm_shape_size(l->in) * GM_WORK_STREAM;
}

const gm_layer_ops gm_layer_shuffle = {
    .name = "pixel_shuffle",
    .whole_dx = true,
    .declare = shuffle_declare,
    .resize = shuffle_resize,
    .forward = shuffle_forward,
    .backward = shuffle_backward,
    .work = shuffle_work,
};
