#include <stdio.h>
#include <string.h>

#include "mlp.h"
#include "dense.h"
#include "core/act.h"
#include "core/error.h"

gm_status gm_mlp_init(gm_mlp *mlp, gm_param_table *t, const char *prefix, int n_layers,
                      const int *widths, const int *acts, float slope, const char *who)
{
    memset(mlp, 0, sizeof *mlp);
    if (n_layers < 1 || n_layers > GM_MLP_MAX_LAYERS)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s has %d layers, the limit is %d", who, prefix, n_layers,
                       GM_MLP_MAX_LAYERS);
    mlp->n_layers = n_layers;
    mlp->slope = slope;
    mlp->first_param = t->count;
    for (int i = 0; i <= n_layers; i++) {
        if (widths[i] < 1)
            return gm_fail(GM_ERR_INVALID_ARG, "%s: %s's layer width %d must be >= 1", who, prefix, widths[i]);
        mlp->width[i] = widths[i];
    }
    for (int i = 0; i < n_layers; i++) {
        if (!gm_act_valid(acts[i]))
            return gm_fail(GM_ERR_INVALID_ARG, "%s: %s: unknown activation %d", who, prefix, acts[i]);
        mlp->act[i] = acts[i];
        char name[GM_PARAM_NAME_MAX];
        int64_t wshape[2] = { widths[i + 1], widths[i] }, bshape[1] = { widths[i + 1] };
        snprintf(name, sizeof name, "%s.%d.weight", prefix, i);
        gm_status s = gm_params_add(t, name, 2, wshape, NULL, who);
        if (s != GM_OK)
            return s;
        snprintf(name, sizeof name, "%s.%d.bias", prefix, i);
        if ((s = gm_params_add(t, name, 1, bshape, NULL, who)) != GM_OK)
            return s;
    }
    return GM_OK;
}

void gm_mlp_init_weights(const gm_mlp *mlp, gm_param_table *t, gm_rng *rng)
{
    for (int i = 0; i < mlp->n_layers; i++) {
        int w = mlp->first_param + 2 * i;
        gm_dense_init(rng, gm_param_data(t, w), gm_param_data(t, w + 1), mlp->width[i], mlp->width[i + 1]);
    }
}

void gm_mlp_free(gm_mlp *mlp)
{
    gm_ws_free(&mlp->ws);
    mlp->batch = 0;
}

gm_status gm_mlp_reserve(gm_mlp *mlp, int N, bool backward, const char *who)
{
    const int members = gm_team_size(mlp->team);
    if (N <= mlp->batch && (!backward || (N <= mlp->backward_batch && members <= mlp->members)))
        return GM_OK;
    /* what was reserved stays reserved: carve for the larger of each */
    const int rows = N > mlp->batch ? N : mlp->batch;
    const int back_rows = backward && N > mlp->backward_batch ? N : mlp->backward_batch;
    const int back_members = backward && members > mlp->members ? members : mlp->members;
    float **slots[GM_MLP_MAX_LAYERS + 4];
    size_t counts[GM_MLP_MAX_LAYERS + 4];
    int widest = 0, widest_input = 0;
    for (int i = 0; i < mlp->n_layers; i++) {
        slots[i] = &mlp->out[i];
        counts[i] = (size_t)rows * mlp->width[i + 1];
        if (mlp->width[i + 1] > widest)
            widest = mlp->width[i + 1];
        if (mlp->width[i] > widest_input)
            widest_input = mlp->width[i];
    }
    const int L = mlp->n_layers;
    slots[L] = &mlp->delta[0];
    slots[L + 1] = &mlp->delta[1];
    counts[L] = counts[L + 1] = (size_t)back_rows * widest;
    slots[L + 2] = &mlp->partial[0];
    slots[L + 3] = &mlp->partial[1];
    counts[L + 2] = counts[L + 3] = (size_t)(back_members > 1 ? back_members - 1 : 0) * back_rows * widest_input;
    gm_status s = gm_ws_carve(&mlp->ws, L + 4, slots, counts, who);
    if (s == GM_OK) {
        mlp->batch = rows;
        mlp->backward_batch = back_rows;
        mlp->members = back_members;
    }
    return s;
}

typedef struct mlp_pass {
    gm_mlp *mlp;
    const gm_param_table *t;
    const float *x;
    float *dout, *dx;
    int N;
    gm_grads grads;
} mlp_pass;

/* multiply-adds of one pass's products over N rows: each layer's
 * N x in x out, once forward, twice backward (dW and dx) */
static double pass_work(const gm_mlp *mlp, int N)
{
    double per_row = 0.0;
    for (int i = 0; i < mlp->n_layers; i++)
        per_row += (double)mlp->width[i] * mlp->width[i + 1];
    return per_row * N;
}

static void forward_job(const gm_member *self, void *arg)
{
    const mlp_pass *p = arg;
    gm_mlp *mlp = p->mlp;
    const float *in = p->x;
    for (int i = 0; i < mlp->n_layers; i++) {
        if (i > 0)
            gm_team_sync(self);  /* the layer reads every member's share of its input */
        int w = mlp->first_param + 2 * i, o0, o1;
        gm_team_share(self, mlp->width[i + 1], &o0, &o1);
        gm_dense_forward_share(mlp->out[i], in, gm_param_data(p->t, w), gm_param_data(p->t, w + 1), p->N,
                               mlp->width[i], mlp->width[i + 1], o0, o1, mlp->act[i], mlp->slope);
        in = mlp->out[i];
    }
}

const float *gm_mlp_forward(gm_mlp *mlp, const gm_param_table *t, const float *x, int N)
{
    mlp_pass p = { .mlp = mlp, .t = t, .x = x, .N = N };
    gm_team_run_sized(mlp->team, forward_job, &p, pass_work(mlp, N));
    return mlp->out[mlp->n_layers - 1];
}

/* rows a member needs before the products are better split by rows */
enum { MIN_ROWS_PER_MEMBER = 32 };

static void infer_job(const gm_member *self, void *arg)
{
    const mlp_pass *p = arg;
    gm_mlp *mlp = p->mlp;
    int n0, n1;
    gm_team_share(self, p->N, &n0, &n1);
    const float *in = p->x + (size_t)n0 * mlp->width[0];
    for (int i = 0; i < mlp->n_layers && n1 > n0; i++) {
        int w = mlp->first_param + 2 * i;
        float *out = mlp->out[i] + (size_t)n0 * mlp->width[i + 1];
        gm_dense_forward(out, in, gm_param_data(p->t, w), gm_param_data(p->t, w + 1), n1 - n0, mlp->width[i],
                         mlp->width[i + 1], mlp->act[i], mlp->slope);
        in = out;
    }
}

const float *gm_mlp_infer(gm_mlp *mlp, const gm_param_table *t, const float *x, int N)
{
    if (N < MIN_ROWS_PER_MEMBER * gm_team_size(mlp->team))
        return gm_mlp_forward(mlp, t, x, N);
    mlp_pass p = { .mlp = mlp, .t = t, .x = x, .N = N };
    gm_team_run_sized(mlp->team, infer_job, &p, pass_work(mlp, N));
    return mlp->out[mlp->n_layers - 1];
}

/* columns [d0, d1) of dx (N, D) += the other members' parts */
static void add_partials(float *dx, const float *partials, int members, int N, int D, int d0, int d1)
{
    for (int q = 1; q < members; q++) {
        const float *part = partials + (size_t)(q - 1) * N * D;
        for (int n = 0; n < N; n++)
            for (int d = d0; d < d1; d++)
                dx[(size_t)n * D + d] += part[(size_t)n * D + d];
    }
}

static void backward_job(const gm_member *self, void *arg)
{
    const mlp_pass *p = arg;
    gm_mlp *mlp = p->mlp;
    const bool want = p->grads != GM_GRADS_SKIP;
    const int N = p->N;
    float *dy = p->dout;
    for (int i = mlp->n_layers - 1; i >= 0; i--) {
        int w = mlp->first_param + 2 * i, o0, o1;
        const int D = mlp->width[i];
        const float *in = i > 0 ? mlp->out[i - 1] : p->x;
        float *din = i > 0 ? mlp->delta[i % 2] : p->dx;
        /* member 0 writes its part of dx in place, the others beside it;
         * the parts alternate buffers so that a layer's never meet the next's */
        float *part = din && self->rank > 0 ? mlp->partial[i % 2] + (size_t)(self->rank - 1) * N * D : din;
        gm_team_share(self, mlp->width[i + 1], &o0, &o1);
        gm_dense_backward_share(part, want ? gm_param_grad(p->t, w) : NULL, want ? gm_param_grad(p->t, w + 1) : NULL,
                                p->grads == GM_GRADS_ADD, dy, in, gm_param_data(p->t, w), mlp->out[i], N, D,
                                mlp->width[i + 1], o0, o1, mlp->act[i], mlp->slope);
        if (din && self->size > 1) {
            /* the member sums the columns that are its share of layer
             * i - 1's outputs, the only ones of din it reads next: no
             * barrier is needed after the sum */
            int d0, d1;
            gm_team_sync(self);
            gm_team_share(self, D, &d0, &d1);
            add_partials(din, mlp->partial[i % 2], self->size, N, D, d0, d1);
        }
        dy = din;
    }
}

void gm_mlp_backward(gm_mlp *mlp, gm_param_table *t, const float *x, float *dout, float *dx, int N, gm_grads grads)
{
    mlp_pass p = { .mlp = mlp, .t = t, .x = x, .dout = dout, .dx = dx, .N = N, .grads = grads };
    gm_team_run_sized(mlp->team, backward_job, &p, 2.0 * pass_work(mlp, N));
}
