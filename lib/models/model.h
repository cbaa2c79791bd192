/* What every model handle shares: the checks of its config's sizes and of
 * every array a call is given, and one-hot columns. */
#ifndef GM_MODELS_MODEL_H
#define GM_MODELS_MODEL_H

#include <stdint.h>

#include "genmodel/common.h"
#include "nn/net.h"
#include "core/rng.h"

/* labels must be given exactly when n_classes > 0, each in [0, n_classes) */
gm_status gm_model_check_labels(const int32_t *labels, int32_t n, int32_t n_classes, const char *who);

/* The values a data argument may hold: [lo, hi], text naming it in a message. */
typedef struct gm_domain {
    float lo, hi;
    const char *text;
} gm_domain;

extern const gm_domain gm_domain_finite;  /* any finite float: "the finite numbers" */

/* Every one of the array called name, x (n, dim), in the domain (so none
 * NaN); else GM_ERR_INVALID_ARG naming the first that is not by row and
 * column, its value (as it rounds back) and the domain. Every call that
 * takes data checks it here, all of it before any work. */
gm_status gm_model_check_values(const char *name, const float *x, int32_t n, int32_t dim, const gm_domain *domain,
                                const char *who);

/* A size field of a config in [lo, hi]; index >= 0 names field[index]. */
gm_status gm_model_check_size(int32_t value, int32_t lo, int32_t hi, const char *field, int index, const char *who);

/* A network's hidden layers: their count (the field count_field) in
 * [0, max], then each width (field[i]) in [1, GM_MAX_DIM]. */
gm_status gm_model_check_hidden(int32_t count, const int32_t *widths, int max, const char *count_field,
                                const char *field, const char *who);

/* One network as a config gives it: widths in, hidden..., out (n_layers + 1
 * of them), each with the field it comes from, for the parameter count. */
enum { GM_MODEL_MAX_LAYERS = 5 };
typedef struct gm_model_net {
    int n_layers;
    int width[GM_MODEL_MAX_LAYERS + 1];
    char field[GM_MODEL_MAX_LAYERS + 1][32];
} gm_model_net;

/* in and out are the field names of the end widths; hidden layer i is
 * named hidden_field[i]. Every width must already be in [1, GM_MAX_DIM +
 * GM_MAX_CLASSES], so no width overflows. */
void gm_model_net_init(gm_model_net *net, int in, const char *in_field, int n_hidden, const int32_t *hidden,
                       const char *hidden_field, int out, const char *out_field);

/* The weights and biases of the n nets together within GM_MAX_PARAMS,
 * counted without overflow; else GM_ERR_INVALID_ARG naming the fields of
 * the largest layer. */
gm_status gm_model_check_params(const gm_model_net *nets, int n, const char *who);

/* Declare an MLP of net's widths in t under prefix: hidden layers with
 * act, the last with out_act. */
gm_status gm_model_build_mlp(gm_net *mlp, gm_param_table *t, const char *prefix, const gm_model_net *net, int act,
                             int out_act, float slope, const char *who);

/* The image fields of a config: dim (named dim_field) is the data's
 * width; c, h, w its image shape (all 0: none); n_conv convolutions with
 * the channels conv; labels one-hot classes. */
typedef struct gm_model_image {
    int32_t dim;
    const char *dim_field;
    int32_t c, h, w;
    int32_t n_conv;
    const int32_t *conv;
    int32_t labels;
} gm_model_image;

/* Every image field within its range and all alike: the shape is dim's,
 * big enough for n_conv halvings, and no layer's size overflows. */
gm_status gm_model_check_image(const gm_model_image *im, const char *who);
/* The tensors declared in t within GM_MAX_PARAMS. */
gm_status gm_model_check_total(const gm_param_table *t, const char *who);

/* A network as a config describes it. A "down" network (encoder,
 * discriminator) maps an image, or a flat vector, through stride-2
 * convolutions and dense hidden layers to a code; an "up" network
 * (decoder, generator) mirrors one: from a code through dense hidden
 * layers and, with convolutions, a dense projection to the last conv's
 * output shape, then transposed convolutions back to the image. */
typedef struct gm_model_topology {
    gm_shape image;            /* (c, h, w), or (D, 1, 1) for a flat vector */
    int labels;                /* one-hot classes: extra channels of the image (down), extra code columns (up) */
    int n_conv;
    const int32_t *conv;       /* channels of the down convolutions, image side first */
    int n_hidden;
    const int32_t *hidden;     /* dense widths, in the order the network runs them */
    int code;                  /* the code's width: down's output, up's input (labels aside) */
    int act, out_act;
    float slope;
    int norm;                  /* gm_normalization of the hidden layers */
    bool norm_first;           /* down: whether its first hidden layer is normalized too */
    int mbstd;                 /* down: a minibatch-stddev feature over groups of this many before the code, or 0 */
} gm_model_topology;

/* Declare the network in t under prefix. */
gm_status gm_model_build_down(gm_net *net, gm_param_table *t, const char *prefix, const gm_model_topology *top,
                              const char *who);
gm_status gm_model_build_up(gm_net *net, gm_param_table *t, const char *prefix, const gm_model_topology *top,
                            const char *who);

/* Where a sample's D values sit in the rows an encoder or discriminator
 * reads when a label joins them: pixels of c values, each followed by the
 * label's C one-hot columns (label planes of an image); a flat vector is
 * one pixel of D values, its label columns at the end. */
typedef struct gm_model_rows {
    int pixels, c, C;
} gm_model_rows;

static inline int gm_rows_width(const gm_model_rows *r) { return r->pixels * (r->c + r->C); }
/* the layout of a config's data: image shape (c, h, w), or flat D */
gm_model_rows gm_model_rows_of(int D, gm_shape image, int n_conv, int C);

/* rows (N, width) = the data values [d0, d1) of x (N, D), plus sigma
 * times noise (N, D) when sigma > 0; label columns are left alone */
void gm_model_rows_fill(const gm_model_rows *r, float *rows, const float *x, const float *noise, float sigma, int N,
                        int d0, int d1);
/* the label columns of N rows, one-hot */
void gm_model_rows_label(const gm_model_rows *r, float *rows, const int32_t *labels, int N);
/* x (N, D) = the data values of rows: the inverse of fill */
void gm_model_rows_gather(const gm_model_rows *r, float *x, const float *rows, int N);

/* Columns [at, at + C) of each of N rows, ld floats apart, become the
 * one-hot code of its label. */
void gm_model_onehot(float *rows, int ld, int at, const int32_t *labels, int N, int C);

/* A handle's place in a data-parallel run (gm_*_set_allreduce): worker
 * rank of size, its training rows [rank n, (rank + 1) n) of a global batch
 * of size n, averaging through fn; fn NULL (a zeroed record too): a single
 * process. */
typedef struct gm_model_worker {
    gm_allreduce_fn fn;
    void *ctx;
    int32_t rank, size;
} gm_model_worker;

/* The checks of gm_*_set_allreduce, then w set. */
gm_status gm_model_set_worker(gm_model_worker *w, gm_allreduce_fn fn, void *ctx, int32_t rank, int32_t size,
                              const char *who);
/* GM_ERR_INVALID_ARG unless the global batch, size n rows, is at most max. */
gm_status gm_model_check_global(const gm_model_worker *w, int32_t n, int32_t max, const char *who);
/* out (n, width): the worker's rows of the size n rows of width values a
 * single process's fill would draw; the generator moves on past all of
 * them. w NULL: a single process. */
void gm_model_normal_rows(const gm_model_worker *w, gm_rng *rng, float *out, int n, int width);
void gm_model_uniform_rows(const gm_model_worker *w, gm_rng *rng, float *out, int n, int width, float lo, float hi);
/* With a hook: average the table's gradients and the k figures (at most
 * GM_PARAM_FIGURES, read and then overwritten) across the workers in one
 * call. GM_OK at once without one; the hook's failure as a status. */
gm_status gm_model_reduce(const gm_model_worker *w, gm_param_table *t, double *figures, int k, const char *who);

#endif
