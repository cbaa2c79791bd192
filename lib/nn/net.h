/* A network: a stack of layers (lib/nn/layer.h), each of its kind, whose
 * parameters live in a shared gm_param_table under a name prefix
 * ("enc.0.weight", "enc.0.bias", ...). It owns the workspace holding every
 * layer's output for one batch, reused while the batch size fits.
 * Its passes run on a team (core/team.h): each member computes its share
 * of every layer's output channels, the same share in every pass; a pass
 * with too little work to split (rows times the layers' products) runs on
 * the caller alone.
 * Legend: N batch, D input size, O output size (per sample). */
#ifndef GM_NN_NET_H
#define GM_NN_NET_H

#include <stdbool.h>

#include "layer.h"
#include "params.h"
#include "core/rng.h"
#include "core/team.h"
#include "core/workspace.h"

#define GM_NET_MAX_LAYERS 24
#define GM_NET_MAX_BATCHES 2  /* stacked in one training pass (gm_net_forward_stacked) */

typedef struct gm_net {
    int n_layers;
    gm_layer layer[GM_NET_MAX_LAYERS];
    gm_team *team;                     /* runs the passes; NULL: the caller alone */
    int batch;                         /* rows the outputs are carved for */
    int backward_batch, members;       /* rows and team size the gradients are carved for */
    int scratch_members;               /* team size the layers' scratch is carved for */
    gm_workspace ws;
    float *delta[2];                   /* ping-pong gradients, (batch, widest) */
    float *partial[2];                 /* ping-pong dx parts of members 1..: (members - 1, backward_batch, widest part) */
    int batches;                       /* stacked in the last training pass, which its backward takes */
} gm_net;

/* Declare the layers' parameters in t: in is a sample's shape, specs
 * the n_layers layers in order. slope is leaky relu's, for every layer.
 * who (here and below) is the public call a failure's message names. */
gm_status gm_net_init(gm_net *net, gm_param_table *t, const char *prefix, gm_shape in, int n_layers,
                      const gm_layer_spec *specs, float slope, const char *who);
/* Make the network take inputs of h x w pixels (its channels as they
 * are): a fully convolutional one runs on any image size. Every layer's
 * shape follows; its parameters stay. The workspace is carved anew at the
 * next gm_net_reserve, growing only when the new shapes need more.
 * GM_ERR_INVALID_ARG when a layer cannot (a dense layer, a reshape, a
 * convolution's output below one pixel); the network is as it was then. */
gm_status gm_net_resize(gm_net *net, int h, int w, const char *who);
/* A multilayer perceptron: n_layers dense layers mapping widths[i] to
 * widths[i + 1], layer i with activation acts[i]. */
gm_status gm_net_init_mlp(gm_net *net, gm_param_table *t, const char *prefix, int n_layers, const int *widths,
                          const int *acts, float slope, const char *who);
/* PyTorch-default initialisation of every layer (after gm_params_alloc). */
void gm_net_init_weights(const gm_net *net, gm_param_table *t, gm_rng *rng);
void gm_net_free(gm_net *net);

static inline int gm_net_in(const gm_net *net) { return (int)gm_shape_size(net->layer[0].in); }
static inline int gm_net_out(const gm_net *net) { return (int)gm_shape_size(net->layer[net->n_layers - 1].out); }
/* The output of the last forward pass, (N, O). */
static inline float *gm_net_output(const gm_net *net) { return net->layer[net->n_layers - 1].y; }

/* Make the workspace fit N rows, and with backward the gradients of N rows
 * on the team too; allocates only when it did not fit already. */
gm_status gm_net_reserve(gm_net *net, int N, bool backward, const char *who);

/* x (N, D) -> returns the output (N, O) of a training pass, owned by the
 * network, valid until its next forward. Requires gm_net_reserve(net, N,
 * ...). A layer with running statistics uses the batch's, and its
 * running ones follow them in a pending copy that gm_net_commit keeps. */
const float *gm_net_forward(gm_net *net, const gm_param_table *t, const float *x, int N);

/* The same over B (1..GM_NET_MAX_BATCHES) batches of N / B rows stacked in
 * x, as if each were a pass of its own: batch statistics are each batch's,
 * and the running ones follow the batches in order (a discriminator shown
 * its real and its generated samples in one pass). N is a multiple of B;
 * the backward pass after it takes the batches alike. */
const float *gm_net_forward_stacked(gm_net *net, const gm_param_table *t, const float *x, int N, int B);

/* The output of an inference pass (running statistics), which no
 * backward follows: on a team, each member takes its share of the rows
 * through every layer, without meeting the others, when there are enough
 * rows for that (32 a member, or one a member when a row is a whole
 * image's worth of work). */
const float *gm_net_infer(gm_net *net, const gm_param_table *t, const float *x, int N);

/* The fewest samples a training pass may have: 2 with batch statistics
 * over single values (a flat batch norm), else 1. */
int gm_net_min_batch(const gm_net *net);

/* A training step's bracket for the layers' buffers: begin starts the
 * pending copies from t's current state; commit writes them into t's
 * current state, after the step's update has succeeded (a failed step
 * skips it and leaves the buffers as they were). Training passes need a
 * begin since the buffers last changed. */
void gm_net_begin_step(gm_net *net, const gm_param_table *t);
void gm_net_commit(gm_net *net, gm_param_table *t);

/* Spectral normalization (gm_layer_spec.spectral): one power iteration of
 * the pending u and v of every such layer, once per update of the
 * network's weights, before its training passes. Between iterations the
 * passes take u and v as constants (as PyTorch's backward does), so a
 * pass's gradient is that of the function it computed. */
void gm_net_refresh(gm_net *net, const gm_param_table *t);

/* The passes leave a spectral layer's weight gradient as the gradient of
 * W_sn = W / sigma(W), added up over them (the gradient penalty's
 * included); this makes it that of W. Call it once, after the last pass
 * whose gradients go into the update. */
void gm_net_weight_grads(gm_net *net, gm_param_table *t);

/* What a backward pass does with the gradients of its layers' parameters. */
typedef enum gm_grads {
    GM_GRADS_SKIP,  /* leaves them: a generator's step needs only dx through the discriminator */
    GM_GRADS_SET,   /* writes them, whatever they held: no zeroing before a step's first pass */
    GM_GRADS_ADD,   /* adds to them */
} gm_grads;

/* After gm_net_forward on the same x: dout (N, O) is dL/d(output) and is
 * overwritten. Writes dx (N, D) unless NULL. Requires
 * gm_net_reserve(net, N, true) since the team last changed. */
void gm_net_backward(gm_net *net, gm_param_table *t, const float *x, float *dout, float *dx, int N, gm_grads grads);

#endif
