#include <float.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "core/error.h"
#include "core/simd.h"

const gm_domain gm_domain_finite = { -FLT_MAX, FLT_MAX, "the finite numbers" };

/* Every call checks all its data, so the common answer comes from one
 * branch-free pass; only a bad array is walked again to find the culprit. */
GM_VECTOR_CLONES static int all_within(const float *x, size_t count, float lo, float hi)
{
    int ok = 1;
    for (size_t i = 0; i < count; i++)
        ok &= x[i] >= lo && x[i] <= hi;
    return ok;
}

gm_status gm_model_check_values(const char *name, const float *x, int32_t n, int32_t dim, const gm_domain *domain,
                                const char *who)
{
    const size_t count = (size_t)n * (size_t)dim;
    if (all_within(x, count, domain->lo, domain->hi))
        return GM_OK;
    size_t i = 0;
    while (x[i] >= domain->lo && x[i] <= domain->hi)
        i++;
    /* %.9g: every float prints as a number that reads back as itself, so
     * 1.0000001 is not shown as a "1" outside [0, 1] */
    return gm_fail(GM_ERR_INVALID_ARG, "%s: %s[%zu][%zu] = %.9g is outside %s", who, name, i / (size_t)dim,
                   i % (size_t)dim, (double)x[i], domain->text);
}

gm_status gm_model_check_labels(const int32_t *labels, int32_t n, int32_t n_classes, const char *who)
{
    if ((n_classes > 0) != (labels != NULL))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: labels must be %s for a%s model", who, labels ? "NULL" : "given",
                       n_classes ? " conditional" : "n unconditional");
    for (int32_t i = 0; labels && i < n; i++)
        if (labels[i] < 0 || labels[i] >= n_classes)
            return gm_fail(GM_ERR_INVALID_ARG, "%s: labels[%d] = %d is not in [0, %d)", who, (int)i,
                           (int)labels[i], (int)n_classes);
    return GM_OK;
}

gm_status gm_model_check_size(int32_t value, int32_t lo, int32_t hi, const char *field, int index, const char *who)
{
    if (value >= lo && value <= hi)
        return GM_OK;
    char name[48];
    snprintf(name, sizeof name, index < 0 ? "%s" : "%s[%d]", field, index);
    return gm_fail(GM_ERR_INVALID_ARG, "%s: %s must be in [%d, %d] (got %d)", who, name, (int)lo, (int)hi,
                   (int)value);
}

gm_status gm_model_check_hidden(int32_t count, const int32_t *widths, int max, const char *count_field,
                                const char *field, const char *who)
{
    gm_status s = gm_model_check_size(count, 0, max, count_field, -1, who);
    for (int i = 0; s == GM_OK && i < count; i++)
        s = gm_model_check_size(widths[i], 1, GM_MAX_DIM, field, i, who);
    return s;
}

void gm_model_net_init(gm_model_net *net, int in, const char *in_field, int n_hidden, const int32_t *hidden,
                       const char *hidden_field, int out, const char *out_field)
{
    net->n_layers = n_hidden + 1;
    net->width[0] = in;
    snprintf(net->field[0], sizeof net->field[0], "%s", in_field);
    for (int i = 0; i < n_hidden; i++) {
        net->width[i + 1] = hidden[i];
        snprintf(net->field[i + 1], sizeof net->field[i + 1], "%s[%d]", hidden_field, i);
    }
    net->width[n_hidden + 1] = out;
    snprintf(net->field[n_hidden + 1], sizeof net->field[n_hidden + 1], "%s", out_field);
}

gm_status gm_model_check_params(const gm_model_net *nets, int n, const char *who)
{
    /* widths are at most 2^25, so a layer's count is below 2^51 and the
     * sum of a dozen layers fits an int64 */
    int64_t total = 0, largest = -1;
    const gm_model_net *at = NULL;
    int layer = 0;
    for (int k = 0; k < n; k++)
        for (int i = 0; i < nets[k].n_layers; i++) {
            int64_t count = ((int64_t)nets[k].width[i] + 1) * nets[k].width[i + 1];
            total += count;
            if (count > largest) {
                largest = count;
                at = &nets[k];
                layer = i;
            }
        }
    if (total <= GM_MAX_PARAMS)
        return GM_OK;
    return gm_fail(GM_ERR_INVALID_ARG,
                   "%s: %lld weights and biases are more than GM_MAX_PARAMS (%d); the largest layer maps %s = %d "
                   "to %s = %d",
                   who, (long long)total, GM_MAX_PARAMS, at->field[layer], at->width[layer], at->field[layer + 1],
                   at->width[layer + 1]);
}

gm_status gm_model_build_mlp(gm_net *mlp, gm_param_table *t, const char *prefix, const gm_model_net *net, int act,
                             int out_act, float slope, const char *who)
{
    int acts[GM_MODEL_MAX_LAYERS];
    for (int i = 0; i < net->n_layers; i++)
        acts[i] = i < net->n_layers - 1 ? act : out_act;
    return gm_net_init_mlp(mlp, t, prefix, net->n_layers, net->width, acts, slope, who);
}

void gm_model_onehot(float *rows, int ld, int at, const int32_t *labels, int N, int C)
{
    for (int n = 0; n < N; n++) {
        float *r = rows + (size_t)n * ld + at;
        memset(r, 0, (size_t)C * sizeof *r);
        r[labels[n]] = 1.0f;
    }
}

/* ---- networks from a config's topology ---- */

gm_status gm_model_check_image(const gm_model_image *im, const char *who)
{
    gm_status s;
    if ((s = gm_model_check_size(im->n_conv, 0, GM_MAX_CONV, "n_conv", -1, who)) != GM_OK)
        return s;
    if (!im->c && !im->h && !im->w)
        return im->n_conv ? gm_fail(GM_ERR_INVALID_ARG, "%s: n_conv = %d needs the image shape (image_channels, "
                                    "image_height, image_width)", who, (int)im->n_conv)
                          : GM_OK;
    if ((s = gm_model_check_size(im->c, 1, GM_MAX_DIM, "image_channels", -1, who)) != GM_OK ||
        (s = gm_model_check_size(im->h, 1, GM_MAX_DIM, "image_height", -1, who)) != GM_OK ||
        (s = gm_model_check_size(im->w, 1, GM_MAX_DIM, "image_width", -1, who)) != GM_OK)
        return s;
    const int64_t size = (int64_t)im->c * im->h * im->w;
    if (size != im->dim)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: image_channels * image_height * image_width = %lld must equal %s = %d",
                       who, (long long)size, im->dim_field, (int)im->dim);
    const int64_t least = (int64_t)1 << im->n_conv;
    if (im->h < least || im->w < least)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: an image of %d x %d is too small for %d stride-2 convolutions "
                       "(its sides must be at least %lld)", who, (int)im->h, (int)im->w, (int)im->n_conv,
                       (long long)least);
    if (im->n_conv && (int64_t)(im->c + im->labels) * im->h * im->w > GM_MAX_PARAMS)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: the image and its label planes, %lld values, are more than %d", who,
                       (long long)(im->c + im->labels) * im->h * im->w, GM_MAX_PARAMS);
    int64_t h = im->h, w = im->w;
    for (int i = 0; i < im->n_conv; i++) {
        if ((s = gm_model_check_size(im->conv[i], 1, GM_MAX_DIM, "conv_channels", i, who)) != GM_OK)
            return s;
        h /= 2;
        w /= 2;
        if (im->conv[i] * h * w > GM_MAX_DIM)
            return gm_fail(GM_ERR_INVALID_ARG, "%s: conv_channels[%d] = %d makes %lld values per sample, more than "
                           "GM_MAX_DIM (%d)", who, i, (int)im->conv[i], (long long)(im->conv[i] * h * w), GM_MAX_DIM);
    }
    return GM_OK;
}

gm_status gm_model_check_total(const gm_param_table *t, const char *who)
{
    size_t total = 0;
    for (int i = 0; i < t->count; i++)
        total += t->items[i].numel;
    if (total <= GM_MAX_PARAMS)
        return GM_OK;
    return gm_fail(GM_ERR_INVALID_ARG, "%s: %zu weights and biases are more than GM_MAX_PARAMS (%d)", who, total,
                   GM_MAX_PARAMS);
}

typedef struct plan {
    int n;
    gm_layer_spec spec[GM_NET_MAX_LAYERS];
} plan;

static void add(plan *p, const gm_layer_ops *ops, int out, int act)
{
    p->spec[p->n++] = (gm_layer_spec){ .ops = ops, .out = out, .act = act };
}

/* a hidden layer: the product, then batch normalization when asked, then
 * the activation */
static void add_hidden(plan *p, const gm_layer_ops *ops, int out, int act, bool norm)
{
    add(p, ops, out, norm ? GM_ACT_IDENTITY : act);
    p->spec[p->n - 1].no_bias = norm;
    if (norm)
        add(p, &gm_layer_batchnorm, out, act);
}

static void add_conv(plan *p, const gm_layer_ops *ops, int out, int act, bool norm, int out_pad)
{
    add_hidden(p, ops, out, act, norm);
    gm_layer_spec *conv = &p->spec[p->n - (norm ? 2 : 1)];
    conv->k = 4;
    conv->stride = 2;
    conv->pad = 1;
    conv->out_pad = out_pad;
}

/* the sides of a stride-2 convolution's output: (n + 2 - 4) / 2 + 1 */
static int halve(int n) { return n / 2; }

gm_status gm_model_build_down(gm_net *net, gm_param_table *t, const char *prefix, const gm_model_topology *top,
                              const char *who)
{
    plan p = { 0 };
    const bool batch = top->norm == GM_NORM_BATCH;
    gm_shape in = top->image;
    if (top->n_conv)
        in.c += top->labels;
    else
        in = (gm_shape){ (int)gm_shape_size(top->image) + top->labels, 1, 1 };
    for (int i = 0; i < top->n_conv; i++)
        add_conv(&p, &gm_layer_conv, top->conv[i], top->act, batch && (i > 0 || top->norm_first), 0);
    for (int i = 0; i < top->n_hidden; i++)
        add_hidden(&p, &gm_layer_dense, top->hidden[i], top->act, batch && (i + top->n_conv > 0 || top->norm_first));
    if (top->mbstd)
        p.spec[p.n++] = (gm_layer_spec){ .ops = &gm_layer_mbstd, .act = GM_ACT_IDENTITY, .group = top->mbstd };
    add(&p, &gm_layer_dense, top->code, top->out_act);
    for (int i = 0; i < p.n; i++)
        p.spec[i].spectral = top->norm == GM_NORM_SPECTRAL && p.spec[i].ops != &gm_layer_mbstd;
    return gm_net_init(net, t, prefix, in, p.n, p.spec, top->slope, who);
}

gm_status gm_model_build_up(gm_net *net, gm_param_table *t, const char *prefix, const gm_model_topology *top,
                            const char *who)
{
    plan p = { 0 };
    const bool batch = top->norm == GM_NORM_BATCH;
    for (int i = 0; i < top->n_hidden; i++)
        add_hidden(&p, &gm_layer_dense, top->hidden[i], top->act, batch);
    if (!top->n_conv) {
        add(&p, &gm_layer_dense, (int)gm_shape_size(top->image), top->out_act);
    } else {
        /* the image sides after each down convolution */
        int h[GM_MAX_CONV + 1] = { top->image.h }, w[GM_MAX_CONV + 1] = { top->image.w };
        const int n = top->n_conv;
        for (int i = 0; i < n; i++) {
            h[i + 1] = halve(h[i]);
            w[i + 1] = halve(w[i]);
        }
        /* the projection, seen as the last convolution's output */
        add_hidden(&p, &gm_layer_dense, top->conv[n - 1] * h[n] * w[n], top->act, batch);
        p.spec[p.n - 1].reshape = (gm_shape){ top->conv[n - 1], h[n], w[n] };
        for (int i = n - 1; i >= 0; i--) {
            /* back to side h[i] = 2 h[i + 1] + out_pad; one padding for both sides */
            const int out_pad = h[i] - 2 * h[i + 1];
            if (out_pad != w[i] - 2 * w[i + 1])
                return gm_fail(GM_ERR_INVALID_ARG, "%s: an image of %d x %d cannot be mirrored by these "
                               "convolutions: its height and width must be alike odd or even at each halving",
                               who, top->image.h, top->image.w);
            const bool last = i == 0;
            add_conv(&p, &gm_layer_convt, last ? top->image.c : top->conv[i - 1], last ? top->out_act : top->act,
                     batch && !last, out_pad);
        }
    }
    return gm_net_init(net, t, prefix, (gm_shape){ top->code + top->labels, 1, 1 }, p.n, p.spec, top->slope, who);
}

/* ---- a sample's values and its label in a network's input rows ---- */

gm_model_rows gm_model_rows_of(int D, gm_shape image, int n_conv, int C)
{
    if (n_conv)
        return (gm_model_rows){ image.h * image.w, image.c, C };
    return (gm_model_rows){ 1, D, C };
}

void gm_model_rows_fill(const gm_model_rows *r, float *rows, const float *x, const float *noise, float sigma, int N,
                        int d0, int d1)
{
    const int D = r->pixels * r->c, width = gm_rows_width(r);
    if (d1 <= d0)
        return;
    for (int n = 0; n < N; n++) {
        float *row = rows + (size_t)n * width;
        const float *src = x + (size_t)n * D, *eps = noise + (size_t)n * D;
        /* pixel by pixel, the part of each in [d0, d1) */
        for (int p = d0 / r->c; p <= (d1 - 1) / r->c; p++) {
            const int a = p * r->c > d0 ? p * r->c : d0, b = (p + 1) * r->c < d1 ? (p + 1) * r->c : d1;
            float *dst = row + (size_t)p * (r->c + r->C) - (size_t)p * r->c;
            if (sigma > 0.0f)
                for (int d = a; d < b; d++)
                    dst[d] = src[d] + sigma * eps[d];
            else
                memcpy(dst + a, src + a, (size_t)(b - a) * sizeof *dst);
        }
    }
}

void gm_model_rows_label(const gm_model_rows *r, float *rows, const int32_t *labels, int N)
{
    for (int p = 0; p < r->pixels; p++)
        gm_model_onehot(rows, gm_rows_width(r), p * (r->c + r->C) + r->c, labels, N, r->C);
}

void gm_model_rows_gather(const gm_model_rows *r, float *x, const float *rows, int N)
{
    const int width = gm_rows_width(r);
    for (int n = 0; n < N; n++)
        for (int p = 0; p < r->pixels; p++)
            memcpy(x + ((size_t)n * r->pixels + p) * r->c, rows + (size_t)n * width + (size_t)p * (r->c + r->C),
                   (size_t)r->c * sizeof *x);
}

/* ---- data-parallel workers ---- */

gm_status gm_model_set_worker(gm_model_worker *w, gm_allreduce_fn fn, void *ctx, int32_t rank, int32_t size,
                              const char *who)
{
    if (size < 1 || rank < 0 || rank >= size)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: needs size >= 1 and rank in [0, size) (got rank %d of size %d)", who,
                       (int)rank, (int)size);
    if (!fn && size > 1)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %d workers need a reduction function (fn is NULL)", who, (int)size);
    *w = (gm_model_worker){ .fn = fn, .ctx = ctx, .rank = rank, .size = size };
    return GM_OK;
}

static int32_t workers(const gm_model_worker *w)
{
    return w && w->size > 1 ? w->size : 1;
}

gm_status gm_model_check_global(const gm_model_worker *w, int32_t n, int32_t max, const char *who)
{
    if ((int64_t)n * workers(w) > max)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: the global batch, %d workers of n = %d rows, must be at most %d rows",
                       who, (int)workers(w), (int)n, (int)max);
    return GM_OK;
}

void gm_model_normal_rows(const gm_model_worker *w, gm_rng *rng, float *out, int n, int width)
{
    const size_t share = (size_t)n * width, first = workers(w) > 1 ? (size_t)w->rank * share : 0;
    gm_rng_normal_part(rng, out, first, share, share * workers(w));
}

void gm_model_uniform_rows(const gm_model_worker *w, gm_rng *rng, float *out, int n, int width, float lo, float hi)
{
    const size_t share = (size_t)n * width, first = workers(w) > 1 ? (size_t)w->rank * share : 0;
    gm_rng_uniform_part(rng, out, first, share, share * workers(w), lo, hi);
}

gm_status gm_model_reduce(const gm_model_worker *w, gm_param_table *t, double *figures, int k, const char *who)
{
    if (!w->fn)
        return GM_OK;
    /* the figures take the place of what follows the trained tensors, whose
     * gradients nothing reads */
    const size_t end = gm_params_trained_span(t);
    float *figure = t->grad + end;
    for (int i = 0; i < k; i++)
        figure[i] = (float)figures[i];
    const gm_status s = w->fn(t->grad, end + (size_t)k, w->ctx);
    if (s != GM_OK)
        return gm_fail((int)s > 0 && (int)s <= (int)GM_ERR_UNSUPPORTED ? s : GM_ERR_IO,
                       "%s: the reduction hook failed (%d: %s); no update was made", who, (int)s, gm_strerror(s));
    for (int i = 0; i < k; i++)
        figures[i] = figure[i];
    return GM_OK;
}
