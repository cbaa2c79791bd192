/* The convolution and transposed-convolution kinds of layer (nn/layer.h)
 * on conv.h's kernels. A convolution keeps no im2col matrix: each member
 * gathers chunks of it (conv.h) into a scratch of its own in the forward
 * pass and again for the weights' gradient, so that the products read it
 * from the core's cache, not from memory. At stride 1, on a batch that
 * gives every member samples, a team divides the passes by samples
 * (conv_by_samples): each member gathers only its samples' chunks and
 * computes all their channels, and its weight and bias gradients are
 * partial sums in its part of the scratch, which after a meeting each
 * member adds up, in the members' order, in the rows of its channel share
 * (the rows Adam's share updates). Otherwise members split the output
 * channels, each gathering all of the chunks, and the team never meets in
 * a forward pass. Its input gradient goes by samples, not by channels: each
 * member takes its samples' rows of dy times the whole W, so no member
 * makes a partial matrix as large as the im2col one for the others to add
 * up. At stride 1 that is a correlation of dy with the flipped kernel
 * (gm_conv_dx_by_correlation), whose members flip their channels' rows of
 * W before they meet; otherwise the product goes into the member's rows
 * of the matrix's gradient, folded into dx. A transposed convolution's
 * input-gradient parts are parts of dx itself, a small matrix. */
#include <stdio.h>
#include <string.h>

#include "conv.h"
#include "layer.h"
#include "core/act.h"
#include "core/blas.h"
#include "core/error.h"

static gm_status declare(gm_layer *l, const gm_layer_spec *s, gm_param_table *t, const char *prefix, int i,
                         bool transposed, const char *who)
{
    gm_status st = gm_conv_geom_init(&l->geom, transposed, l->in.c, l->in.h, l->in.w, s->out, s->k, s->stride,
                                     s->pad, s->out_pad, who);
    if (st != GM_OK)
        return st;
    const gm_conv_geom *g = &l->geom;
    l->out = (gm_shape){ g->out_c, g->out_h, g->out_w };
    char name[GM_PARAM_NAME_MAX];
    int64_t wshape[4] = { g->out_c, g->k, g->k, g->in_c }, bshape[1] = { g->out_c };
    snprintf(name, sizeof name, "%s.%d.weight", prefix, i);
    if ((st = gm_params_add(t, name, 4, wshape, NULL, who)) != GM_OK || !l->bias)
        return st;
    snprintf(name, sizeof name, "%s.%d.bias", prefix, i);
    return gm_params_add(t, name, 1, bshape, NULL, who);
}

static gm_status resize(gm_layer *l, const char *who)
{
    const gm_conv_geom *g = &l->geom;
    gm_status st = gm_conv_geom_init(&l->geom, g->transposed, l->in.c, l->in.h, l->in.w, g->out_c, g->k, g->stride,
                                     g->pad, g->out_pad, who);
    if (st == GM_OK)
        l->out = (gm_shape){ g->out_c, g->out_h, g->out_w };
    return st;
}

static void init(const gm_layer *l, gm_param_table *t, gm_rng *rng)
{
    gm_conv_init(rng, gm_param_data(t, l->param), l->bias ? gm_param_data(t, l->param + 1) : NULL, &l->geom);
}

static double work(const gm_layer *l)
{
    const gm_conv_geom *g = &l->geom;
    const double pixels = g->transposed ? (double)g->in_h * g->in_w : (double)g->out_h * g->out_w;
    return pixels * g->k * g->k * g->in_c * g->out_c;
}

/* ---- convolution ---- */

static gm_status conv_declare(gm_layer *l, const gm_layer_spec *s, gm_param_table *t, const char *prefix, int i,
                              const char *who)
{
    return declare(l, s, t, prefix, i, false, who);
}

/* the im2col matrix: one row per output pixel, K*K*in_c columns */
static size_t col_width(const gm_layer *l)
{
    return (size_t)l->geom.k * l->geom.k * l->geom.in_c;
}

static size_t pixels_out(const gm_layer *l)
{
    return (size_t)l->geom.out_h * l->geom.out_w;
}

/* The scratch: the flipped weights Wf when the input gradient is a
 * correlation, each member's chunk of col, and the matrix of dL/dcol
 * (N rows as col's) when it is not. */
static size_t flipped_floats(const gm_layer *l)
{
    return gm_conv_dx_by_correlation(&l->geom) ? (size_t)l->geom.out_c * col_width(l) : 0;
}

/* Samples a member needs before a team divides a conv by them: the
 * multiple gm_team_share cuts at, so that every member has some and each
 * one's chunks are a caller's alone (conv.h). */
enum { MIN_SAMPLES_PER_MEMBER = 16 };

/* At stride 1 a team divides by samples: then no member gathers another's
 * chunks, and a thin layer (the ESPCN's 4 or 32 channels) still splits
 * evenly. A strided conv (a DCGAN's discriminator) keeps its channels: its
 * weights are the wide matrix a member would otherwise add up whole. A
 * spectrally normalized weight is made by the members' rows in the pass
 * (net.c), which every member's samples would read. */
static bool may_go_by_samples(const gm_layer *l)
{
    return !l->geom.transposed && l->geom.stride == 1 && !l->sn;
}

static bool conv_by_samples(const gm_layer *l, int N, int members)
{
    return may_go_by_samples(l) && N >= MIN_SAMPLES_PER_MEMBER * members;
}

/* A member's partial sums of dW and db by samples: a whole dW, then db,
 * padded to a cache line so that no two members write one line. */
static size_t partial_floats(const gm_layer *l)
{
    const size_t floats = (size_t)l->geom.out_c * col_width(l) + (size_t)l->geom.out_c;
    return (floats + 15) / 16 * 16;
}

static size_t dcol_floats(const gm_layer *l, int N)
{
    return gm_conv_dx_by_correlation(&l->geom) ? 0 : (size_t)N * pixels_out(l) * col_width(l);
}

/* ... and the members' partial sums last, when a team may divide the
 * backward by samples */
static size_t conv_scratch(const gm_layer *l, int N, int members, bool backward)
{
    const size_t partials = backward && members > 1 && may_go_by_samples(l) ? members * partial_floats(l) : 0;
    return flipped_floats(l) + (size_t)members * gm_conv_chunk_floats(&l->geom, N) + dcol_floats(l, N) + partials;
}

/* the pass's batch is no larger than the one the scratch was carved for,
 * nor its members' chunks */
static float *chunk_of(const gm_layer *l, const gm_layer_pass *p)
{
    return l->scratch + flipped_floats(l) + (size_t)p->member * gm_conv_chunk_floats(&l->geom, p->N);
}

/* the member's partial sums, after as many chunks and dcol rows as the
 * team and the pass's batch take: within what was carved for no fewer */
static float *partial_of(const gm_layer *l, const gm_layer_pass *p, const gm_member *self, int rank)
{
    return l->scratch + flipped_floats(l) + (size_t)self->size * gm_conv_chunk_floats(&l->geom, p->N) +
           dcol_floats(l, p->N) + (size_t)rank * partial_floats(l);
}

static void conv_forward(const gm_layer *l, const gm_layer_pass *p, const gm_member *self, const float *x, float *y)
{
    int n0 = p->n0, n1 = p->n1, c0 = p->c0, c1 = p->c1;
    if (gm_layer_by_samples(l, p->N, self->size)) {
        gm_team_share(self, p->N, &n0, &n1);
        c0 = 0;
        c1 = l->geom.out_c;
    }
    gm_conv_forward_share(y, chunk_of(l, p), x, gm_layer_weight(l, p), gm_layer_bias(l, p), &l->geom, p->N, n0, n1,
                          c0, c1, p->linear ? GM_ACT_IDENTITY : l->act, l->slope);
}

/* dW's rows and db's entries of the channels [c0, c1) from the members'
 * partial sums, added in the members' order: the same for the same team
 * size, whoever sums them */
static void sum_partials(const gm_layer *l, const gm_layer_pass *p, const gm_member *self, const gm_layer_grad *d)
{
    const size_t K = col_width(l), O = (size_t)l->geom.out_c;
    for (int q = 0; q < self->size; q++) {
        const float *part = partial_of(l, p, self, q);
        const bool over = q == 0 && !d->accumulate;
        if (d->dW)
            for (size_t i = (size_t)p->c0 * K; i < (size_t)p->c1 * K; i++)
                d->dW[i] = over ? part[i] : d->dW[i] + part[i];
        if (d->db)
            for (int o = p->c0; o < p->c1; o++)
                d->db[o] = over ? part[O * K + o] : d->db[o] + part[O * K + o];
    }
}

static void conv_backward(const gm_layer *l, const gm_layer_pass *p, const gm_member *self, const gm_layer_grad *d)
{
    const gm_conv_geom *g = &l->geom;
    const float *W = gm_layer_weight(l, p);
    float *chunk = chunk_of(l, p);
    const int act = p->linear ? GM_ACT_IDENTITY : l->act;
    const bool by_samples = gm_layer_by_samples(l, p->N, self->size);
    int n0, n1;
    gm_team_share(self, p->N, &n0, &n1);
    if (by_samples) {
        /* every channel of dy through the activation in the member's
         * samples, and the weights' gradients of those samples as its
         * partial sums, from its own chunks */
        const size_t at = (size_t)n0 * pixels_out(l) * g->out_c;
        float *part = partial_of(l, p, self, self->rank);
        float *dW = d->dW ? part : NULL, *db = d->db ? part + (size_t)g->out_c * col_width(l) : NULL;
        if (n1 > n0)
            gm_conv_backward_share(NULL, dW, db, false, d->dy + at, chunk, d->x + (size_t)n0 * gm_shape_size(l->in),
                                   W, l->y + at, g, n1 - n0, 0, g->out_c, act, l->slope);
        else if (d->dW || d->db)
            memset(part, 0, partial_floats(l) * sizeof *part);
    } else {
        /* dy through the activation, and the weights' gradients, in the
         * share's channels, from x's chunks gathered anew (the gradient
         * penalty's x is not the last forward's, and it needs no other
         * path) */
        gm_conv_backward_share(NULL, d->dW, d->db, d->accumulate, d->dy, chunk, d->x, W, l->y, g, p->N, p->c0,
                               p->c1, act, l->slope);
    }
    const bool correlate = gm_conv_dx_by_correlation(g);
    if (d->part && correlate)
        gm_conv_flip_share(l->scratch, W, g, p->c0, p->c1);
    if (by_samples) {
        gm_team_sync(self);
        if (d->dW || d->db)
            sum_partials(l, p, self, d);
    }
    if (!d->part)
        return;
    /* the input gradient of the member's samples, from every channel of dy */
    if (!by_samples)
        gm_team_sync(self);
    if (n1 <= n0)
        return;
    if (correlate) {
        gm_conv_dx_samples(d->part, chunk, d->dy, l->scratch, g, n0, n1);
        return;
    }
    const int P = (int)pixels_out(l), K = (int)col_width(l), O = g->out_c;
    /* the dcol matrix follows the members' chunks, carved for as many as the team has */
    float *dcol = l->scratch + flipped_floats(l) + (size_t)self->size * gm_conv_chunk_floats(g, p->N) +
                  (size_t)n0 * P * K;
    gm_gemm_ld(false, false, (n1 - n0) * P, K, O, 1.0f, d->dy + (size_t)n0 * P * O, O, W, K, 0.0f, dcol, K);
    const float *parts[1] = { dcol };
    gm_conv_col2im(d->part + (size_t)n0 * gm_shape_size(l->in), parts, 1, g, n1 - n0, 0, g->in_c);
}

const gm_layer_ops gm_layer_conv = {
    .name = "conv",
    .whole_dx = true,
    .by_samples = conv_by_samples,
    .declare = conv_declare,
    .resize = resize,
    .init = init,
    .forward = conv_forward,
    .backward = conv_backward,
    .scratch = conv_scratch,
    .work = work,
};

/* ---- transposed convolution ---- */

static gm_status convt_declare(gm_layer *l, const gm_layer_spec *s, gm_param_table *t, const char *prefix, int i,
                               const char *who)
{
    return declare(l, s, t, prefix, i, true, who);
}

/* the product's output before the fold: one row per input pixel,
 * out_c*K*K columns (the backward gathers dy into the same shape) */
static size_t convt_scratch(const gm_layer *l, int N, int members, bool backward)
{
    (void)members;
    (void)backward;
    const gm_conv_geom *g = &l->geom;
    return (size_t)N * g->in_h * g->in_w * g->out_c * g->k * g->k;
}

static void convt_forward(const gm_layer *l, const gm_layer_pass *p, const gm_member *self, const float *x, float *y)
{
    (void)self;
    const gm_conv_geom *g = &l->geom;
    const size_t in = gm_shape_size(l->in);
    gm_convt_forward_share(y + (size_t)p->n0 * gm_shape_size(l->out), l->scratch + (size_t)p->n0 * in / g->in_c *
                           g->out_c * g->k * g->k, x + (size_t)p->n0 * in, gm_layer_weight(l, p),
                           gm_layer_bias(l, p), g, p->n1 - p->n0, p->c0, p->c1,
                           p->linear ? GM_ACT_IDENTITY : l->act, l->slope);
}

static void convt_backward(const gm_layer *l, const gm_layer_pass *p, const gm_member *self, const gm_layer_grad *d)
{
    (void)self;
    gm_convt_backward_share(d->part, d->dW, d->db, d->accumulate, d->dy, l->scratch, d->x,
                            gm_layer_weight(l, p), l->y, &l->geom, p->N, p->c0, p->c1,
                            p->linear ? GM_ACT_IDENTITY : l->act, l->slope);
}

const gm_layer_ops gm_layer_convt = {
    .name = "convt",
    .declare = convt_declare,
    .resize = resize,
    .init = init,
    .forward = convt_forward,
    .backward = convt_backward,
    .scratch = convt_scratch,
    .work = work,
};
