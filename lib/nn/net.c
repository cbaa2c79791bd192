#include <string.h>

#include "net.h"
#include "core/act.h"
#include "core/error.h"

gm_status gm_net_init(gm_net *net, gm_param_table *t, const char *prefix, gm_shape in, int n_layers,
                      const gm_layer_spec *specs, float slope, const char *who)
{
    memset(net, 0, sizeof *net);
    if (n_layers < 1 || n_layers > GM_NET_MAX_LAYERS)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s has %d layers, the limit is %d", who, prefix, n_layers,
                       GM_NET_MAX_LAYERS);
    if (in.c < 1 || in.h < 1 || in.w < 1)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s's input shape (%d, %d, %d) must be positive", who, prefix, in.c,
                       in.h, in.w);
    net->n_layers = n_layers;
    for (int i = 0; i < n_layers; i++) {
        gm_layer *l = &net->layer[i];
        if (!gm_act_valid(specs[i].act))
            return gm_fail(GM_ERR_INVALID_ARG, "%s: %s: unknown activation %d", who, prefix, specs[i].act);
        l->ops = specs[i].ops;
        l->in = i ? net->layer[i - 1].out : in;
        l->act = specs[i].act;
        l->slope = slope;
        l->param = t->count;
        gm_status s = l->ops->declare(l, &specs[i], t, prefix, i, who);
        if (s != GM_OK)
            return s;
    }
    return GM_OK;
}

gm_status gm_net_init_mlp(gm_net *net, gm_param_table *t, const char *prefix, int n_layers, const int *widths,
                          const int *acts, float slope, const char *who)
{
    gm_layer_spec specs[GM_NET_MAX_LAYERS];
    for (int i = 0; i < n_layers && i < GM_NET_MAX_LAYERS; i++)
        specs[i] = (gm_layer_spec){ &gm_layer_dense, widths[i + 1], acts[i] };
    return gm_net_init(net, t, prefix, (gm_shape){ widths[0], 1, 1 }, n_layers, specs, slope, who);
}

void gm_net_init_weights(const gm_net *net, gm_param_table *t, gm_rng *rng)
{
    for (int i = 0; i < net->n_layers; i++)
        net->layer[i].ops->init(&net->layer[i], t, rng);
}

void gm_net_free(gm_net *net)
{
    gm_ws_free(&net->ws);
    net->batch = 0;
}

gm_status gm_net_reserve(gm_net *net, int N, bool backward, const char *who)
{
    const int members = gm_team_size(net->team);
    if (N <= net->batch && (!backward || (N <= net->backward_batch && members <= net->members)))
        return GM_OK;
    /* what was reserved stays reserved: carve for the larger of each */
    const int rows = N > net->batch ? N : net->batch;
    const int back_rows = backward && N > net->backward_batch ? N : net->backward_batch;
    const int back_members = backward && members > net->members ? members : net->members;
    float **slots[GM_NET_MAX_LAYERS + 4];
    size_t counts[GM_NET_MAX_LAYERS + 4];
    size_t widest = 0, widest_input = 0;
    const int L = net->n_layers;
    for (int i = 0; i < L; i++) {
        const size_t out = gm_shape_size(net->layer[i].out), in = gm_shape_size(net->layer[i].in);
        slots[i] = &net->layer[i].y;
        counts[i] = (size_t)rows * out;
        widest = out > widest ? out : widest;
        widest_input = in > widest_input ? in : widest_input;
    }
    slots[L] = &net->delta[0];
    slots[L + 1] = &net->delta[1];
    counts[L] = counts[L + 1] = (size_t)back_rows * widest;
    slots[L + 2] = &net->partial[0];
    slots[L + 3] = &net->partial[1];
    counts[L + 2] = counts[L + 3] = (size_t)(back_members > 1 ? back_members - 1 : 0) * back_rows * widest_input;
    gm_status s = gm_ws_carve(&net->ws, L + 4, slots, counts, who);
    if (s == GM_OK) {
        net->batch = rows;
        net->backward_batch = back_rows;
        net->members = back_members;
    }
    return s;
}

typedef struct net_pass {
    gm_net *net;
    const gm_param_table *t;
    const float *x;
    float *dout, *dx;
    int N;
    gm_grads grads;
} net_pass;

/* multiply-adds of one forward pass over N rows */
static double pass_work(const gm_net *net, int N)
{
    double per_row = 0.0;
    for (int i = 0; i < net->n_layers; i++)
        per_row += net->layer[i].ops->work(&net->layer[i]);
    return per_row * N;
}

static void forward_job(const gm_member *self, void *arg)
{
    const net_pass *p = arg;
    gm_net *net = p->net;
    const float *in = p->x;
    for (int i = 0; i < net->n_layers; i++) {
        const gm_layer *l = &net->layer[i];
        if (i > 0 && !l->ops->local)
            gm_team_sync(self);  /* the layer reads every member's channels of its input */
        gm_layer_pass lp = { .t = p->t, .N = p->N, .n0 = 0, .n1 = p->N };
        gm_team_share(self, l->out.c, &lp.c0, &lp.c1);
        l->ops->forward(l, &lp, self, in, l->y);
        in = l->y;
    }
}

const float *gm_net_forward(gm_net *net, const gm_param_table *t, const float *x, int N)
{
    net_pass p = { .net = net, .t = t, .x = x, .N = N };
    gm_team_run_sized(net->team, forward_job, &p, pass_work(net, N));
    return gm_net_output(net);
}

/* rows a member needs before the products are better split by rows */
enum { MIN_ROWS_PER_MEMBER = 32 };

static void infer_job(const gm_member *self, void *arg)
{
    const net_pass *p = arg;
    gm_net *net = p->net;
    const gm_member alone = { .team = NULL, .rank = 0, .size = 1 };
    gm_layer_pass lp = { .t = p->t, .N = p->N };
    gm_team_share(self, p->N, &lp.n0, &lp.n1);
    const float *in = p->x;
    for (int i = 0; i < net->n_layers && lp.n1 > lp.n0; i++) {
        const gm_layer *l = &net->layer[i];
        lp.c0 = 0;
        lp.c1 = l->out.c;
        l->ops->forward(l, &lp, &alone, in, l->y);
        in = l->y;
    }
}

const float *gm_net_infer(gm_net *net, const gm_param_table *t, const float *x, int N)
{
    if (N < MIN_ROWS_PER_MEMBER * gm_team_size(net->team))
        return gm_net_forward(net, t, x, N);
    net_pass p = { .net = net, .t = t, .x = x, .N = N };
    gm_team_run_sized(net->team, infer_job, &p, pass_work(net, N));
    return gm_net_output(net);
}

/* The columns of dx (N, width) whose channel (column mod C) lies in
 * [d0, d1) += the other members' parts. */
static void add_partials(float *dx, const float *partials, int members, int N, int width, int C, int d0, int d1)
{
    for (int q = 1; q < members; q++) {
        const float *part = partials + (size_t)(q - 1) * N * width;
        for (int n = 0; n < N; n++)
            for (int at = 0; at < width; at += C)
                for (int d = d0; d < d1; d++)
                    dx[(size_t)n * width + at + d] += part[(size_t)n * width + at + d];
    }
}

static void backward_job(const gm_member *self, void *arg)
{
    const net_pass *p = arg;
    gm_net *net = p->net;
    const bool want = p->grads != GM_GRADS_SKIP;
    const int N = p->N;
    float *dy = p->dout;
    for (int i = net->n_layers - 1; i >= 0; i--) {
        const gm_layer *l = &net->layer[i];
        const int width = (int)gm_shape_size(l->in);
        float *din = i > 0 ? net->delta[i % 2] : p->dx;
        /* member 0 writes its part of dx in place, the others beside it;
         * the parts alternate buffers so that a layer's never meet the
         * next's. A local kind writes only its own channels: no parts. */
        const bool beside = din && self->rank > 0 && !l->ops->local;
        gm_layer_pass lp = { .t = p->t, .N = N, .n0 = 0, .n1 = N };
        gm_team_share(self, l->out.c, &lp.c0, &lp.c1);
        const gm_layer_grad g = {
            .x = i > 0 ? net->layer[i - 1].y : p->x,
            .dy = dy,
            .dW = want ? gm_param_grad(p->t, l->param) : NULL,
            .db = want ? gm_param_grad(p->t, l->param + 1) : NULL,
            .accumulate = p->grads == GM_GRADS_ADD,
            .part = beside ? net->partial[i % 2] + (size_t)(self->rank - 1) * N * width : din,
        };
        l->ops->backward(l, &lp, self, &g);
        if (din && self->size > 1 && !l->ops->local) {
            /* the member sums the columns of its share of the input
             * channels, the only ones of din it reads next: no barrier is
             * needed after the sum */
            int d0, d1;
            gm_team_sync(self);
            gm_team_share(self, l->in.c, &d0, &d1);
            add_partials(din, net->partial[i % 2], self->size, N, width, l->in.c, d0, d1);
        }
        dy = din;
    }
}

void gm_net_backward(gm_net *net, gm_param_table *t, const float *x, float *dout, float *dx, int N, gm_grads grads)
{
    net_pass p = { .net = net, .t = t, .x = x, .dout = dout, .dx = dx, .N = N, .grads = grads };
    gm_team_run_sized(net->team, backward_job, &p, 2.0 * pass_work(net, N));
}
