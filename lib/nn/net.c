#include <stdio.h>
#include <string.h>

#include "net.h"
#include "norm.h"
#include "core/act.h"
#include "core/error.h"

/* ---- spectral normalization of a product's weight W, seen as (O, I) ---- */

/* l->sn_w holds W_sn (O, I), then the pending u (O) and v (I), sigma and
 * O floats of scratch */
static size_t sn_floats(const gm_layer *l)
{
    const size_t O = (size_t)l->split, I = (size_t)l->sn_cols;
    return l->sn ? O * I + O + I + 1 + O : 0;
}

typedef struct sn_view {
    int O, I;
    const float *W;
    float *W_sn, *u, *v, *sigma, *tmp;
} sn_view;

static sn_view sn_of(const gm_param_table *t, const gm_layer *l)
{
    sn_view s = { l->split, l->sn_cols, gm_param_data(t, l->param), l->sn_w, NULL, NULL, NULL, NULL };
    s.u = s.W_sn + (size_t)s.O * s.I;
    s.v = s.u + s.O;
    s.sigma = s.v + s.I;
    s.tmp = s.sigma + 1;
    return s;
}

static gm_status sn_declare(gm_layer *l, gm_param_table *t, const char *prefix, int i, const char *who)
{
    if (!l->tensors || t->items[l->param].shape[0] != l->split)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s's layer %d has no weight to normalize", who, prefix, i);
    l->sn = t->count;
    l->sn_cols = (int)(t->items[l->param].numel / (size_t)l->split);
    const int64_t u[1] = { l->split }, v[1] = { l->sn_cols };
    char name[GM_PARAM_NAME_MAX];
    snprintf(name, sizeof name, "%s.%d.weight_u", prefix, i);
    gm_status s = gm_params_add_buffer(t, name, 1, u, NULL, who);
    snprintf(name, sizeof name, "%s.%d.weight_v", prefix, i);
    return s != GM_OK ? s : gm_params_add_buffer(t, name, 1, v, NULL, who);
}

/* sigma from W and u, v: the pending ones in a training pass, the model's
 * own in an inference pass (PyTorch's eval mode: no power iteration); and
 * with whole, W_sn. Otherwise each member makes the rows of W_sn it
 * multiplies by, in the pass (forward_job): the same split as its
 * products', so that no member reads a row another writes. */
static void sn_prepare(gm_net *net, const gm_param_table *t, bool train, bool whole)
{
    for (int i = 0; i < net->n_layers; i++) {
        const gm_layer *l = &net->layer[i];
        if (!l->sn)
            continue;
        sn_view s = sn_of(t, l);
        const float *u = train ? s.u : gm_param_data(t, l->sn), *v = train ? s.v : gm_param_data(t, l->sn + 1);
        *s.sigma = gm_sn_sigma(u, v, s.W, s.O, s.I, s.tmp);
        if (whole)
            gm_sn_weight(s.W_sn, s.W, *s.sigma, s.I, 0, s.O);
    }
}

void gm_net_weight_grads(gm_net *net, gm_param_table *t)
{
    for (int i = 0; i < net->n_layers; i++) {
        const gm_layer *l = &net->layer[i];
        if (!l->sn)
            continue;
        sn_view s = sn_of(t, l);
        float *G = gm_param_grad(t, l->param);
        const double dot = gm_sn_backward_dot(G, s.W, s.I, 0, s.O);
        gm_sn_backward_rows(G, false, G, s.u, s.v, *s.sigma, dot, s.I, 0, s.O);
    }
}

void gm_net_refresh(gm_net *net, const gm_param_table *t)
{
    for (int i = 0; i < net->n_layers; i++)
        if (net->layer[i].sn) {
            sn_view s = sn_of(t, &net->layer[i]);
            gm_sn_power_step(s.u, s.v, s.W, s.O, s.I);
        }
}

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
        l->bias = !specs[i].no_bias;
        gm_status s = l->ops->declare(l, &specs[i], t, prefix, i, who);
        if (s != GM_OK)
            return s;
        l->tensors = t->count - l->param;
        if (!l->split)
            l->split = l->out.c;
        if (specs[i].spectral && (s = sn_declare(l, t, prefix, i, who)) != GM_OK)
            return s;
        const gm_shape r = specs[i].reshape;
        if (r.c || r.h || r.w) {
            if (r.c < 1 || r.h < 1 || r.w < 1 || gm_shape_size(r) != gm_shape_size(l->out))
                return gm_fail(GM_ERR_INVALID_ARG, "%s: %s's layer %d cannot reshape %zu values to (%d, %d, %d)", who,
                               prefix, i, gm_shape_size(l->out), r.c, r.h, r.w);
            l->out = r;
            l->reshaped = true;
        }
    }
    return GM_OK;
}

gm_status gm_net_resize(gm_net *net, int h, int w, const char *who)
{
    const gm_shape in = net->layer[0].in;
    if (h == in.h && w == in.w)
        return GM_OK;
    if (h < 1 || w < 1)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: an input of %dx%d pixels", who, h, w);
    gm_layer saved[GM_NET_MAX_LAYERS];
    memcpy(saved, net->layer, (size_t)net->n_layers * sizeof *saved);
    gm_status s = GM_OK;
    for (int i = 0; i < net->n_layers && s == GM_OK; i++) {
        gm_layer *l = &net->layer[i];
        l->in = i ? net->layer[i - 1].out : (gm_shape){ in.c, h, w };
        if (!l->ops->resize || l->reshaped)
            s = gm_fail(GM_ERR_INVALID_ARG, "%s: layer %d (%s) takes only its input of (%d, %d, %d)", who, i,
                        l->ops->name, saved[i].in.c, saved[i].in.h, saved[i].in.w);
        else
            s = l->ops->resize(l, who);
    }
    if (s != GM_OK) {
        memcpy(net->layer, saved, (size_t)net->n_layers * sizeof *saved);
        return s;
    }
    /* the outputs' sizes changed: the next reserve carves anew, in the
     * block it has while that is large enough */
    net->batch = net->backward_batch = net->members = net->scratch_members = 0;
    return GM_OK;
}

gm_status gm_net_init_mlp(gm_net *net, gm_param_table *t, const char *prefix, int n_layers, const int *widths,
                          const int *acts, float slope, const char *who)
{
    gm_layer_spec specs[GM_NET_MAX_LAYERS];
    for (int i = 0; i < n_layers && i < GM_NET_MAX_LAYERS; i++)
        specs[i] = (gm_layer_spec){ .ops = &gm_layer_dense, .out = widths[i + 1], .act = acts[i] };
    return gm_net_init(net, t, prefix, (gm_shape){ widths[0], 1, 1 }, n_layers, specs, slope, who);
}

void gm_net_init_weights(const gm_net *net, gm_param_table *t, gm_rng *rng)
{
    for (int i = 0; i < net->n_layers; i++) {
        const gm_layer *l = &net->layer[i];
        if (l->ops->init)
            l->ops->init(l, t, rng);
        if (l->sn)
            gm_sn_init(rng, gm_param_data(t, l->sn), gm_param_data(t, l->sn + 1), l->split, l->sn_cols);
    }
}

void gm_net_free(gm_net *net)
{
    gm_ws_free(&net->ws);
    net->batch = 0;
}

gm_status gm_net_reserve(gm_net *net, int N, bool backward, const char *who)
{
    const int members = gm_team_size(net->team);
    if (N <= net->batch && members <= net->scratch_members &&
        (!backward || (N <= net->backward_batch && members <= net->members)))
        return GM_OK;
    /* what was reserved stays reserved: carve for the larger of each */
    const int rows = N > net->batch ? N : net->batch;
    const int back_rows = backward && N > net->backward_batch ? N : net->backward_batch;
    const int back_members = backward && members > net->members ? members : net->members;
    const int most = members > net->scratch_members ? members : net->scratch_members;
    enum { EXTRA = 4 };
    enum { PER_LAYER = 3 };
    float **slots[PER_LAYER * GM_NET_MAX_LAYERS + EXTRA];
    size_t counts[PER_LAYER * GM_NET_MAX_LAYERS + EXTRA];
    size_t widest = 0, widest_in = 0;
    const int L = net->n_layers;
    for (int i = 0; i < L; i++) {
        gm_layer *l = &net->layer[i];
        const size_t out = gm_shape_size(l->out);
        slots[PER_LAYER * i] = &l->y;
        counts[PER_LAYER * i] = (size_t)rows * out;
        slots[PER_LAYER * i + 1] = &l->scratch;
        counts[PER_LAYER * i + 1] = l->ops->scratch ? l->ops->scratch(l, rows, most, back_rows > 0) : 0;
        slots[PER_LAYER * i + 2] = &l->sn_w;
        counts[PER_LAYER * i + 2] = sn_floats(l);
        widest = out > widest ? out : widest;
        widest_in = gm_shape_size(l->in) > widest_in ? gm_shape_size(l->in) : widest_in;
    }
    float ***extra = slots + PER_LAYER * L;
    size_t *extra_counts = counts + PER_LAYER * L;
    extra[0] = &net->delta[0];
    extra[1] = &net->delta[1];
    extra_counts[0] = extra_counts[1] = (size_t)back_rows * widest;
    extra[2] = &net->partial[0];
    extra[3] = &net->partial[1];
    extra_counts[2] = extra_counts[3] = (size_t)(back_members > 1 ? back_members - 1 : 0) * back_rows * widest_in;
    gm_status s = gm_ws_carve(&net->ws, PER_LAYER * L + EXTRA, slots, counts, who);
    if (s == GM_OK) {
        net->batch = rows;
        net->backward_batch = back_rows;
        net->members = back_members;
        net->scratch_members = most;
    }
    return s;
}

typedef struct net_pass {
    gm_net *net;
    const gm_param_table *t;
    const float *x;
    float *dout, *dx;
    int N, batches;
    bool train;
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

/* A local kind reads the channels of its input that it computes itself,
 * when the layer before it computed them as the same channels (no reshape
 * between, and not by samples). */
static bool reads_own_channels(const gm_net *net, int i, int N, int members)
{
    const gm_layer *before = &net->layer[i - 1];
    return net->layer[i].ops->local && before->split == before->out.c &&
           !gm_layer_by_samples(before, N, members);
}

static void forward_job(const gm_member *self, void *arg)
{
    const net_pass *p = arg;
    gm_net *net = p->net;
    const float *in = p->x;
    for (int i = 0; i < net->n_layers; i++) {
        const gm_layer *l = &net->layer[i];
        if (i > 0 && !reads_own_channels(net, i, p->N, self->size))
            gm_team_sync(self);  /* the layer reads every member's channels of its input */
        gm_layer_pass lp = { .t = p->t, .N = p->N, .n0 = 0, .n1 = p->N, .batches = p->batches, .train = p->train,
                             .member = self->rank };
        gm_team_share(self, l->split, &lp.c0, &lp.c1);
        if (l->sn) {  /* the member's rows of W_sn (sn_prepare) */
            sn_view s = sn_of(p->t, l);
            gm_sn_weight(s.W_sn, s.W, *s.sigma, s.I, lp.c0, lp.c1);
        }
        l->ops->forward(l, &lp, self, in, l->y);
        in = l->y;
    }
}

static const float *forward(gm_net *net, const gm_param_table *t, const float *x, int N, int batches, bool train)
{
    net_pass p = { .net = net, .t = t, .x = x, .N = N, .batches = batches, .train = train };
    if (train)
        net->batches = batches;
    sn_prepare(net, t, train, false);
    /* one row's outputs, split by the members' channels, are what the
     * caller alone makes: an inference pass may split when it is cheap */
    if (N == 1 && !train)
        gm_team_run_eager(net->team, forward_job, &p, pass_work(net, N));
    else
        gm_team_run_sized(net->team, forward_job, &p, pass_work(net, N));
    return gm_net_output(net);
}

const float *gm_net_forward(gm_net *net, const gm_param_table *t, const float *x, int N)
{
    return forward(net, t, x, N, 1, true);
}

const float *gm_net_forward_stacked(gm_net *net, const gm_param_table *t, const float *x, int N, int B)
{
    return forward(net, t, x, N, B, true);
}

/* rows a member needs before the products are better split by rows */
enum { MIN_ROWS_PER_MEMBER = 32 };
/* multiply-adds of one row that are worth a member of their own whatever
 * the rows: a whole image through a convolutional network (an upscaler's
 * tile is some 10^8) */
#define ROW_WORK_ALONE 1e7

static void infer_job(const gm_member *self, void *arg)
{
    const net_pass *p = arg;
    gm_net *net = p->net;
    const gm_member alone = { .team = NULL, .rank = 0, .size = 1 };
    gm_layer_pass lp = { .t = p->t, .N = p->N, .member = self->rank };
    /* shares of 16 rows keep the products' blocks whatever the team; rows
     * that are whole images, fewer than that, go one or more a member */
    if (p->N < 16 * self->size) {
        lp.n0 = (int)((long long)p->N * self->rank / self->size);
        lp.n1 = (int)((long long)p->N * (self->rank + 1) / self->size);
    } else {
        gm_team_share(self, p->N, &lp.n0, &lp.n1);
    }
    const float *in = p->x;
    for (int i = 0; i < net->n_layers && lp.n1 > lp.n0; i++) {
        const gm_layer *l = &net->layer[i];
        lp.c0 = 0;
        lp.c1 = l->split;
        l->ops->forward(l, &lp, &alone, in, l->y);
        in = l->y;
    }
}

const float *gm_net_infer(gm_net *net, const gm_param_table *t, const float *x, int N)
{
    bool mixes_rows = false;
    for (int i = 0; i < net->n_layers; i++)
        mixes_rows |= net->layer[i].ops->mixes_rows;
    const int members = gm_team_size(net->team);
    const bool rows_pay = N >= MIN_ROWS_PER_MEMBER * members || (N >= members && pass_work(net, 1) >= ROW_WORK_ALONE);
    if (mixes_rows || !rows_pay)
        return forward(net, t, x, N, 1, false);
    net_pass p = { .net = net, .t = t, .x = x, .N = N };
    sn_prepare(net, t, false, true);
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
    /* The layers that exchange parts take turns with two sets of buffers:
     * a member may write the next such layer's parts and input gradient
     * while another still sums this one's, never the same buffer. A local
     * kind writes only its own channels, in place, between them. */
    int turn = 0;
    for (int i = net->n_layers - 1; i >= 0; i--) {
        const gm_layer *l = &net->layer[i];
        const bool local = l->ops->local, whole = local || l->ops->whole_dx;
        float *din = i == 0 ? p->dx : local ? dy : net->delta[turn];
        /* member 0 writes its part of the input gradient in place, the
         * others beside it; a kind that writes the whole gradient of its
         * channels (or samples) writes it in place */
        const int width = (int)gm_shape_size(l->in);
        float *partials = net->partial[turn];
        float *part = !din ? NULL : self->rank > 0 && !whole ? partials + (size_t)(self->rank - 1) * N * width : din;
        gm_layer_pass lp = { .t = p->t, .N = N, .n0 = 0, .n1 = N, .batches = net->batches, .train = true,
                             .member = self->rank };
        gm_team_share(self, l->split, &lp.c0, &lp.c1);
        /* dy came summed (or written) by shares of out.c: a layer that
         * computes other channels, or every channel of its samples, reads
         * it after everyone's (a whole kind above met after its writes) */
        const gm_layer *above = i < net->n_layers - 1 ? &net->layer[i + 1] : NULL;
        if (above && (l->split != l->out.c ||
                      (gm_layer_by_samples(l, N, self->size) && (above->ops->local || !above->ops->whole_dx))))
            gm_team_sync(self);
        const gm_layer_grad g = {
            .x = i > 0 ? net->layer[i - 1].y : p->x,
            .dy = dy,
            .dW = want && l->tensors ? gm_param_grad(p->t, l->param) : NULL,
            .db = want && l->tensors > 1 && l->bias ? gm_param_grad(p->t, l->param + 1) : NULL,
            .accumulate = p->grads == GM_GRADS_ADD,
            .part = part,
        };
        l->ops->backward(l, &lp, self, &g);
        if (whole && !local) {
            /* it read other members' channels of dy, which the layer below
             * may write over, and wrote dx by its own division */
            gm_team_sync(self);
        } else if (din && self->size > 1 && !whole) {
            /* the member sums the columns of its share of the input
             * channels, the only ones of din it reads next: no barrier is
             * needed after the sum */
            int d0, d1;
            gm_team_sync(self);
            gm_team_share(self, l->in.c, &d0, &d1);
            add_partials(din, partials, self->size, N, width, l->in.c, d0, d1);
        }
        if (!local)
            turn ^= 1;
        dy = din;
    }
}

void gm_net_backward(gm_net *net, gm_param_table *t, const float *x, float *dout, float *dx, int N, gm_grads grads)
{
    net_pass p = { .net = net, .t = t, .x = x, .dout = dout, .dx = dx, .N = N, .train = true, .grads = grads };
    gm_team_run_sized(net->team, backward_job, &p, 2.0 * pass_work(net, N));
}

int gm_net_min_batch(const gm_net *net)
{
    int least = 1;
    for (int i = 0; i < net->n_layers; i++) {
        const gm_layer *l = &net->layer[i];
        if (l->ops->min_batch && l->ops->min_batch(l) > least)
            least = l->ops->min_batch(l);
    }
    return least;
}

void gm_net_begin_step(gm_net *net, const gm_param_table *t)
{
    for (int i = 0; i < net->n_layers; i++) {
        const gm_layer *l = &net->layer[i];
        if (l->ops->begin)
            l->ops->begin(l, t);
        if (l->sn) {
            sn_view s = sn_of(t, l);
            memcpy(s.u, gm_param_data(t, l->sn), (size_t)s.O * sizeof *s.u);
            memcpy(s.v, gm_param_data(t, l->sn + 1), (size_t)s.I * sizeof *s.v);
        }
    }
}

void gm_net_commit(gm_net *net, gm_param_table *t)
{
    for (int i = 0; i < net->n_layers; i++) {
        const gm_layer *l = &net->layer[i];
        if (l->ops->commit)
            l->ops->commit(l, t);
        if (l->sn) {
            sn_view s = sn_of(t, l);
            memcpy(gm_param_data(t, l->sn), s.u, (size_t)s.O * sizeof *s.u);
            memcpy(gm_param_data(t, l->sn + 1), s.v, (size_t)s.I * sizeof *s.v);
        }
    }
}
