/* A multilayer perceptron: a stack of dense layers, each with its own
 * activation, whose parameters live in a shared gm_param_table under a name
 * prefix ("enc.0.weight", "enc.0.bias", ...). It owns the workspace holding
 * every layer's output for one batch, reused while the batch size fits.
 * Its passes run on a team (core/team.h): each member computes its share
 * of every layer's outputs, the same share in every pass; a pass with too
 * little work to split (rows times the layers' products) runs on the
 * caller alone.
 * Legend: N batch, D input width, O output width. */
#ifndef GM_NN_MLP_H
#define GM_NN_MLP_H

#include <stdbool.h>

#include "params.h"
#include "core/rng.h"
#include "core/team.h"
#include "core/workspace.h"

#define GM_MLP_MAX_LAYERS 8

typedef struct gm_mlp {
    int n_layers;
    int width[GM_MLP_MAX_LAYERS + 1];  /* width[0] input, width[i+1] layer i's output */
    int act[GM_MLP_MAX_LAYERS];
    float slope;                       /* leaky relu's negative slope */
    int first_param;                   /* layer i: weight at first_param + 2i, bias next */
    gm_team *team;                     /* runs the passes; NULL: the caller alone */
    int batch;                         /* rows the outputs are carved for */
    int backward_batch, members;       /* rows and team size the gradients are carved for */
    gm_workspace ws;
    float *out[GM_MLP_MAX_LAYERS];     /* (batch, width[i+1]) */
    float *delta[2];                   /* ping-pong gradients, (batch, widest) */
    float *partial[2];                 /* ping-pong dx parts of members 1..: (members - 1, backward_batch, widest input) */
} gm_mlp;

/* Declare the layers' parameters in t. widths has n_layers + 1 entries.
 * who (here and below) is the public call a failure's message names. */
gm_status gm_mlp_init(gm_mlp *mlp, gm_param_table *t, const char *prefix, int n_layers,
                      const int *widths, const int *acts, float slope, const char *who);
/* PyTorch-default initialisation of every layer (after gm_params_alloc). */
void gm_mlp_init_weights(const gm_mlp *mlp, gm_param_table *t, gm_rng *rng);
void gm_mlp_free(gm_mlp *mlp);

static inline int gm_mlp_in(const gm_mlp *mlp) { return mlp->width[0]; }
static inline int gm_mlp_out(const gm_mlp *mlp) { return mlp->width[mlp->n_layers]; }

/* Make the workspace fit N rows, and with backward the gradients of N rows
 * on the team too; allocates only when it did not fit already. */
gm_status gm_mlp_reserve(gm_mlp *mlp, int N, bool backward, const char *who);

/* x (N, D) -> returns the output (N, O), owned by the MLP, valid until its
 * next forward. Requires gm_mlp_reserve(mlp, N, ...). */
const float *gm_mlp_forward(gm_mlp *mlp, const gm_param_table *t, const float *x, int N);

/* The same output for a pass no backward follows: on a team, each member
 * takes its share of the rows through every layer, without meeting the
 * others, when there are enough rows for that (else as gm_mlp_forward). */
const float *gm_mlp_infer(gm_mlp *mlp, const gm_param_table *t, const float *x, int N);

/* What a backward pass does with the gradients of its layers' parameters. */
typedef enum gm_grads {
    GM_GRADS_SKIP,  /* leaves them: a generator's step needs only dx through the discriminator */
    GM_GRADS_SET,   /* writes them, whatever they held: no zeroing before a step's first pass */
    GM_GRADS_ADD,   /* adds to them */
} gm_grads;

/* After gm_mlp_forward on the same x: dout (N, O) is dL/d(output) and is
 * overwritten. Writes dx (N, D) unless NULL. Requires
 * gm_mlp_reserve(mlp, N, true) since the team last changed. */
void gm_mlp_backward(gm_mlp *mlp, gm_param_table *t, const float *x, float *dout, float *dx, int N, gm_grads grads);

#endif
