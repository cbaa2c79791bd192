/* What every model handle shares: the checks of its config's sizes and of
 * every array a call is given, and one-hot columns. */
#ifndef GM_MODELS_MODEL_H
#define GM_MODELS_MODEL_H

#include <stdint.h>

#include "genmodel/common.h"
#include "nn/net.h"

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

/* Columns [at, at + C) of each of N rows, ld floats apart, become the
 * one-hot code of its label. */
void gm_model_onehot(float *rows, int ld, int at, const int32_t *labels, int N, int C);

#endif
