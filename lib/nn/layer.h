/* One layer of a network (lib/nn/net.h) and the operations record of its
 * kind. A network is a list of layers, each a kind's operations and the
 * layer's own state; the stack runs them all the same way, so a new kind
 * (convolution, normalization) is a new record, not a new stack.
 *
 * Data between layers is NHWC: a sample of shape (c, h, w) is h * w rows
 * of c floats, channel fastest, and a dense layer sees it as one row of
 * c * h * w. A team member (core/team.h) owns the same share of every
 * layer's output channels for a whole pass: its rows of the weights, its
 * channels of the outputs, its part of the input gradient.
 * Legend: N batch, C channels. */
#ifndef GM_NN_LAYER_H
#define GM_NN_LAYER_H

#include <stdbool.h>
#include <stddef.h>

#include "conv.h"
#include "params.h"
#include "core/rng.h"
#include "core/team.h"

/* The shape of one sample: c channels of h x w; a flat vector is (d, 1, 1). */
typedef struct gm_shape {
    int c, h, w;
} gm_shape;

static inline size_t gm_shape_size(gm_shape s) { return (size_t)s.c * s.h * s.w; }

typedef struct gm_layer_ops gm_layer_ops;

/* A layer as a network declares it: its kind, its output width (units of
 * a dense layer, channels of a convolution) and the activation after it. */
typedef struct gm_layer_spec {
    const gm_layer_ops *ops;
    int out;
    int act;
    int k, stride, pad, out_pad;  /* a convolution's square kernel and its steps */
    gm_shape reshape;  /* when set, the shape (of the same size) the next layer sees the output as */
    bool no_bias;      /* a product that batch normalization follows: the mean it takes away would take a bias
                          too, whose gradient is then rounding noise that Adam would turn into steps */
    bool spectral;     /* a product whose weight is spectrally normalized (nn/net.h) */
    int group;         /* minibatch standard deviation's group of samples */
    int factor;        /* a pixel shuffle's upscale factor r, 2..8 */
} gm_layer_spec;

typedef struct gm_layer {
    const gm_layer_ops *ops;
    gm_shape in, out;
    int split;        /* the channels the kind computes and a team splits: out.c unless reshaped (or the
                         kind's declare sets it) */
    int act;          /* gm_activation applied to the output */
    float slope;      /* leaky relu's */
    int param;        /* the first of the kind's tensors in the table */
    int tensors;      /* how many the kind declared */
    bool bias;        /* a product's bias follows its weight at param + 1 (not a spec's no_bias) */
    int sn;           /* spectral normalization's u buffer (v follows it), or 0 without */
    int sn_cols;      /* with sn: the weight seen as (split, sn_cols) */
    float *sn_w;      /* with sn: W / sigma as the passes use it, then pending u and v, sigma, scratch */
    gm_conv_geom geom; /* a convolution's */
    int group;        /* minibatch standard deviation's */
    int factor;       /* a pixel shuffle's */
    bool reshaped;    /* its output is seen in another shape (gm_layer_spec.reshape) */
    float *y;         /* the output, (batch, out size) */
    float *scratch;   /* the kind's own workspace (ops->scratch), or NULL */
} gm_layer;

/* One pass of a layer over rows [n0, n1) of a batch of N samples (all of
 * them when its channels are split), for the output channels [c0, c1). */
typedef struct gm_layer_pass {
    const gm_param_table *t;
    int N, n0, n1, c0, c1;
    int batches;  /* a training pass's: N rows are this many batches (gm_net_forward_stacked); 0 is 1 */
    bool train;   /* a training pass: batch statistics, and the running ones follow them */
    bool linear;  /* the product alone: no bias, no activation (the gradient penalty's passes) */
    int member;   /* the member's rank in its team, also when it runs alone on its rows (gm_net_infer): whose
                     part of a kind's per-member scratch the pass may use */
} gm_layer_pass;

/* What a backward pass asks of a layer. dy (N, out) holds dL/dy in the
 * member's channels on entry; the kind takes it back through the
 * activation in place. */
typedef struct gm_layer_grad {
    const float *x;     /* the layer's input (N, in) */
    float *dy;
    float *dW, *db;     /* the kind's parameter gradients: NULL skips them */
    bool accumulate;    /* add to dW and db, else write over them */
    float *part;        /* the member's part of the input gradient, (N, part width); NULL: none */
    bool other_x;       /* x is not the input of the layer's last forward pass (the gradient penalty's
                           passes), so nothing the forward kept of it may be used */
} gm_layer_grad;

struct gm_layer_ops {
    const char *name;
    /* reads only its own channels of the input (an elementwise kind): no
     * barrier before it */
    bool local;
    /* its backward writes whole input gradients, not a part for the team
     * to add up, by a division of its own (its channels, or its samples),
     * and may read every member's channels of dy: so does a local kind, in
     * its channels, reading its own */
    bool whole_dx;
    /* its outputs mix samples even in inference: a team may not split
     * its rows */
    bool mixes_rows;
    /* Optional: true when a team of members divides the kind's passes
     * over N samples (gm_net's, not gm_net_infer's row split, which runs
     * each member alone) by samples, each member computing every output
     * channel (and the activation's gradient) of its share of them
     * (gm_team_share of N); its parameter gradients are then per-member
     * partial sums that the team adds up, each member the rows of its
     * channel share (so the optimizer's shares stay right). The net meets
     * before a local kind after it, which would read channels another
     * member wrote, and before its backward, which reads every channel of
     * its samples of dy. NULL or false: by channels. Never asked of a
     * member alone (gm_layer_by_samples). */
    bool (*by_samples)(const gm_layer *l, int N, int members);
    /* Set l->out from l->in and the spec, and declare the kind's tensors
     * for layer index i under prefix (the first at l->param). */
    gm_status (*declare)(gm_layer *l, const gm_layer_spec *s, gm_param_table *t, const char *prefix, int i,
                         const char *who);
    /* Optional: set l->out (and the kind's geometry) for a new l->in of
     * the same channels, as declare did for the first; NULL: the kind takes
     * only the shape it was declared for (a dense layer's weights fix it). */
    gm_status (*resize)(gm_layer *l, const char *who);
    /* PyTorch's default initialisation; NULL for a kind without tensors. */
    void (*init)(const gm_layer *l, gm_param_table *t, gm_rng *rng);
    /* y's channels [c0, c1) of rows [n0, n1) from x (y is l->y but for
     * the gradient penalty's passes); a member whose pass splits channels
     * may meet the others. */
    void (*forward)(const gm_layer *l, const gm_layer_pass *p, const gm_member *self, const float *x, float *y);
    /* The parameter gradients of the member's share and its part of the
     * input gradient (members' parts add up to it). */
    void (*backward)(const gm_layer *l, const gm_layer_pass *p, const gm_member *self, const gm_layer_grad *g);
    /* Optional. Floats of l->scratch for batches of N rows and teams of up
     * to members members; when backward, for the backward pass too. */
    size_t (*scratch)(const gm_layer *l, int N, int members, bool backward);
    /* Optional: the fewest samples a training pass may have (batch
     * statistics need two values per channel); 1 without. */
    int (*min_batch)(const gm_layer *l);
    /* Optional, for kinds with buffers: start their pending copies from
     * t's current state (begin) and write them back (commit). */
    void (*begin)(const gm_layer *l, const gm_param_table *t);
    void (*commit)(const gm_layer *l, gm_param_table *t);
    /* Multiply-adds per sample of the forward pass (the backward's are
     * twice that): what decides whether a pass is worth splitting. */
    double (*work)(const gm_layer *l);
};

/* The weight a product's passes use: the spectrally normalized one when
 * the layer has it. */
static inline const float *gm_layer_weight(const gm_layer *l, const gm_layer_pass *p)
{
    return l->sn ? l->sn_w : gm_param_data(p->t, l->param);
}

/* A product's bias, or NULL without one (or in a linear pass). */
static inline float *gm_layer_bias(const gm_layer *l, const gm_layer_pass *p)
{
    return l->bias && !p->linear ? gm_param_data(p->t, l->param + 1) : NULL;
}

/* Whether a team of members divides l's passes over N samples by samples
 * (gm_layer_ops.by_samples); never alone. */
static inline bool gm_layer_by_samples(const gm_layer *l, int N, int members)
{
    return members > 1 && l->ops->by_samples && l->ops->by_samples(l, N, members);
}

extern const gm_layer_ops gm_layer_dense;      /* W (out, in size), b (out) */
extern const gm_layer_ops gm_layer_conv;       /* W (out, k, k, in.c), b (out) */
extern const gm_layer_ops gm_layer_convt;      /* transposed: W (out, k, k, in.c), b (out) */
extern const gm_layer_ops gm_layer_batchnorm;  /* weight, bias (c); buffers running_mean, running_var (c) */
extern const gm_layer_ops gm_layer_mbstd;      /* no tensors: (c, h, w) -> (c + 1, h, w) */
extern const gm_layer_ops gm_layer_shuffle;    /* no tensors: (c * r * r, h, w) -> (c, h * r, w * r) */

#endif
