/* The named-parameter table: every tensor a network trains, with its
 * gradient and Adam moments. Data, gradients and both moments are each one
 * contiguous run carved from a single allocation (in that order), so the
 * optimizer, the checkpoint and the tests walk one table.
 * Build it in two phases: gm_params_add every tensor, then gm_params_alloc. */
#ifndef GM_NN_PARAMS_H
#define GM_NN_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "genmodel/common.h"
#include "core/team.h"

#define GM_PARAM_NAME_MAX 48
#define GM_PARAM_MAX_RANK 4
/* floats after the gradients for a step's loss figures, so that a
 * data-parallel reduction hands over gradients and figures in one buffer */
#define GM_PARAM_FIGURES 16

typedef struct gm_param {
    char name[GM_PARAM_NAME_MAX];
    int rank;
    int64_t shape[GM_PARAM_MAX_RANK];
    size_t numel;
    size_t offset;  /* floats from the start of each run */
    bool buffer;    /* state the optimizer does not train (batch norm's running statistics) */
} gm_param;

typedef struct gm_param_table {
    gm_param *items;
    int count, capacity;
    size_t total;    /* floats per run, each tensor padded to a cache line */
    float *block;    /* the allocation: n_states times (data, m, v), then grad */
    int n_states;
    float *data, *m, *v, *grad;  /* grad: total floats, then GM_PARAM_FIGURES spare */
    int64_t step;    /* optimizer updates applied so far */
} gm_param_table;

/* Declare a tensor (before gm_params_alloc); *index receives its position.
 * who, the public call, names the failure in its message. */
gm_status gm_params_add(gm_param_table *t, const char *name, int rank, const int64_t *shape, int *index,
                        const char *who);
/* The same for a buffer: a tensor of the model's state that is saved,
 * loaded and carried from state to state like a weight, but that no
 * optimizer step changes (its gradient is never read). */
gm_status gm_params_add_buffer(gm_param_table *t, const char *name, int rank, const int64_t *shape, int *index,
                               const char *who);
/* Allocate n_states (1 to 3) states and the gradients, zeroed. One state
 * is updated in place; with more, each update writes a spare state and the
 * old one survives, so that a step can be undone by gm_params_use_state. */
gm_status gm_params_alloc(gm_param_table *t, int n_states, const char *who);
void gm_params_free(gm_param_table *t);

/* Floats from the start of a run to the end of the last tensor the
 * optimizer trains, padded: the gradients a data-parallel update averages.
 * What follows (a VAE's scoring state) has none; GM_PARAM_FIGURES spare
 * floats follow the gradients, so span + GM_PARAM_FIGURES <= total +
 * GM_PARAM_FIGURES always. */
size_t gm_params_trained_span(const gm_param_table *t);

static inline float *gm_param_data(const gm_param_table *t, int i) { return t->data + t->items[i].offset; }
static inline float *gm_param_grad(const gm_param_table *t, int i) { return t->grad + t->items[i].offset; }

/* One Adam step over the whole table; t->step counts it. With one state
 * it is made in place; with more it is written to a state that is neither
 * the current one nor keep (NULL: none to keep), which then becomes
 * current. If a gradient is not finite nothing changes and 0 is returned.
 * On a team, each member updates its share of every tensor's rows: the
 * rows whose gradients its share of a layer's outputs computed. */
int gm_params_adam_step(gm_param_table *t, const gm_optimizer_config *cfg, const float *keep, gm_team *team);

/* The member's share of tensor i: floats [*begin, *end) of each run, its
 * share of the tensor's rows (those of a layer's outputs it computes). */
void gm_params_share(const gm_member *self, const gm_param_table *t, int i, size_t *begin, size_t *end);

/* Point the table's data and moments at a state (as t->data gave it). */
void gm_params_use_state(gm_param_table *t, float *state);

#endif
