#include <string.h>

#include "model.h"
#include "core/error.h"
#include "core/simd.h"

/* Every step checks its whole batch, so the common answer comes from one
 * branch-free pass; only a bad batch is walked again to find the culprit. */
GM_VECTOR_CLONES static int all_within(const float *x, size_t count, float lo, float hi)
{
    int ok = 1;
    for (size_t i = 0; i < count; i++)
        ok &= x[i] >= lo && x[i] <= hi;
    return ok;
}

gm_status gm_model_check_values(const float *x, int32_t n, int32_t dim, float lo, float hi, const char *domain,
                                const char *who)
{
    const size_t count = (size_t)n * (size_t)dim;
    if (all_within(x, count, lo, hi))
        return GM_OK;
    size_t i = 0;
    while (x[i] >= lo && x[i] <= hi)
        i++;
    return gm_fail(GM_ERR_INVALID_ARG, "%s: x[%zu][%zu] = %g is outside %s", who, i / (size_t)dim,
                   i % (size_t)dim, (double)x[i], domain);
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

void gm_model_onehot(float *rows, int ld, int at, const int32_t *labels, int N, int C)
{
    for (int n = 0; n < N; n++) {
        float *r = rows + (size_t)n * ld + at;
        memset(r, 0, (size_t)C * sizeof *r);
        r[labels[n]] = 1.0f;
    }
}
