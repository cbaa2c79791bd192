/* What every model handle shares: input checks and one-hot columns. */
#ifndef GM_MODELS_MODEL_H
#define GM_MODELS_MODEL_H

#include <stdint.h>

#include "genmodel/common.h"

/* labels must be given exactly when n_classes > 0, each in [0, n_classes) */
gm_status gm_model_check_labels(const int32_t *labels, int32_t n, int32_t n_classes, const char *who);

/* Every one of x (n, dim) in [lo, hi] (so none NaN); else
 * GM_ERR_INVALID_ARG naming the first that is not and the domain. */
gm_status gm_model_check_values(const float *x, int32_t n, int32_t dim, float lo, float hi, const char *domain,
                                const char *who);

/* Columns [at, at + C) of each of N rows, ld floats apart, become the
 * one-hot code of its label. */
void gm_model_onehot(float *rows, int ld, int at, const int32_t *labels, int N, int C);

#endif
