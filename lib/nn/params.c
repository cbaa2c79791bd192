#include <math.h>
#include <stdio.h>
#include <string.h>

#include "params.h"
#include "core/adam.h"
#include "core/alloc.h"
#include "core/error.h"

#define FLOATS_PER_LINE (GM_ALIGN / sizeof(float))

gm_status gm_params_add(gm_param_table *t, const char *name, int rank, const int64_t *shape, int *index)
{
    if (t->data)
        return gm_fail(GM_ERR_STATE, "params: '%s' added after allocation", name);
    if (rank < 1 || rank > GM_PARAM_MAX_RANK || strlen(name) >= GM_PARAM_NAME_MAX)
        return gm_fail(GM_ERR_INVALID_ARG, "params: bad tensor '%s'", name);
    if (t->count == t->capacity) {
        int grown_capacity = t->capacity ? 2 * t->capacity : 16;
        gm_param *grown = gm_malloc((size_t)grown_capacity * sizeof *grown);
        if (!grown)
            return gm_fail(GM_ERR_NO_MEMORY, "params: cannot grow the table");
        if (t->count)
            memcpy(grown, t->items, (size_t)t->count * sizeof *grown);
        gm_free(t->items);
        t->items = grown;
        t->capacity = grown_capacity;
    }
    gm_param *p = &t->items[t->count];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->rank = rank;
    p->numel = 1;
    for (int i = 0; i < rank; i++) {
        p->shape[i] = shape[i];
        p->numel *= (size_t)shape[i];
    }
    p->offset = t->total;
    t->total += (p->numel + FLOATS_PER_LINE - 1) / FLOATS_PER_LINE * FLOATS_PER_LINE;
    if (index)
        *index = t->count;
    t->count++;
    return GM_OK;
}

gm_status gm_params_alloc(gm_param_table *t)
{
    float *block = gm_calloc(4 * t->total, sizeof(float));
    if (!block)
        return gm_fail(GM_ERR_NO_MEMORY, "params: cannot allocate %zu parameters", t->total);
    t->block = block;
    gm_params_use_state(t, block);
    t->grad = block + 3 * t->total;
    t->step = 0;
    return GM_OK;
}

void gm_params_free(gm_param_table *t)
{
    gm_free(t->block);
    gm_free(t->items);
    memset(t, 0, sizeof *t);
}

void gm_params_zero_grad(gm_param_table *t)
{
    memset(t->grad, 0, t->total * sizeof(float));
}

int gm_params_grad_finite(const gm_param_table *t)
{
    /* a NaN or Inf anywhere makes the sum non-finite; 0 * Inf is NaN too */
    float acc = 0.0f;
    for (size_t i = 0; i < t->total; i++)
        acc += 0.0f * t->grad[i];
    return acc == 0.0f;
}

void gm_params_use_state(gm_param_table *t, float *state)
{
    t->data = state;
    t->m = state + t->total;
    t->v = state + 2 * t->total;
}

void gm_params_adam_step(gm_param_table *t, const gm_optimizer_config *cfg)
{
    gm_params_adam_step_into(t, cfg, t->data);
}

void gm_params_adam_step_into(gm_param_table *t, const gm_optimizer_config *cfg, float *state_out)
{
    size_t n = t->total;
    t->step++;
    gm_adam_update(state_out, state_out + n, state_out + 2 * n, t->data, t->m, t->v, t->grad, n, cfg, t->step);
    gm_params_use_state(t, state_out);
}
