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

gm_status gm_params_alloc(gm_param_table *t, int n_states)
{
    float *block = gm_calloc((size_t)(3 * n_states + 1) * t->total, sizeof(float));
    if (!block)
        return gm_fail(GM_ERR_NO_MEMORY, "params: cannot allocate %zu parameters", t->total);
    t->block = block;
    t->n_states = n_states;
    gm_params_use_state(t, block);
    t->grad = block + (size_t)3 * n_states * t->total;
    t->step = 0;
    return GM_OK;
}

void gm_params_free(gm_param_table *t)
{
    gm_free(t->block);
    gm_free(t->items);
    memset(t, 0, sizeof *t);
}

void gm_params_use_state(gm_param_table *t, float *state)
{
    t->data = state;
    t->m = state + t->total;
    t->v = state + 2 * t->total;
}

int gm_params_adam_step(gm_param_table *t, const gm_optimizer_config *cfg, const float *keep)
{
    const size_t n = t->total;
    if (!gm_all_finite(t->grad, n))
        return 0;
    t->step++;
    if (t->n_states == 1) {
        gm_adam_update(t->data, t->m, t->v, t->grad, n, cfg, t->step);
        return 1;
    }
    float *out = t->block;
    for (int i = 1; i < t->n_states && (out == t->data || out == keep); i++)
        out = t->block + (size_t)3 * i * n;
    gm_adam_update_to(out, out + n, out + 2 * n, t->data, t->m, t->v, t->grad, n, cfg, t->step);
    gm_params_use_state(t, out);
    return 1;
}
