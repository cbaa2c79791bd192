#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "params.h"
#include "core/adam.h"
#include "core/alloc.h"
#include "core/error.h"

#define FLOATS_PER_LINE (GM_ALIGN / sizeof(float))

gm_status gm_params_add(gm_param_table *t, const char *name, int rank, const int64_t *shape, int *index,
                        const char *who)
{
    if (t->data)
        return gm_fail(GM_ERR_STATE, "%s: tensor '%s' added after allocation", who, name);
    if (rank < 1 || rank > GM_PARAM_MAX_RANK || strlen(name) >= GM_PARAM_NAME_MAX)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: bad tensor '%s'", who, name);
    if (t->count == t->capacity) {
        int grown_capacity = t->capacity ? 2 * t->capacity : 16;
        gm_param *grown = gm_malloc((size_t)grown_capacity * sizeof *grown);
        if (!grown)
            return gm_fail(GM_ERR_NO_MEMORY, "%s: out of memory: cannot grow the parameter table", who);
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

size_t gm_params_trained_span(const gm_param_table *t)
{
    size_t end = 0;
    for (int i = 0; i < t->count; i++)
        if (!t->items[i].buffer)
            end = t->items[i].offset + (t->items[i].numel + FLOATS_PER_LINE - 1) / FLOATS_PER_LINE * FLOATS_PER_LINE;
    return end;
}

gm_status gm_params_add_buffer(gm_param_table *t, const char *name, int rank, const int64_t *shape, int *index,
                               const char *who)
{
    int i = 0;
    gm_status s = gm_params_add(t, name, rank, shape, &i, who);
    if (s == GM_OK) {
        t->items[i].buffer = true;
        if (index)
            *index = i;
    }
    return s;
}

gm_status gm_params_alloc(gm_param_table *t, int n_states, const char *who)
{
    float *block = gm_calloc((size_t)(3 * n_states + 1) * t->total + GM_PARAM_FIGURES, sizeof(float));
    if (!block)
        return gm_fail(GM_ERR_NO_MEMORY, "%s: out of memory: cannot allocate %zu parameters", who, t->total);
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

typedef struct adam_pass {
    gm_param_table *t;
    const gm_optimizer_config *cfg;
    float *out;          /* the state to write; t->data when in place */
    atomic_int finite;   /* cleared by a member that finds a bad gradient */
} adam_pass;

void gm_params_share(const gm_member *self, const gm_param_table *t, int i, size_t *begin, size_t *end)
{
    const gm_param *p = &t->items[i];
    int r0, r1;
    gm_team_share(self, (int)p->shape[0], &r0, &r1);
    const size_t row = p->numel / (size_t)p->shape[0];
    *begin = p->offset + (size_t)r0 * row;
    *end = p->offset + (size_t)r1 * row;
}

static void adam_job(const gm_member *self, void *arg)
{
    adam_pass *a = arg;
    gm_param_table *t = a->t;
    const size_t n = t->total;
    size_t begin, end;
    for (int i = 0; i < t->count && atomic_load(&a->finite); i++) {
        if (t->items[i].buffer)
            continue;
        gm_params_share(self, t, i, &begin, &end);
        if (!gm_all_finite(t->grad + begin, end - begin))
            atomic_store(&a->finite, 0);
    }
    gm_team_sync(self);
    if (!atomic_load(&a->finite))
        return;
    for (int i = 0; i < t->count; i++) {
        gm_params_share(self, t, i, &begin, &end);
        const size_t len = end - begin;
        if (t->items[i].buffer) {
            /* carried into the new state as it is */
            if (a->out != t->data)
                for (int run = 0; run < 3; run++)
                    memcpy(a->out + run * n + begin, t->data + run * n + begin, len * sizeof(float));
        } else if (a->out == t->data)
            gm_adam_update(t->data + begin, t->m + begin, t->v + begin, t->grad + begin, len, a->cfg,
                           t->step + 1);
        else
            gm_adam_update_to(a->out + begin, a->out + n + begin, a->out + 2 * n + begin, t->data + begin,
                              t->m + begin, t->v + begin, t->grad + begin, len, a->cfg, t->step + 1);
    }
}

int gm_params_adam_step(gm_param_table *t, const gm_optimizer_config *cfg, const float *keep, gm_team *team)
{
    float *out = t->data;
    if (t->n_states > 1) {
        out = t->block;
        for (int i = 1; i < t->n_states && (out == t->data || out == keep); i++)
            out = t->block + (size_t)3 * i * t->total;
    }
    adam_pass a = { .t = t, .cfg = cfg, .out = out, .finite = 1 };
    /* elementwise: a small table is updated by the caller alone */
    gm_team_run_sized(team, adam_job, &a, (double)t->total * GM_WORK_STREAM);
    if (!atomic_load(&a.finite))
        return 0;
    t->step++;
    gm_params_use_state(t, out);
    return 1;
}
